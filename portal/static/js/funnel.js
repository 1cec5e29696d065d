// Draw the funnel bars from their data-share (percent); CSP forbids inline styles.
(function () {
  "use strict";
  document.querySelectorAll(".funnel .bar[data-share]").forEach(function (bar) {
    bar.style.setProperty("--share", bar.getAttribute("data-share") + "%");
  });
})();
