// What every form of the portal shares (loaded by base.html, so on every page):
// 1. A confirmation before what cannot be undone: a form, or its submit button, with
//    data-confirm="…" asks first (the text, computed by the server, says what will
//    happen); data-confirm-if="ID" asks only while the checkbox ID is ticked. Without
//    JavaScript the form posts as it is.
// 2. The error summary of a form sent back with errors takes the focus, and its links
//    move the focus to the field they name.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var holder = button && button.hasAttribute("data-confirm") ? button : form;
    var text = holder.getAttribute("data-confirm");
    if (!text) { return; }
    var only = holder.getAttribute("data-confirm-if");
    if (only) {
      var box = document.getElementById(only);
      if (!box || !box.checked) { return; }
    }
    if (!window.confirm(text)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.scrollIntoView({ block: "start", behavior: "instant" });
    summary.focus({ preventScroll: true });
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      var target = link && document.getElementById(link.getAttribute("href").slice(1));
      if (!target) { return; }
      event.preventDefault();
      target.scrollIntoView({ block: "center", behavior: "instant" });
      target.focus({ preventScroll: true });
    });
  }
})();
