// Script editor: line numbers, validation as staff type (debounced), draft → simulator.
(function () {
  "use strict";
  var form = document.getElementById("editor-form");
  if (!form) return;
  var text = document.getElementById("script-text");
  var gutter = document.getElementById("gutter");
  var box = document.getElementById("problems");
  var publish = document.getElementById("publish");
  var tryBtn = document.getElementById("try-draft");
  var token = document.querySelector("meta[name=csrf-token]").content;
  var timer = null, seq = 0, marks = {};

  function lines() {
    var n = text.value.split("\n").length, out = [];
    for (var i = 1; i <= n; i++) {
      var cls = marks[i] === "error" ? "bad" : marks[i] === "warning" ? "warn" : "";
      out.push(cls ? '<span class="' + cls + '">' + i + "</span>" : String(i));
    }
    gutter.innerHTML = out.join("\n");
    gutter.scrollTop = text.scrollTop;
  }

  function post(url, body) {
    return fetch(url, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(body) }).then(function (r) { return r.json().then(function (j) { j._status = r.status; return j; }); });
  }

  function show(result) {
    marks = {};
    box.textContent = "";
    if (result.ok && !result.problems.length) {
      var ok = document.createElement("p");
      ok.className = "problem ok"; ok.id = "validation-ok";
      ok.textContent = "問題はありません。";
      box.appendChild(ok);
    }
    result.problems.forEach(function (p) {
      marks[p.line] = marks[p.line] === "error" ? "error" : p.severity;
      var el = document.createElement("p");
      el.className = "problem " + p.severity;
      el.textContent = p.line + "行目: " + (p.severity === "warning" ? "［注意］" : "") + p.message + "／直し方: " + p.fix;
      el.addEventListener("click", function () { goTo(p.line); });
      box.appendChild(el);
    });
    if (publish) publish.disabled = !result.ok;
    if (tryBtn) tryBtn.disabled = !result.ok;
    form.dataset.state = result.ok ? "ok" : "error";
    lines();
  }

  function goTo(line) {
    var pos = 0, parts = text.value.split("\n");
    for (var i = 0; i < line - 1 && i < parts.length; i++) pos += parts[i].length + 1;
    text.focus();
    text.setSelectionRange(pos, pos + (parts[line - 1] || "").length);
    text.scrollTop = Math.max(0, (line - 5) * 19.5);
  }

  function validate() {
    var mine = ++seq;
    form.dataset.state = "checking";
    post(form.dataset.validateUrl, { text: text.value }).then(function (r) { if (mine === seq) show(r); })
      .catch(function () { box.textContent = "検査できませんでした（通信エラー）。"; });
  }

  text.addEventListener("input", function () { lines(); clearTimeout(timer); timer = setTimeout(validate, 400); });
  text.addEventListener("scroll", function () { gutter.scrollTop = text.scrollTop; });
  text.addEventListener("keydown", function (e) {
    if (e.key === "Tab" && !text.readOnly) {  // two spaces, as YAML wants
      e.preventDefault();
      var s = text.selectionStart;
      text.setRangeText("  ", s, text.selectionEnd, "end");
      text.dispatchEvent(new Event("input"));
    }
  });
  if (tryBtn) tryBtn.addEventListener("click", function () {
    post(form.dataset.draftUrl, { text: text.value }).then(function (r) {
      if (r.simulator_url) window.location.href = r.simulator_url; else show(r);
    });
  });
  form.addEventListener("submit", function (e) {
    if (!window.confirm("この内容を公開しますか？ すぐにLINEの利用者に使われます。")) e.preventDefault();
  });
  lines();
  validate();
})();
