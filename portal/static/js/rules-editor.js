// Live preview of a rules draft: the server renders and sanitizes, as on the public page.
(function () {
  "use strict";
  var form = document.getElementById("rules-form");
  if (!form) { return; }
  var url = form.getAttribute("data-preview-url");
  var token = form.querySelector("input[name=csrf_token]").value;

  function refresh(pane, textarea) {
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ body: textarea.value })
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (data) {
      pane.querySelector(".preview-content").innerHTML = data.html;
      pane.querySelector(".preview-problems").textContent = data.problems.join("; ");
    }).catch(function () {
      pane.querySelector(".preview-problems").textContent = "…";
    });
  }

  document.querySelectorAll(".preview-pane").forEach(function (pane) {
    var textarea = document.getElementById(pane.getAttribute("data-preview-for"));
    var timer = null;
    textarea.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { refresh(pane, textarea); }, 300);
    });
    refresh(pane, textarea);
  });
})();
