// LINE-like chat: sends what the resident does to the simulator endpoint (which signs a real webhook)
// and renders the bot's answers, long-polled from the LINE emulator. Bot content is only ever put
// in the page with textContent (never innerHTML).
(function () {
  "use strict";
  var app = document.getElementById("app");
  var log = document.getElementById("log");
  var quick = document.getElementById("quick");
  var picker = document.getElementById("picker");
  var locPanel = document.getElementById("location");
  var menu = document.getElementById("menu");
  var input = document.getElementById("text");
  var file = document.getElementById("file");
  var token = document.querySelector("meta[name=csrf-token]").content;
  var after = 0, polling = false, stopped = app.dataset.ready !== "yes";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function scroll() { log.scrollTop = log.scrollHeight; }
  function note(text, cls) {
    var m = el("div", "msg note " + (cls || "")); m.appendChild(el("div", "bubble", text)); log.appendChild(m); scroll();
  }
  function mine(text) {
    var m = el("div", "msg me"); m.appendChild(el("div", "bubble", text)); log.appendChild(m); scroll();
  }

  function post(url, body, isForm) {
    var headers = { "X-CSRFToken": token };
    if (!isForm) headers["Content-Type"] = "application/json";
    return fetch(url, { method: "POST", credentials: "same-origin", headers: headers,
      body: isForm ? body : JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error(j.message || r.status); return j; }); })
      .catch(function (e) { note("送れませんでした: " + e.message, "error"); });
  }

  function send(body, shown) {
    if (shown) mine(shown);
    quick.textContent = "";
    picker.hidden = true;
    return post(app.dataset.send, body);
  }

  // ---- actions (buttons, quick replies) ------------------------------------------------
  function act(action) {
    var t = action.type;
    if (t === "message") return send({ type: "text", text: action.text }, action.text);
    if (t === "postback") return send({ type: "postback", data: action.data }, action.displayText || null);
    if (t === "uri") { window.open(action.uri, "_blank", "noopener"); note("リンクを開きました: " + action.uri); return; }
    if (t === "datetimepicker") return openPicker(action);
    if (t === "location") return openLocation();
    if (t === "camera" || t === "cameraRoll") return file.click();
    note("（この操作はシミュレーターでは使えません: " + t + "）");
  }

  function openPicker(action) {
    var mode = action.mode || "date";
    picker.textContent = "";
    picker.hidden = false;
    picker.appendChild(el("p", null, action.label || "日付を選んでください"));
    var row = el("div", "row");
    var inp = el("input");
    inp.type = mode === "datetime" ? "datetime-local" : mode;
    inp.id = "picker-input";
    if (action.initial) inp.value = action.initial;
    if (action.min) inp.min = action.min;
    if (action.max) inp.max = action.max;
    var ok = el("button", "primary", "決定"); ok.type = "button"; ok.id = "picker-ok";
    var cancel = el("button", null, "閉じる"); cancel.type = "button";
    ok.addEventListener("click", function () {
      if (!inp.value) return;
      var params = {}; params[mode] = inp.value;
      send({ type: "postback", data: action.data, params: params }, inp.value);
    });
    cancel.addEventListener("click", function () { picker.hidden = true; });
    row.appendChild(inp); row.appendChild(ok); row.appendChild(cancel);
    picker.appendChild(row);
    inp.focus();
  }

  function openLocation() { locPanel.hidden = false; menu.hidden = true; }
  function sendLocation(lat, lng, title, address) {
    locPanel.hidden = true;
    send({ type: "location", latitude: lat, longitude: lng, title: title, address: address },
      "📍 " + (title || address || (lat + ", " + lng)));
  }

  function button(label, action, cls) {
    var b = el("button", cls, label);
    b.type = "button";
    b.addEventListener("click", function () { act(action); });
    return b;
  }

  // ---- rendering ------------------------------------------------------------------------
  function render(msg) {
    var wrap = el("div", "msg bot");
    var t = msg.type;
    if (t === "text") wrap.appendChild(el("div", "bubble", msg.text));
    else if (t === "image") { var img = el("img", "fx-image"); img.src = msg.previewImageUrl || msg.originalContentUrl; img.alt = "画像"; var c = el("div", "card"); c.appendChild(img); wrap.appendChild(c); }
    else if (t === "sticker") wrap.appendChild(el("div", "bubble", "（スタンプ）"));
    else if (t === "location") wrap.appendChild(el("div", "bubble", "📍 " + (msg.title || "") + "\n" + (msg.address || "")));
    else if (t === "template") { wrap.appendChild(template(msg.template)); if (msg.template.type === "carousel") wrap.classList.add("wide"); }
    else if (t === "flex") { wrap.appendChild(flex(msg.contents)); if (msg.contents.type === "carousel") wrap.classList.add("wide"); }
    else wrap.appendChild(el("div", "bubble", msg.altText || "（" + t + " メッセージ）"));
    wrap.dataset.type = t;
    log.appendChild(wrap);
    quick.textContent = "";
    if (msg.quickReply && msg.quickReply.items) {
      msg.quickReply.items.forEach(function (item) {
        var a = item.action || {};
        var label = a.label || (a.type === "location" ? "位置情報を送る" : a.type === "camera" ? "カメラ" : a.type === "cameraRoll" ? "写真を選ぶ" : "");
        quick.appendChild(button(label, a));
      });
    }
    scroll();
  }

  function template(tpl) {
    if (tpl.type === "carousel") {
      var car = el("div", "carousel");
      (tpl.columns || []).forEach(function (col) { car.appendChild(template(Object.assign({ type: "buttons" }, col))); });
      return car;
    }
    var card = el("div", "card template " + tpl.type);
    if (tpl.thumbnailImageUrl) { var img = el("img"); img.src = tpl.thumbnailImageUrl; img.alt = ""; card.appendChild(img); }
    if (tpl.title) card.appendChild(el("div", "t-title", tpl.title));
    card.appendChild(el("div", "t-text", tpl.text));
    var acts = el("div", "t-actions" + (tpl.type === "confirm" ? " confirm" : ""));
    (tpl.actions || []).forEach(function (a) { acts.appendChild(button(a.label, a)); });
    card.appendChild(acts);
    return card;
  }

  function flex(c) {
    if (c.type === "carousel") {
      var car = el("div", "carousel");
      (c.contents || []).forEach(function (b) { car.appendChild(flex(b)); });
      return car;
    }
    var card = el("div", "card flex");
    if (c.header) card.appendChild(section(c.header, "fx-header"));
    if (c.hero) card.appendChild(node(c.hero));
    if (c.body) card.appendChild(section(c.body, "fx-body"));
    if (c.footer) card.appendChild(section(c.footer, "fx-footer"));
    return card;
  }
  function section(box, cls) { var s = el("div", "fx-section " + cls); s.appendChild(node(box)); return s; }

  function node(n) {
    var e;
    if (n.type === "box") {
      e = el("div", "fx-box " + (n.layout || "vertical"));
      (n.contents || []).forEach(function (child) { e.appendChild(node(child)); });
      if (n.backgroundColor) e.style.backgroundColor = n.backgroundColor;
    } else if (n.type === "text") {
      var txt = n.text || (n.contents || []).map(function (s) { return s.text || ""; }).join("");
      e = el("div", "fx-text " + (n.size || "md") + (n.weight === "bold" ? " bold" : ""), txt);
      if (n.color) e.style.color = n.color;
      if (n.align) e.style.textAlign = n.align;
    } else if (n.type === "button") {
      e = button(n.action.label, n.action, "fx-button " + (n.style || "link"));
      if (n.color && n.style === "primary") e.style.backgroundColor = n.color;
    } else if (n.type === "separator") {
      e = el("hr", "fx-sep");
    } else if (n.type === "image") {
      e = el("img", "fx-image"); e.src = n.url; e.alt = "";
    } else {
      e = el("div", "fx-" + n.type);  // filler, spacer, icon: space only
    }
    if (n.margin) e.classList.add("m-" + n.margin);
    return e;
  }

  // ---- long poll ------------------------------------------------------------------------
  function poll() {
    if (polling || stopped) return;
    polling = true;
    fetch(app.dataset.poll + "?after=" + after + "&wait=20", { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (j) {
        (j.messages || []).forEach(function (m) { render(m.message); });
        if (typeof j.after === "number") after = j.after;
        app.dataset.after = String(after);
        polling = false;
        poll();
      })
      .catch(function () { polling = false; setTimeout(poll, 2000); });
  }

  // ---- input ------------------------------------------------------------------------------
  document.getElementById("input").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send({ type: "text", text: text }, text);
  });
  document.getElementById("plus").addEventListener("click", function () { menu.hidden = !menu.hidden; });
  document.getElementById("menu-location").addEventListener("click", openLocation);
  document.getElementById("menu-image").addEventListener("click", function () { menu.hidden = true; file.click(); });
  document.getElementById("menu-follow").addEventListener("click", function () {
    menu.hidden = true; note("友だち追加しました"); post(app.dataset.send, { type: "follow" });
  });
  file.addEventListener("change", function () {
    if (!file.files.length) return;
    var f = file.files[0];
    var m = el("div", "msg me"); var img = el("img", "fx-image"); img.alt = f.name; img.src = URL.createObjectURL(f);
    var c = el("div", "card"); c.appendChild(img); m.appendChild(c); log.appendChild(m); scroll();
    var data = new FormData(); data.append("image", f);
    quick.textContent = "";
    post(app.dataset.image, data, true);
    file.value = "";
  });
  Array.prototype.forEach.call(locPanel.querySelectorAll(".presets button"), function (b) {
    b.addEventListener("click", function () {
      sendLocation(parseFloat(b.dataset.lat), parseFloat(b.dataset.lng), b.dataset.title, b.dataset.address);
    });
  });
  document.getElementById("loc-send").addEventListener("click", function () {
    var lat = parseFloat(document.getElementById("lat").value), lng = parseFloat(document.getElementById("lng").value);
    if (isNaN(lat) || isNaN(lng)) { note("緯度と経度を数字で入れてください。", "error"); return; }
    sendLocation(lat, lng, "", document.getElementById("addr").value);
  });
  document.getElementById("loc-cancel").addEventListener("click", function () { locPanel.hidden = true; });

  poll();
  if (app.dataset.draft && !stopped) {
    note("下書きのシナリオを始めます");
    send({ type: "postback", data: "action=start_form&proc=draft:" + app.dataset.draft });
  }
})();
