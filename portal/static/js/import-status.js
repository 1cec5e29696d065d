// Follow a running import: poll its state, update the bar, reload the page when it ends.
(function () {
  "use strict";
  var box = document.getElementById("import-status");
  if (!box) { return; }
  var status = box.getAttribute("data-status");
  if (status !== "pending" && status !== "running") { return; }
  var url = box.getAttribute("data-status-url");
  var bar = box.querySelector("progress");
  function poll() {
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (state) {
      if (state.percent === null) {
        bar.hidden = true;  // a failed import has no progress to show: the page tells why
      } else {
        bar.value = state.percent;
        bar.textContent = state.percent + " %";
      }
      box.querySelector(".done").textContent = state.progress;
      box.querySelector(".total").textContent = state.rows;
      if (state.status === "done" || state.status === "failed") { window.location.reload(); return; }
      setTimeout(poll, 1000);
    }).catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
