// "Check this draw here": the record page's own check of its draw, made by the reader's
// browser with its Web Crypto API, from the draw's public files (docs/DESIGN.md, "The draw",
// 6). The same steps as verify.py: the pool digest, userData, the request, the signature,
// the key, the winners' positions, the winners' prizes, the ledger. The texts are the
// page's (data-text-*), in its language; "{name}" in them is filled in here. What is code
// among the page's words (a field of the record, a file name, a digest, a time as
// random.org writes it, the raw values a step found) is shown in <code> elements, never as words of the language.
//
// When the page says data-prefetch="yes" (a pool file of at most about 5 MB) the files are
// fetched as soon as the page is loaded and kept in memory, so that the check works with
// the site cut off afterwards; otherwise they are fetched when the button is pressed.
(function () {
  "use strict";
  var box = document.getElementById("draw-check");
  if (!box) { return; }
  var button = document.getElementById("draw-check-run");
  var status = document.getElementById("draw-check-status");
  var verdictLine = document.getElementById("draw-check-verdict");
  var FILES = [
    ["record", "record.json"],
    ["pool", "pool.csv"],
    ["random", "random.json"],
    ["signature", "signature.base64"],
    ["key", "public-key.pem"]
  ];
  var loading = null;  // the promise of the files' bytes, once asked for

  // A value that is code, not words: say() shows it in a <code> element.
  function code(value) { return { code: String(value) }; }

  function codeElement(text) {
    var element = document.createElement("code");
    element.textContent = text;
    return element;
  }

  // The page's text `name`, its "{key}" filled in from values: text nodes, and a <code>
  // element for each value given as code(...).
  function say(name, values) {
    var text = box.getAttribute("data-text-" + name) || name;
    var fragment = document.createDocumentFragment();
    values = values || {};
    text.split(/(\{[a-z]+\})/).forEach(function (part) {
      var key = /^\{([a-z]+)\}$/.exec(part);
      if (key && Object.prototype.hasOwnProperty.call(values, key[1])) {
        var value = values[key[1]];
        fragment.appendChild(value && typeof value === "object" && "code" in value
          ? codeElement(value.code) : document.createTextNode(String(value)));
      } else if (part) {
        fragment.appendChild(document.createTextNode(part));
      }
    });
    return fragment;
  }

  // element's content replaced by node (a fragment, an element) or by nothing.
  function put(element, node) {
    element.textContent = "";
    if (node) { element.appendChild(node); }
  }

  function setState(state, message) {
    box.setAttribute("data-state", state);
    put(status, message);
  }

  function FetchFailed(name) { this.name = name; }

  function fetchFiles() {
    if (loading) { return loading; }
    setState("loading", say("loading"));
    loading = Promise.all(FILES.map(function (file) {
      var url = box.getAttribute("data-url-" + file[0]);
      return fetch(url, { credentials: "omit", cache: "no-store" }).then(function (response) {
        if (!response.ok) { throw new FetchFailed(file[1]); }
        return response.arrayBuffer();
      }, function () { throw new FetchFailed(file[1]); });
    })).then(function (buffers) {
      var files = {};
      FILES.forEach(function (file, i) { files[file[0]] = new Uint8Array(buffers[i]); });
      return files;
    });
    loading.catch(function (error) {
      loading = null;  // pressing the button tries again
      setState("error", say("fetch-failed", { name: code(error && error.name ? error.name : "?") }));
    });
    return loading;
  }

  // --- bytes, text, keys ------------------------------------------------------------

  function utf8(bytes) { return new TextDecoder("utf-8").decode(bytes); }

  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function sha256(bytes) { return crypto.subtle.digest("SHA-256", bytes).then(hex); }

  function fromBase64(text) {
    var binary = atob(text.replace(/\s+/g, ""));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes;
  }

  // One DER element at offset: its tag, where it starts, where its content starts and ends.
  function der(bytes, offset) {
    var length = bytes[offset + 1], head = 2;
    if (length & 0x80) {
      var count = length & 0x7f;
      length = 0;
      for (var i = 0; i < count; i++) { length = length * 256 + bytes[offset + 2 + i]; }
      head += count;
    }
    return { tag: bytes[offset], start: offset, content: offset + head, end: offset + head + length };
  }

  // A certificate's SubjectPublicKeyInfo: tbsCertificate's seventh element (after the
  // optional [0] version, the serial, the algorithm, the issuer, the validity, the subject).
  function spkiOfCertificate(bytes) {
    var tbs = der(bytes, der(bytes, 0).content);
    var at = tbs.content;
    if (der(bytes, at).tag === 0xa0) { at = der(bytes, at).end; }
    for (var i = 0; i < 5; i++) { at = der(bytes, at).end; }
    var spki = der(bytes, at);
    return bytes.slice(spki.start, spki.end);
  }

  // The DER SubjectPublicKeyInfo of a PEM public key or certificate.
  function spkiOfPem(text) {
    var found = /-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/.exec(text);
    if (!found) { throw new Error("no PEM"); }
    var bytes = fromBase64(found[2]);
    return found[1] === "CERTIFICATE" ? spkiOfCertificate(bytes) : bytes;
  }

  // Whether signatureText (base64) is key's RSA PKCS#1 v1.5 SHA-512 signature of bytes.
  function signatureHolds(key, signatureText, bytes) {
    var signature;
    try {
      signature = fromBase64(String(signatureText));
    } catch (e) {
      return Promise.resolve(false);
    }
    if (!key || !signature.length) { return Promise.resolve(false); }
    return crypto.subtle.verify({ name: "RSASSA-PKCS1-v1_5" }, key, signature, bytes)
      .catch(function () { return false; });
  }

  // JSON with its keys sorted: compares two values whatever the order of their keys.
  function sortedJson(value) {
    if (Array.isArray(value)) { return "[" + value.map(sortedJson).join(",") + "]"; }
    if (value && typeof value === "object") {
      return "{" + Object.keys(value).sort().map(function (k) {
        return JSON.stringify(k) + ":" + sortedJson(value[k]);
      }).join(",") + "}";
    }
    return JSON.stringify(value === undefined ? null : value);
  }

  // "YYYY-MM-DD HH:MM:SS[.fff]Z" (random.org) or "YYYY-MM-DDTHH:MM:SSZ", in ms since 1970.
  function instant(text) {
    var found = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z$/.exec(String(text));
    if (!found) { return null; }
    var ms = Date.UTC(+found[1], +found[2] - 1, +found[3], +found[4], +found[5], +found[6]);
    var fraction = found[7] ? Number("0." + found[7]) * 1000 : 0;
    return isNaN(ms) ? null : ms + fraction;
  }

  // --- the steps ----------------------------------------------------------------------

  async function check(files) {
    var record = JSON.parse(utf8(files.record));
    var random = JSON.parse(utf8(files.random));
    var pool = record.pool || {};
    var positions = Array.isArray(record.positions) ? record.positions : [];
    var results = {};

    // 1. pool.csv's digest and entries are the record's
    var digest = await sha256(files.pool);
    var lines = utf8(files.pool).split("\n");
    if (lines[lines.length - 1] === "") { lines.pop(); }
    var entries = lines.length - 1;
    results.pool = [digest === pool.sha256 && entries === pool.size ? "ok" : "failed",
      codeElement("pool.csv " + digest + ", " + entries + "; record.json " + pool.sha256 + ", " + pool.size)];

    // 2. the signed userData names this draw, this pool and the prizes in order (a draw
    // signed before several prizes a month names none, and has one prize)
    var want = { draw: record.draw, period: record.period, pool_sha256: pool.sha256, pool_size: pool.size };
    var user = random.userData;
    var prizes = Array.isArray(record.prizes) ? record.prizes.map(function (p) {
      return p && typeof p === "object" ? [p.position, p.count] : p;
    }) : null;
    if ((user && typeof user === "object" && "prizes" in user) || (prizes && prizes.length > 1)) {
      want.prizes = prizes;
    }
    results["user-data"] = [user && typeof user === "object" && sortedJson(user) === sortedJson(want) ? "ok" : "failed",
      codeElement("userData " + JSON.stringify(user === undefined ? null : user))];

    // 3. what was asked of random.org
    var asked = { method: "generateSignedIntegers", n: positions.length, min: 1, max: pool.size, replacement: false, base: 10 };
    var askedOk = positions.length > 0;
    var got = Object.keys(asked).map(function (name) {
      askedOk = askedOk && JSON.stringify(random[name]) === JSON.stringify(asked[name]);
      return name + " " + JSON.stringify(random[name] === undefined ? null : random[name]);
    });
    results.request = [askedOk ? "ok" : "failed", codeElement(got.join(", "))];

    // 4. the signature over random.json's bytes, 5. whose key
    var spki = null, key = null;
    try {
      spki = spkiOfPem(utf8(files.key));
      key = await crypto.subtle.importKey("spki", spki, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-512" }, false, ["verify"]);
    } catch (e) {
      key = null;
    }
    var signed = await signatureHolds(key, utf8(files.signature), files.random);
    results.signature = [signed ? "ok" : "failed", codeElement("random.json " + await sha256(files.random))];
    var keySha = spki ? await sha256(spki) : "";
    results.key = keySha === box.getAttribute("data-random-org-key")
      ? ["ok", say("random-org-key", { sha: code(keySha) })]
      : ["other-key", say("not-random-org-key", { sha: code(keySha || "?") })];

    // 6. the winners: random.org's numbers are the positions, each on its line of pool.csv
    var winners = Array.isArray(record.winners) ? record.winners : [];
    var winnersOk = sortedJson(random.data) === sortedJson(positions) && winners.length === positions.length && winners.length > 0;
    var found = winners.map(function (winner, i) {
      var position = winner && winner.position;
      var line = Number.isInteger(position) && position >= 1 && position < lines.length ? lines[position] : "";
      var cells = line.split(",");
      winnersOk = winnersOk && winner.rank === i + 1 && position === positions[i] &&
        cells.length === 3 && cells[0] === String(position) && cells[2] === winner.account_masked;
      return position + ": " + (line ? cells[cells.length - 1] : "-");
    });
    results.winners = [winnersOk ? "ok" : "failed", codeElement("data " + JSON.stringify(random.data) + "; " + found.join("; "))];

    // 7. the prizes: the first numbers to the first prize, as many as it counts, and so on
    results.prizes = prizeCheck(prizes, winners, pool.size);

    // 8. the ledger: the answer before the draw's came before the pool's announcement
    results.ledger = await ledger(record, random, pool, key);
    return results;
  }

  function prizeCheck(prizes, winners, size) {
    if (prizes === null) {
      return ["not-applicable", say("no-prizes", { field: code("prizes") })];
    }
    var slots = [], valid = true;
    prizes.forEach(function (item) {
      var position = Array.isArray(item) ? item[0] : null, count = Array.isArray(item) ? item[1] : null;
      if (!Number.isInteger(position) || !Number.isInteger(count) || count < 1) { valid = false; return; }
      for (var i = 0; i < count; i++) { slots.push(position); }
    });
    var taken = winners.map(function (winner) { return winner && winner.prize; });
    var n = Number.isInteger(size) ? Math.min(slots.length, size) : slots.length;
    var ok = valid && taken.length > 0 && taken.length === n && taken.every(function (prize, i) {
      return prize === slots[i];
    });
    var found = winners.map(function (winner, i) {
      return (winner && winner.position) + " -> " + taken[i];
    });
    return [ok ? "ok" : "failed", codeElement("prizes " + JSON.stringify(prizes) + "; " + found.join("; "))];
  }

  async function ledger(record, random, pool, key) {
    if (pool.announced_at === undefined || pool.announced_at === null) {
      return ["not-applicable", say("no-announcement", { field: code("pool.announced_at") })];
    }
    var announced = instant(pool.announced_at);
    if (announced === null) { return ["failed", say("bad-time", { value: code(pool.announced_at) })]; }
    var serial = random.serialNumber;
    // the draw's own answer came after the announcement: its numbers were not known before
    var own = instant(random.completionTime);
    if (own === null) { return ["failed", say("bad-time", { value: code(random.completionTime) })]; }
    if (own < announced) {
      return ["failed", say("answer-earlier", { serial: serial, completed: code(random.completionTime), announced: code(pool.announced_at) })];
    }
    if (serial === 1) { return ["ok", say("first-serial")]; }
    var previous = record.previous_answer;
    if (!previous || typeof previous !== "object" || !previous.random || typeof previous.random !== "object") {
      return ["failed", say("no-previous", { field: code("previous_answer"), serial: serial })];
    }
    var earlier = previous.random;
    var field = code("previous_answer");
    if (earlier.hashedApiKey !== random.hashedApiKey) { return ["failed", say("previous-other-api-key", { field: field })]; }
    var wanted = Number.isInteger(serial) ? serial - 1 : null;
    if (earlier.serialNumber !== wanted || (previous.serial !== undefined && previous.serial !== wanted)) {
      return ["failed", say("previous-serial", { field: field, got: earlier.serialNumber, want: wanted })];
    }
    // the bytes random.org signed: compact JSON, keys in the order received (as random.json)
    var bytes = new TextEncoder().encode(JSON.stringify(earlier));
    if (!await signatureHolds(key, previous.signature, bytes)) {
      return ["failed", say("previous-signature", { field: field })];
    }
    var completed = instant(earlier.completionTime);
    if (completed === null) { return ["failed", say("bad-time", { value: code(earlier.completionTime) })]; }
    var values = { serial: wanted, completed: code(earlier.completionTime), announced: code(pool.announced_at) };
    return completed > announced ? ["failed", say("previous-later", values)] : ["ok", say("previous-in-time", values)];
  }

  function show(results) {
    var failed = false, otherKey = false;
    box.querySelectorAll("[data-step]").forEach(function (item) {
      var result = results[item.getAttribute("data-step")] || ["failed", null];
      item.setAttribute("data-outcome", result[0]);
      item.className = result[0] === "ok" ? "ok" : result[0] === "failed" ? "not-ok" : "informative";
      item.querySelector(".step-outcome").textContent =
        (result[0] === "ok" ? "✓ " : result[0] === "failed" ? "✗ " : "") + say(result[0]).textContent;
      put(item.querySelector(".step-detail"), result[1]);
      failed = failed || result[0] === "failed";
      otherKey = otherKey || result[0] === "other-key";
    });
    var verdict = failed ? "broken" : otherKey ? "verified-other-key" : "verified-random-org";
    verdictLine.setAttribute("data-verdict", verdict);
    verdictLine.className = "draw-check-verdict " + (verdict === "verified-random-org" ? "ok" : "bad");
    put(verdictLine, say(verdict));
  }

  function run() {
    if (!window.crypto || !crypto.subtle) {
      setState("error", say("no-crypto", { program: code("verify.py") }));
      return;
    }
    button.disabled = true;
    verdictLine.setAttribute("data-verdict", "");
    verdictLine.textContent = "";
    fetchFiles().then(function (files) {
      setState("checking", say("checking"));
      return check(files).then(function (results) {
        show(results);
        setState("done", "");
      });
    }).catch(function (error) {
      if (!(error instanceof FetchFailed)) { setState("error", document.createTextNode(String(error))); }
    }).then(function () { button.disabled = false; });
  }

  button.addEventListener("click", run);
  if (box.getAttribute("data-prefetch") === "yes" && window.crypto && crypto.subtle) {
    fetchFiles().then(function () { setState("ready", say("ready")); }, function () {});
  }
})();
