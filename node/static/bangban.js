// Bangban field app: local script only (no CDN). Signature pad, live sync badge.
(function () {
  "use strict";
  // The staff at the window (page header): a choice takes effect at once. On a page with a
  // form being filled (a consultation refused for want of a staff member, 8.1.2) it is
  // sent in the background: the header form's page change lost what was typed, and from
  // a refused consultation (a POST's page) led to 此地址不能直接打开.
  var filling = document.querySelector("main form.card[method=post]:not([role=search])");
  document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
    // From the keyboard the arrows walk a closed select's options, a change at each press:
    // taken at once, the first press sent the page away (a clerk with only a keyboard could
    // never reach the third name; GB/T 37668, WCAG 3.2.2 on input). A keyboard choice is
    // taken on Enter or when the focus leaves the select; a mouse's at once, as before.
    var keyed = false;
    sel.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { if (keyed) { e.preventDefault(); keyed = false; take(); } }
      else if (e.key !== "Tab" && e.key !== "Shift" && e.key !== "Escape") { keyed = true; }
    });
    sel.addEventListener("blur", function () { if (keyed) { keyed = false; take(); } });
    sel.addEventListener("change", function () { if (!keyed) { take(); } });
    function take() {
      if (!sel.value || sel.value === sel.dataset.staff) { return; }
      if (!filling || !window.fetch) { sel.form.submit(); return; }
      fetch("/api/staff", {method: "POST", credentials: "same-origin",
                           headers: {"Content-Type": "application/json"},
                           body: JSON.stringify({staff: sel.value})})
        .then(function (r) { if (!r.ok) { throw r; } return r.json(); })
        .then(function (s) {
          sel.dataset.staff = s.staff || ""; sel.classList.remove("bad"); sel.removeAttribute("aria-invalid");
          var said = document.getElementById("window-staff-said");
          if (!said) {
            said = document.createElement("span"); said.id = "window-staff-said"; said.setAttribute("role", "status");
            sel.form.appendChild(said);
          }
          said.textContent = " ✓ " + sel.options[sel.selectedIndex].text;
        })
        .catch(function () { sel.form.submit(); });
    }
  });
  // A refused form: the focus on the first input the refusal names (aria-invalid), so a
  // clerk on the keyboard, or hearing a screen reader, starts where the fix is, its rule
  // read with it (aria-describedby); before, the focus was at the page's top, past the menu.
  var wrong = document.querySelector("main form [aria-invalid=true]");
  if (wrong && wrong.tagName === "FIELDSET") { wrong = wrong.querySelector("input"); }
  if (wrong) { wrong.focus(); }
  // A table's scroll box (.scroll, macros.html) is a Tab stop only while it scrolls: on a
  // phone or at 200 % zoom the keyboard scrolls it; at 1366 px the home page's five lists
  // would be five stops that do nothing.
  function scrollStops() {
    document.querySelectorAll(".scroll").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth) { box.setAttribute("tabindex", "0"); }
      else { box.removeAttribute("tabindex"); }
    });
  }
  scrollStops();
  window.addEventListener("resize", scrollStops);
  // One save per click: a double-click on 保存 (or a second click while a slow laptop, a
  // big scan or the hub-less disk is still saving) sent the form twice, and the node stored
  // both: two cases with two numbers, two work logs, two urges. The first submission holds
  // the form until the answer replaces the page; after 10 s it may be sent again (a request
  // that never came back), and a page brought back by the browser's Back is fresh.
  function release(form) { delete form.dataset.sending; }
  document.querySelectorAll("form[method=post]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (form.dataset.sending) { e.preventDefault(); return; }
      // a press that sends many notices at once (the town's 催办所列全部) asks first
      if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) { e.preventDefault(); return; }
      form.dataset.sending = "1";
      // the form's one-save token (node.once), kept for this tab: Back brings the form
      // again with what was typed, and a fresh token the node would take for a new form
      var once = form.querySelector("input[name=once]");
      if (once && window.sessionStorage) {
        try { sessionStorage.setItem("bangban-once:" + form.getAttribute("action"), once.value); } catch (err) {}
      }
      setTimeout(function () { release(form); }, 10000);
    });
  });
  var nav = window.performance && performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
  if (nav && nav.type === "back_forward" && window.sessionStorage) {
    document.querySelectorAll("form[method=post] input[name=once]").forEach(function (once) {
      var kept = null;
      try { kept = sessionStorage.getItem("bangban-once:" + once.form.getAttribute("action")); } catch (err) {}
      if (kept) { once.value = kept; }
    });
  }
  window.addEventListener("pageshow", function (e) {
    if (e.persisted) { document.querySelectorAll("form[data-sending]").forEach(release); }
  });
  // Something typed into a form and not saved yet: if the keys lock meanwhile (idle lock,
  // the app restarted), the unlock page says it was not saved instead of dropping it unsaid.
  var edited = false;
  document.querySelectorAll("form[method=post]:not(.inline):not([role=search])").forEach(function (form) {
    form.addEventListener("input", function () { edited = true; });
  });
  // Signature pad: draw with mouse, pen or finger; the PNG goes into a hidden field.
  document.querySelectorAll("canvas.sigpad").forEach(function (canvas) {
    var field = document.getElementById(canvas.dataset.field);
    var ctx = canvas.getContext("2d");
    var drawing = false, drawn = false;
    function fit() {
      var r = canvas.getBoundingClientRect();
      canvas.width = Math.max(300, Math.round(r.width)); canvas.height = Math.max(120, Math.round(r.height));
      ctx.lineWidth = 2.5; ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = "#111";
    }
    fit();
    // A form refused on another input comes back with the signature in the hidden field:
    // show it, so the applicant is not asked to sign again for nothing.
    if (field.value.indexOf("data:image/png;base64,") === 0) {
      var img = new Image();
      img.onload = function () { ctx.drawImage(img, 0, 0); drawn = true; };
      img.src = field.value;
    }
    function pos(e) { var r = canvas.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; }
    canvas.addEventListener("pointerdown", function (e) {
      drawing = true; canvas.setPointerCapture(e.pointerId); var p = pos(e); ctx.beginPath(); ctx.moveTo(p[0], p[1]);
    });
    canvas.addEventListener("pointermove", function (e) {
      if (!drawing) return; var p = pos(e); ctx.lineTo(p[0], p[1]); ctx.stroke(); drawn = true;
    });
    function end() { if (drawing && drawn) { field.value = canvas.toDataURL("image/png"); edited = true; } drawing = false; }
    canvas.addEventListener("pointerup", end); canvas.addEventListener("pointerleave", end);
    // Keyboard users (no pointer): Enter on the focused pad signs with a drawn mark of "typed" consent.
    canvas.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); ctx.font = "28px sans-serif"; ctx.fillText("✓ " + (canvas.dataset.mark || ""), 20, canvas.height / 2);
        drawn = true; field.value = canvas.toDataURL("image/png"); }
    });
    var clear = document.getElementById(canvas.dataset.clear);
    if (clear) clear.addEventListener("click", function () { ctx.clearRect(0, 0, canvas.width, canvas.height); drawn = false; field.value = ""; });
  });
  // Service item picker: show the checklist of the chosen item without a round trip.
  // The others are disabled, so not posted: materials share codes across items (M01 …),
  // and one ticked for an item chosen first counted the chosen item's M01 as brought,
  // left off the one-time notification (10.1.4).
  var picker = document.getElementById("service_item");
  if (picker) {
    var show = function () {
      document.querySelectorAll("[data-item-checklist]").forEach(function (el) {
        el.hidden = el.dataset.itemChecklist !== picker.value;
        el.disabled = el.hidden;
      });
    };
    picker.addEventListener("change", show); show();
  }
  // Sync badge: refresh every 10 s from the node itself (loopback).
  var badge = document.getElementById("sync-badge");
  if (badge && window.fetch) {
    setInterval(function () {
      fetch("/sync/status.json").then(function (r) { return r.json(); }).then(function (s) {
        if (s.locked) {  // idle lock: take the applicant's data off the screen
          window.location.href = "/unlock?next=" + encodeURIComponent(location.pathname + location.search)
            + (edited ? "&unsaved=1" : "");
          return;
        }
        badge.textContent = badge.textContent.split("：")[0] + "：" + s.label;
        badge.className = "sync-badge sync-" + s.status;
      }).catch(function () {});
    }, 10000);
  }
})();
