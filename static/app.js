// Small behaviours that htmx does not cover: toasts fade out, server errors become a toast.
(function () {
  "use strict";
  function dismissLater(toast) {
    if (toast.dataset.timer) return;
    toast.dataset.timer = "1";
    setTimeout(function () { toast.remove(); }, 6000);
  }
  function sweep() { document.querySelectorAll("#toasts .toast").forEach(dismissLater); }
  document.addEventListener("DOMContentLoaded", sweep);
  document.addEventListener("htmx:afterSettle", sweep);
  document.addEventListener("htmx:oobAfterSwap", sweep);
  function toast(message) {
    var region = document.getElementById("toasts");
    if (!region) return;
    var el = document.createElement("div");
    el.className = "toast toast-error";
    el.textContent = message;
    region.appendChild(el);
    dismissLater(el);
  }
  document.addEventListener("htmx:responseError", function () {
    toast("Something went wrong on our side. Please try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    toast("Could not reach the server. Check your connection and try again.");
  });
})();
