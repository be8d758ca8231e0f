/* degcore site: the voter's lookup (docs/site.md). No library, nothing loaded from elsewhere.
 *
 * The index is split by tracking-code prefix into lookup/<prefix>.js shards; a shard is loaded
 * with a <script> tag (it calls degcoreShard), which works from a web server and from disk
 * (file://, where Chromium refuses fetch()). A receipt's box signature is checked with WebCrypto
 * Ed25519 where the browser has it; the page says so plainly where it does not.
 * Everything shown is set with textContent: nothing typed or loaded is parsed as HTML.
 */
(function () {
  "use strict";
  var site = window.DEGCORE_SITE;
  var texts = JSON.parse(document.getElementById("lookup-texts").textContent);
  var root = document.body.getAttribute("data-root") || "";
  var shards = {};
  var waiting = {};
  var HEX64 = /^[0-9a-f]{64}$/;
  var HEX128 = /^[0-9a-f]{128}$/;
  var RECEIPT_KEYS = ["box_signature", "election", "entry_hash", "format", "payload_hash", "position",
    "tracking_code", "type"];

  function say(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, key) { return String(values[key]); });
  }

  function show(output, outcome, lines) {
    output.setAttribute("data-outcome", outcome);
    output.textContent = "";
    lines.forEach(function (line) {
      var p = document.createElement("p");
      p.textContent = line;
      output.appendChild(p);
    });
  }

  window.degcoreShard = function (prefix, rows) {
    var table = {};
    rows.forEach(function (row) { table[row[0]] = row; });
    shards[prefix] = table;
    (waiting[prefix] || []).forEach(function (w) { w.resolve(table); });
    delete waiting[prefix];
  };

  function shardOf(code) {
    var prefix = code.slice(0, site.prefix);
    if (shards[prefix]) { return Promise.resolve(shards[prefix]); }
    return new Promise(function (resolve, reject) {
      var first = !waiting[prefix];
      (waiting[prefix] = waiting[prefix] || []).push({ resolve: resolve, reject: reject });
      if (!first) { return; }
      var script = document.createElement("script");
      script.src = root + "lookup/" + prefix + ".js";
      script.onerror = function () {
        (waiting[prefix] || []).forEach(function (w) { w.reject(new Error("shard " + prefix)); });
        delete waiting[prefix];
        script.remove();
      };
      document.head.appendChild(script);
    });
  }

  function statusLine(row) {
    var key = { c: "counted", s: "superseded", x: "challenged" }[row[2]];
    return { outcome: key, text: say(texts[key], { position: row[1] }) };
  }

  function findCode(event) {
    event.preventDefault();
    var output = document.getElementById("code-result");
    var code = document.getElementById("code-input").value.trim().toLowerCase();
    if (!HEX64.test(code)) { show(output, "invalid", [texts.bad_code]); return; }
    show(output, "loading", [texts.loading]);
    shardOf(code).then(function (table) {
      var row = table[code];
      if (!row) { show(output, "not-found", [texts.not_found]); return; }
      var line = statusLine(row);
      show(output, line.outcome, [line.text]);
    }, function () { show(output, "error", [texts.load_failed]); });
  }

  function bytes(hex) {
    var out = new Uint8Array(hex.length / 2);
    for (var i = 0; i < out.length; i++) { out[i] = parseInt(hex.substr(2 * i, 2), 16); }
    return out;
  }

  function u64(n) {
    var out = new Uint8Array(8);
    for (var i = 7; i >= 0; i--) { out[i] = n % 256; n = Math.floor(n / 256); }
    return out;
  }

  /* sha256 of length-prefixed parts (docs/protocol.md §2.1): u64(len) ‖ part, for each part. */
  function framedSha256(parts) {
    var size = 0;
    parts.forEach(function (p) { size += 8 + p.length; });
    var buffer = new Uint8Array(size);
    var at = 0;
    parts.forEach(function (p) { buffer.set(u64(p.length), at); buffer.set(p, at + 8); at += 8 + p.length; });
    return crypto.subtle.digest("SHA-256", buffer).then(function (d) { return new Uint8Array(d); });
  }

  function parseReceipt(text) {
    var obj;
    try { obj = JSON.parse(text); } catch (e) { throw new Error("JSON: " + e.message); }
    if (obj === null || typeof obj !== "object" || Array.isArray(obj)) { throw new Error("not an object"); }
    var keys = Object.keys(obj).sort();
    if (keys.join(",") !== RECEIPT_KEYS.join(",")) { throw new Error("keys " + keys.join(", ")); }
    if (obj.format !== site.format || obj.type !== "receipt") { throw new Error("format or type"); }
    ["election", "tracking_code", "payload_hash", "entry_hash"].forEach(function (k) {
      if (typeof obj[k] !== "string" || !HEX64.test(obj[k])) { throw new Error(k); }
    });
    if (typeof obj.box_signature !== "string" || !HEX128.test(obj.box_signature)) {
      throw new Error("box_signature");
    }
    if (typeof obj.position !== "number" || !Number.isSafeInteger(obj.position) || obj.position < 1) {
      throw new Error("position");
    }
    return obj;
  }

  /* "valid", "invalid" or "unsupported" (no WebCrypto Ed25519 in this browser). */
  function verifySignature(receipt) {
    if (!window.crypto || !crypto.subtle) { return Promise.resolve("unsupported"); }
    var tag = new TextEncoder().encode("degcore/4/receipt");
    return framedSha256([tag, bytes(receipt.election), bytes(receipt.tracking_code), u64(receipt.position),
      bytes(receipt.payload_hash), bytes(receipt.entry_hash)]).then(function (digest) {
      return crypto.subtle.importKey("raw", bytes(site.box_key), { name: "Ed25519" }, false, ["verify"])
        .then(function (key) {
          return crypto.subtle.verify({ name: "Ed25519" }, key, bytes(receipt.box_signature), digest)
            .then(function (ok) { return ok ? "valid" : "invalid"; }, function () { return "invalid"; });
        }, function () { return "unsupported"; });
    });
  }

  function checkReceipt(event) {
    event.preventDefault();
    var output = document.getElementById("receipt-result");
    var receipt;
    try { receipt = parseReceipt(document.getElementById("receipt-input").value); }
    catch (e) { show(output, "invalid", [say(texts.bad_receipt, { why: e.message })]); return; }
    if (receipt.election !== site.election) { show(output, "refused", [texts.other_election]); return; }
    show(output, "loading", [texts.loading]);
    Promise.all([verifySignature(receipt), shardOf(receipt.tracking_code)]).then(function (both) {
      var signature = both[0];
      var row = both[1][receipt.tracking_code];
      if (signature === "invalid") { show(output, "refused", [texts.sig_invalid]); return; }
      var lines = [signature === "valid" ? texts.sig_valid : texts.sig_unsupported];
      if (!row) { lines.push(texts.missing); show(output, "missing", lines); return; }
      var wrong = [];
      if (row[1] !== receipt.position) { wrong.push("position " + row[1]); }
      if (row[3] !== receipt.entry_hash) { wrong.push("entry_hash"); }
      if (row[4] !== receipt.payload_hash) { wrong.push("payload_hash"); }
      if (wrong.length) {
        lines.push(say(texts.mismatch, { position: receipt.position, what: wrong.join(", ") }));
        show(output, "mismatch", lines);
        return;
      }
      var status = statusLine(row);
      lines.push(say(signature === "valid" ? texts.accepted : texts.unchecked, { position: row[1] }));
      lines.push(status.text);
      show(output, signature === "valid" ? "accepted" : "unchecked", lines);
      output.setAttribute("data-status", status.outcome);
    }, function () { show(output, "error", [texts.load_failed]); });
  }

  function openFile() {
    var file = this.files && this.files[0];
    if (!file) { return; }
    var reader = new FileReader();
    reader.onload = function () { document.getElementById("receipt-input").value = reader.result; };
    reader.onerror = function () {
      show(document.getElementById("receipt-result"), "invalid", [texts.read_failed]);
    };
    reader.readAsText(file);
  }

  var codeForm = document.getElementById("code-form");
  var receiptForm = document.getElementById("receipt-form");
  codeForm.addEventListener("submit", findCode);
  receiptForm.addEventListener("submit", checkReceipt);
  document.getElementById("receipt-file").addEventListener("change", openFile);
  codeForm.hidden = false;
  receiptForm.hidden = false;
  document.body.setAttribute("data-lookup", "ready");
}());
