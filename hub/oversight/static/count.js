// The public complaint box's live count (hub.oversight.public_views): a paste longer than
// the limit was cut by maxlength without a word. The box has no maxlength; this says how
// many characters are left, and plainly when there are too many. Without this script the
// server refuses the text by name (投诉内容：不超过…字) and gives it back whole (up to the
// form's byte limit, public_views.MAX_BODY: about 3,500 Chinese characters).
(function () {
  "use strict";
  var box = document.getElementById("f-text");
  var out = document.getElementById("text-count");
  if (!box || !out) { return; }
  var max = parseInt(box.getAttribute("data-max"), 10);
  function show() {
    var n = Array.from(box.value).length;  // characters, as the server counts them
    if (n > max) {
      out.textContent = "已超出 " + (n - max) + " 字：投诉内容不超过 " + max + " 字，请删减后再提交。";
      out.className = "err";
    } else {
      out.textContent = "已输入 " + n + " 字，还可输入 " + (max - n) + " 字（不超过 " + max + " 字）。";
      out.className = "";
    }
  }
  box.addEventListener("input", show);
  // sent too long it comes back refused (or, past the form's byte limit, not at all): kept
  // here instead, the message read out and the box focused to cut it down
  box.form.addEventListener("submit", function (e) {
    if (Array.from(box.value).length > max) {
      e.preventDefault();
      show();
      out.setAttribute("role", "alert");
      box.focus();
    }
  });
  show();
}());
