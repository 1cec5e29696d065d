// The campaign set-up's conditions (admin/_setup_rows.html): each row shows the
// parameter fields of the kind chosen only. Without JavaScript every parameter field is
// shown, and the server reads those of the kind.
(function () {
  "use strict";

  function show(row) {
    var kind = row.querySelector("select[name$='-kind']");
    if (!kind) { return; }
    row.querySelectorAll(".param[data-kinds]").forEach(function (param) {
      var kinds = param.getAttribute("data-kinds").split(" ");
      param.hidden = kind.value !== "" && kinds.indexOf(kind.value) < 0;
    });
  }

  document.querySelectorAll("[data-condition-row]").forEach(function (row) {
    show(row);
    row.addEventListener("change", function (event) {
      if (event.target.name && /-kind$/.test(event.target.name)) { show(row); }
    });
  });
})();
