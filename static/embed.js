// Inside a vendor's iframe: tell the host page our height and what happened, only at the
// organization's allowed origins (a message to any other origin is dropped by the browser).
(function () {
  "use strict";
  var body = document.body;
  if (!body || !body.classList.contains("embedded") || window.parent === window) return;
  var origins = JSON.parse(body.getAttribute("data-embed-origins") || "[]");

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
