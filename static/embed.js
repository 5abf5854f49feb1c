// Inside a vendor's iframe: tell the host page our height and what happened, addressed to the
// origin of the page that frames us when it is one of the organization's allowed origins (the
// browser's ancestorOrigins, else the origin the server saw at the hand-off). Only when neither
// is known does a message go to each allowed origin; the browser drops it at the others.
(function () {
  "use strict";
  var body = document.body;
  if (!body || !body.classList.contains("embedded") || window.parent === window) return;
  var allowed = JSON.parse(body.getAttribute("data-embed-origins") || "[]");
  var ancestors = window.location.ancestorOrigins;
  var parent = (ancestors && ancestors.length ? ancestors[0] : "") ||
    body.getAttribute("data-parent-origin") || "";
  var origins = allowed.indexOf(parent) !== -1 ? [parent] : allowed;

  function post(message) {
    message.source = "team-portal";
    origins.forEach(function (origin) { window.parent.postMessage(message, origin); });
  }

  var lastHeight = 0;
  function reportHeight() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== lastHeight) {
      lastHeight = height;
      post({ type: "resize", height: height });
    }
  }
  new ResizeObserver(reportHeight).observe(document.documentElement);
  reportHeight();

  JSON.parse(body.getAttribute("data-portal-events") || "[]").forEach(post);
  body.addEventListener("portal-event", function (event) {
    (event.detail.events || []).forEach(post);
  });
})();
