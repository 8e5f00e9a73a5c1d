// A complaint box's live count (投诉内容: the public form, and the supervisor's intake; 处理情况:
// each open complaint's handling on the intake page, named by the box's data-label): a
// paste longer than the limit was cut by the box's maxlength without a word, the end of
// the text lost. The box has no maxlength now; this says how many characters are left,
// and plainly when there are too many, and keeps a form too long from being sent. Without
// this script the server refuses the text by its name (投诉内容：不超过…字, 处理情况：…) and gives it
// back whole (the public form as far as it reads a body too long, public_views.GIVEN_BACK).
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("textarea[data-max]"), function (box) {
    var out = document.getElementById(box.getAttribute("data-count"));
    var max = parseInt(box.getAttribute("data-max"), 10);
    var label = box.getAttribute("data-label") || "投诉内容";  // the field the server names
    if (!out || !max) { return; }
    function length() { return Array.from(box.value).length; }  // characters, as the server counts
    function show() {
      var n = length();
      if (n > max) {
        out.textContent = "已超出 " + (n - max) + " 字：" + label + "不超过 " + max + " 字，请删减后再提交。";
        out.className = "err";
      } else {
        out.textContent = "已输入 " + n + " 字，还可输入 " + (max - n) + " 字（不超过 " + max + " 字）。";
        out.className = "";
      }
    }
    box.addEventListener("input", show);
    // sent too long it comes back refused (or, past the public form's byte limit, not at
    // all): kept here instead, the message read out and the box focused to cut it down
    box.form.addEventListener("submit", function (e) {
      if (length() > max) {
        e.preventDefault();
        show();
        out.setAttribute("role", "alert");
        box.focus();
      }
    });
    show();
  });
}());
