// Signs the act in the browser through NCALayer (the NCA RK's signing application on the
// winner's computer): fetches the act's exact bytes, asks NCALayer's "basics" module for a
// detached CMS made with a signing key, and posts it with the form. Without NCALayer the
// page's upload form works as it is.
(function () {
  "use strict";
  var button = document.getElementById("ncalayer-sign");
  if (!button || !window.WebSocket) { return; }
  var form = button.closest("form");
  var status = document.getElementById("ncalayer-status");
  var say = function (key) { status.textContent = button.getAttribute("data-" + key) || key; };

  function toBase64(buffer) {
    var bytes = new Uint8Array(buffer), chunks = [], step = 0x8000;
    for (var i = 0; i < bytes.length; i += step) {
      chunks.push(String.fromCharCode.apply(null, bytes.subarray(i, i + step)));
    }
    return window.btoa(chunks.join(""));
  }

  function askNcaLayer(data) {
    return new Promise(function (resolve, reject) {
      var socket = new WebSocket("wss://127.0.0.1:13579/");
      socket.onerror = function () { reject(new Error("no-ncalayer")); };
      socket.onopen = function () {
        socket.send(JSON.stringify({
          module: "kz.gov.pki.knca.basics",
          method: "sign",
          args: {
            allowedStorages: null,
            format: "cms",
            data: data,
            signingParams: { decode: true, encapsulate: false, digested: false },
            signerParams: { extKeyUsageOids: ["1.3.6.1.5.5.7.3.4"] },
            locale: document.documentElement.lang === "kk" ? "kk" : "ru"
          }
        }));
      };
      socket.onmessage = function (event) {
        var answer;
        try { answer = JSON.parse(event.data); } catch (e) { return; }
        if (answer.status === undefined && answer.result === undefined) { return; } // greeting
        socket.close();
        var result = answer.body && answer.body.result;
        if (answer.status && result) { resolve(Array.isArray(result) ? result[0] : result); }
        else { reject(new Error(answer.code === "USER_CANCELED" ? "cancelled" : "failed")); }
      };
    });
  }

  button.hidden = false;
  button.addEventListener("click", function () {
    button.disabled = true;
    say("working");
    fetch(button.getAttribute("data-act"), { credentials: "same-origin" })
      .then(function (response) { return response.arrayBuffer(); })
      .then(function (buffer) { return askNcaLayer(toBase64(buffer)); })
      .then(function (cms) {
        form.querySelector("input[name=cms_base64]").value = cms.replace(/\s+/g, "");
        say("sending");
        form.submit();
      })
      .catch(function (error) {
        button.disabled = false;
        say(error.message === "no-ncalayer" ? "missing" : error.message);
      });
  });
}());
