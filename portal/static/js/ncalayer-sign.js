// Signs the act in the browser through NCALayer (the NCA RK's signing application on the
// winner's computer; KAZTOKEN speaks the same protocol): fetches the act's exact bytes,
// asks NCALayer's "basics" module for a signature kept apart from the act, made with a
// signing key and carrying NCA's timestamp, and posts it with the form. Without NCALayer
// the page says how to install it and points to the other ways; the upload form works
// as it is. The protocol (SIGNING.md): NCALayer speaks first ({"result":{"version":…}});
// the client probes for KAZTOKEN, then sends one request at a time.
(function () {
  "use strict";
  var button = document.getElementById("ncalayer-sign");
  if (!button || !window.WebSocket) { return; }
  var form = button.closest("form");
  var status = document.getElementById("ncalayer-status");
  var missing = document.getElementById("ncalayer-missing");
  var GREETING_WAIT_MS = 10000; // an open port that never greets is not NCALayer

  function say(key, detail) {
    var text = button.getAttribute("data-" + key) || key;
    status.textContent = detail ? text + " (" + detail + ")" : text;
    if (missing) { missing.hidden = key !== "missing"; }
    if (key === "missing") { offerQrWhereItIs(); }
  }

  // The QR signing section (#egov-qr) is offered only when the page has it.
  function offerQrWhereItIs() {
    var qr = document.getElementById("ncalayer-qr"), file = document.getElementById("ncalayer-file");
    var here = Boolean(document.getElementById("egov-qr"));
    if (qr && file) { qr.hidden = !here; file.hidden = here; }
  }

  function failure(key, detail) {
    var error = new Error(key);
    error.detail = detail;
    return error;
  }

  function toBase64(buffer) {
    var bytes = new Uint8Array(buffer), chunks = [], step = 0x8000;
    for (var i = 0; i < bytes.length; i += step) {
      chunks.push(String.fromCharCode.apply(null, bytes.subarray(i, i + step)));
    }
    return window.btoa(chunks.join(""));
  }

  // The CMS as base64: NCALayer answers base64 or PEM, alone or in a one-element array.
  function cmsOf(result) {
    var text = String(Array.isArray(result) ? result[0] : result);
    return text.replace(/-----(BEGIN|END)[^-]*-----/g, "").replace(/\s+/g, "");
  }

  function signRequest(data) {
    return {
      module: "kz.gov.pki.knca.basics",
      method: "sign",
      args: {
        allowedStorages: null,
        format: "cms",
        data: data,
        // the act stays outside the signature; tsaProfile {}: NCA's RFC 3161 timestamp
        signingParams: { decode: true, encapsulate: false, digested: false, tsaProfile: {} },
        signerParams: { extKeyUsageOids: ["1.3.6.1.5.5.7.3.4"] }, // a signing key
        locale: document.documentElement.lang === "kk" ? "kk" : "ru"
      }
    };
  }

  function askNcaLayer(url, data) {
    return new Promise(function (resolve, reject) {
      var step = "greeting", done = false, socket, timer;
      function finish(error, cms) {
        if (done) { return; }
        done = true;
        window.clearTimeout(timer);
        socket.close();
        if (error) { reject(error); } else { resolve(cms); }
      }
      try { socket = new WebSocket(url); } catch (e) { reject(failure("missing")); return; }
      timer = window.setTimeout(function () { finish(failure("missing")); }, GREETING_WAIT_MS);
      socket.onerror = socket.onclose = function () {
        finish(failure(step === "greeting" ? "missing" : "failed"));
      };
      socket.onmessage = function (event) {
        var answer;
        try { answer = JSON.parse(event.data); } catch (e) { finish(failure("failed")); return; }
        if (step === "greeting") {
          if (!answer || !answer.result || !answer.result.version) { finish(failure("missing")); return; }
          window.clearTimeout(timer);
          step = "probe"; // KAZTOKEN answers code "200", NCALayer an error: both sign alike
          socket.send(JSON.stringify({ module: "kz.digiflow.mobile.extensions", method: "getVersion" }));
        } else if (step === "probe") {
          step = "sign";
          say("working");
          socket.send(JSON.stringify(signRequest(data)));
        } else if (answer && answer.status === true) {
          var result = answer.body && answer.body.result;
          if (result && (!Array.isArray(result) || result.length)) { finish(null, cmsOf(result)); }
          else { finish(failure("cancelled")); } // {"status":true,"body":{}}: the user closed it
        } else {
          finish(failure("failed", answer && (answer.message || answer.code)));
        }
      };
    });
  }

  button.hidden = false;
  button.addEventListener("click", function () {
    button.disabled = true;
    say("connecting");
    fetch(button.getAttribute("data-act"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw failure("failed"); }
        return response.arrayBuffer();
      })
      .then(function (buffer) { return askNcaLayer(button.getAttribute("data-url"), toBase64(buffer)); })
      .then(function (cms) {
        form.querySelector("input[name=cms_base64]").value = cms;
        say("sending");
        form.submit();
      })
      .catch(function (error) {
        button.disabled = false;
        say(error.message in { missing: 1, cancelled: 1, failed: 1 } ? error.message : "failed", error.detail);
      });
  });
}());
