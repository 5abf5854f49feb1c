// What htmx does not do by itself: the phone menu, row menus, confirmation dialogs, toasts, and
// where focus goes after a swap. Every page works without this file; it only makes it smoother.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");

  var SUCCESS_MS = 5000;
  var ICONS = {
    success: '<circle cx="12" cy="12" r="9"/><path d="m8 12 3 3 5-6"/>',
    error: '<circle cx="12" cy="12" r="9"/><path d="M12 7v6M12 16.5v.5"/>',
    info: '<circle cx="12" cy="12" r="9"/><path d="M12 11v6M12 7.5v.5"/>'
  };
  var lastTrigger = null;   // the control that started the latest request
  var triggerTop = null;    // where that control was on the page when it was used
  var announcedToasts = 0;  // toasts the host page was already asked to show
  var pendingFocus = null;  // {id, next}: where focus goes if the row `id` is swapped away

  function embedded() { return document.body.classList.contains("embedded"); }

  // ---- phone navigation ------------------------------------------------------------------
  function setUpNav() {
    var toggle = document.querySelector(".nav-toggle");
    var panel = document.getElementById("nav-panel");
    if (!toggle || !panel) return;
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      panel.classList.toggle("open", open);
    });
  }

  // ---- row menus (<details data-menu>) ---------------------------------------------------
  function closeMenus(except) {
    document.querySelectorAll("details[data-menu][open]").forEach(function (menu) {
      if (menu !== except) menu.open = false;
    });
  }
  document.addEventListener("toggle", function (event) {
    var menu = event.target;
    if (!(menu instanceof HTMLDetailsElement) || !menu.hasAttribute("data-menu") || !menu.open) return;
    closeMenus(menu);
    var first = menu.querySelector(".menu-items a, .menu-items button");
    if (first && menu.dataset.keyboard === "1") first.focus();
  }, true);
  document.addEventListener("click", function (event) {
    if (!event.target.closest("details[data-menu]")) closeMenus(null);
    var item = event.target.closest(".menu-items a, .menu-items button");
    if (item) {
      var menu = item.closest("details[data-menu]");
      lastTrigger = menu.querySelector("summary");
      menu.open = false;
    }
  });
  document.addEventListener("keydown", function (event) {
    var summary = event.target.closest && event.target.closest("details[data-menu] > summary");
    if (summary && (event.key === "Enter" || event.key === " " || event.key === "ArrowDown")) {
      summary.parentElement.dataset.keyboard = "1";
      if (event.key === "ArrowDown") { event.preventDefault(); summary.parentElement.open = true; }
    }
    var menu = event.target.closest && event.target.closest("details[data-menu]");
    if (!menu || !menu.open) return;
    var items = Array.prototype.slice.call(menu.querySelectorAll(".menu-items a, .menu-items button"));
    var at = items.indexOf(document.activeElement);
    if (event.key === "Escape") {
      event.preventDefault();
      menu.open = false;
      menu.querySelector("summary").focus();
    } else if ((event.key === "ArrowDown" || event.key === "ArrowUp") && items.length && at !== -1) {
      event.preventDefault();
      var next = (at + (event.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
      items[next].focus();
    }
  });
  document.addEventListener("focusout", function (event) {
    var menu = event.target.closest && event.target.closest("details[data-menu]");
    if (menu && event.relatedTarget && !menu.contains(event.relatedTarget)) menu.open = false;
  });

  // ---- confirmation dialogs --------------------------------------------------------------
  function openDialogs(scope) {
    (scope || document).querySelectorAll("dialog[data-open]").forEach(function (dialog) {
      dialog.removeAttribute("data-open");
      if (!dialog.dataset.opener && lastTrigger) dialog.dataset.openerId = rememberId(lastTrigger);
      dialog.addEventListener("close", function () {
        var opener = dialog.dataset.openerId && document.getElementById(dialog.dataset.openerId);
        var slot = dialog.parentElement;
        dialog.remove();
        if (dialog.dataset.done !== "1" && opener) opener.focus();
        if (slot) slot.innerHTML = "";
      });
      if (!dialog.open) dialog.showModal();
      var target = dialog.querySelector("[data-focus-next]") || dialog.querySelector("input:not([type=hidden])");
      if (target) target.focus();
    });
  }
  function rememberId(el) {
    if (!el.id) el.id = "opener-" + Math.random().toString(36).slice(2);
    return el.id;
  }
  document.addEventListener("click", function (event) {
    var close = event.target.closest("[data-close-dialog]");
    var dialog = close && close.closest("dialog");
    if (dialog) { event.preventDefault(); dialog.close(); }
  });

  // ---- toasts ----------------------------------------------------------------------------
  function armToast(toast) {
    if (toast.dataset.armed) return;
    toast.dataset.armed = "1";
    var close = toast.querySelector(".toast-close");
    if (close) close.addEventListener("click", function () { toast.remove(); announcedToasts = Math.max(0, announcedToasts - 1); });
    if (toast.dataset.kind !== "error") {
      var left = SUCCESS_MS, started = Date.now(), timer = null;
      var run = function () { started = Date.now(); timer = setTimeout(function () { toast.remove(); }, left); };
      var pause = function () { if (timer) { clearTimeout(timer); timer = null; left -= Date.now() - started; } };
      toast.addEventListener("mouseenter", pause);
      toast.addEventListener("focusin", pause);
      toast.addEventListener("mouseleave", function () { if (!timer && !toast.contains(document.activeElement)) run(); });
      toast.addEventListener("focusout", function (e) { if (!timer && !toast.contains(e.relatedTarget)) run(); });
      run();
    }
  }
  function placeToasts() {
    var region = document.getElementById("toasts");
    if (!region || !region.children.length) return;
    region.classList.remove("toasts-flip");
    if (embedded()) {
      // The frame is as tall as its page, so "fixed" would be far below what the host shows:
      // put the toasts just above the control that caused them (where it was when clicked; the
      // swap may have replaced it), and ask the host, once per new toast, to show them.
      var anchorTop = triggerTop !== null ? triggerTop
        : (document.activeElement || document.body).getBoundingClientRect().top + window.scrollY;
      var top = Math.max(8, Math.round(anchorTop - region.offsetHeight - 12));
      region.style.top = top + "px";
      if (region.children.length > announcedToasts) {
        document.body.dispatchEvent(new CustomEvent("portal-event", { detail: { events: [
          { type: "scroll-into-view", top: top, height: region.offsetHeight }] } }));
      }
      announcedToasts = region.children.length;
      return;
    }
    // Never cover the control that caused them: move to the other edge if they would.
    if (lastTrigger && lastTrigger.isConnected && overlaps(region, lastTrigger)) region.classList.add("toasts-flip");
  }
  function overlaps(a, b) {
    var r = a.getBoundingClientRect(), s = b.getBoundingClientRect();
    return !(r.right < s.left || r.left > s.right || r.bottom < s.top || r.top > s.bottom);
  }
  function sweepToasts() {
    document.querySelectorAll("#toasts .toast").forEach(armToast);
    placeToasts();
  }
  function toast(kind, message) {
    var region = document.getElementById("toasts");
    if (!region) return;
    var el = document.createElement("div");
    el.className = "toast toast-" + kind;
    el.dataset.kind = kind;
    el.innerHTML = '<svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">' + ICONS[kind] +
      '</svg><span class="toast-text"></span><button type="button" class="toast-close" aria-label="Dismiss">×</button>';
    el.querySelector(".toast-text").textContent = message;
    region.appendChild(el);
    sweepToasts();
  }

  // ---- focus after swaps -----------------------------------------------------------------
  function focusNext() {
    var marked = document.querySelectorAll("[data-focus-next]");
    if (marked.length) {
      var target = marked[0];
      marked.forEach(function (el) { el.removeAttribute("data-focus-next"); });
      if (!target.closest("dialog")) { target.focus(); return; }
    }
    if (pendingFocus) {
      var removed = pendingFocus;
      pendingFocus = null;
      if (!document.getElementById(removed.id) && removed.next.isConnected) removed.next.focus();
    }
  }
  function afterRemoval(row) {
    var next = row.nextElementSibling || row.previousElementSibling;
    var control = next && (next.querySelector("details[data-menu] > summary") || next);
    if (control && control === next) next.tabIndex = -1;
    return control || document.getElementById("member-summary") || document.querySelector(".table-summary") ||
      document.getElementById("main");
  }

  // ---- htmx wiring -----------------------------------------------------------------------
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    var cause = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
    // Only what a person did moves the anchor; a refresh htmx starts itself does not.
    if (elt && !elt.closest("dialog") && cause && cause.isTrusted) {
      var submitter = cause.submitter;
      lastTrigger = elt.matches("form") ? submitter || elt.querySelector("[type=submit]") || elt : elt;
      triggerTop = lastTrigger.getBoundingClientRect().top + window.scrollY;
    }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    // A row may be swapped for nothing (removed): remember where focus should go then.
    if (target && target.matches && target.matches("tr[id]") && event.detail.shouldSwap) {
      pendingFocus = { id: target.id, next: afterRemoval(target) };
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var dialog = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("dialog");
    if (dialog && event.detail.successful && event.detail.xhr.status < 300) {
      dialog.dataset.done = "1";
      dialog.close();
    }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    openDialogs(event.detail.target);
    localizeTimes(event.detail.target);
    focusNext();
    sweepToasts();
  });
  document.addEventListener("htmx:oobAfterSwap", sweepToasts);
  document.addEventListener("htmx:responseError", function () {
    toast("error", "Something went wrong on our side. Please try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    toast("error", "Could not reach the server. Check your connection and try again.");
  });

  // ---- times in the viewer's time zone --------------------------------------------------
  // The server writes UTC (what a page without JavaScript shows); here each event's time is
  // shown in local time, and the timeline is regrouped under local days.
  function localizeTimes(scope) {
    var timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });  // "4:24 PM", "16:24"
    var dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
    var fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "long" });  // "Wednesday, 2 December 2026 at 16:24:05 CET"
    (scope || document).querySelectorAll("[data-timeline]").forEach(function (list) {
      var lastDay = null;
      list.querySelectorAll("[data-day-heading]").forEach(function (h) { h.remove(); });
      list.querySelectorAll("li.event").forEach(function (item) {
        var time = item.querySelector("time[data-local]");
        var moment = new Date(time.getAttribute("datetime"));
        if (isNaN(moment)) return;
        time.textContent = timeFormat.format(moment);
        time.title = fullFormat.format(moment);
        var day = dayFormat.format(moment);
        if (day !== lastDay) {
          lastDay = day;
          var heading = document.createElement("li");
          heading.className = "day-heading";
          heading.setAttribute("data-day-heading", "");
          heading.innerHTML = '<h2 class="day"></h2>';
          heading.firstChild.textContent = day;
          list.insertBefore(heading, item);
        }
      });
    });
  }

  // "Add member" at the top jumps to the form and puts the cursor in its first field.
  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-focus-target]");
    var field = link && document.querySelector(link.getAttribute("data-focus-target"));
    if (field) {
      event.preventDefault();
      field.scrollIntoView({ block: "center", behavior: "smooth" });
      field.focus({ preventScroll: true });
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    setUpNav();
    localizeTimes(document);
    sweepToasts();
  });
})();
