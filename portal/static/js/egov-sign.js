// Follow a signing session of eGov Mobile's QR code without reloading the page: its
// state and, when refused, why. Without this script the page's "check again" link does it.
(function () {
  "use strict";
  var box = document.getElementById("egov-session");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  if (!url || box.getAttribute("data-status") !== "waiting") { return; }
  var status = document.getElementById("egov-status");
  var reasons = document.getElementById("egov-reasons");

  function show(state) {
    box.setAttribute("data-status", state.status);
    status.textContent = state.message;
    if (state.status === "waiting") { return false; }
    status.className = state.status === "signed" ? "flash success" : "warning";
    reasons.textContent = "";
    state.reasons.forEach(function (reason) {
      var item = document.createElement("li");
      item.className = "not-ok";
      item.textContent = "\u2717 " + reason;
      reasons.appendChild(item);
    });
    ["egov-qr-code", "egov-check"].forEach(function (id) {
      var element = document.getElementById(id);
      if (element) { element.hidden = true; }
    });
    var badge = document.getElementById("winner-status");
    if (badge) {
      badge.textContent = state.winner_status_name;
      badge.className = "badge status-" + state.winner_status;
    }
    var again = document.getElementById("egov-start");
    if (again && state.status !== "signed") { again.hidden = false; }
    if (state.status === "signed") {
      // the other ways of signing no longer apply
      ["eds-heading", "manual-heading"].forEach(function (id) {
        var heading = document.getElementById(id);
        if (heading && heading.parentNode) { heading.parentNode.hidden = true; }
      });
    }
    return true;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (state) { if (!show(state)) { setTimeout(poll, 2000); } })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 1000);
})();
