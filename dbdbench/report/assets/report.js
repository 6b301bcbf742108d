/* dbdbench report: the per-image browser. Vanilla JavaScript, no libraries, no network.
 *
 * State lives in the URL hash (#g=<group>&m=<method|all>&sort=<column>&dir=asc|desc&img=<stem>), so a view
 * can be bookmarked and shared, and a headless browser can open any view directly. Appending
 * "&selftest" (or "#selftest") runs window.dbdbenchReport.selfTest(), which clicks through the page like
 * a user and writes its findings as JSON into <pre id="selftest-result" data-status="pass|fail">.
 */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("report-data").textContent);
  var state = { g: 0, m: "all", sort: null, dir: "asc", img: null };
  var order = []; // the table's rows after filter and sort: [imageIndex, methodIndex, ...values]

  var el = {
    group: document.getElementById("group-select"),
    method: document.getElementById("method-filter"),
    thead: document.querySelector("#per-image thead"),
    tbody: document.querySelector("#per-image tbody"),
    title: document.getElementById("viewer-title"),
    cells: document.getElementById("viewer-cells"),
    prev: document.getElementById("prev-image"),
    next: document.getElementById("next-image"),
    position: document.getElementById("image-position"),
    selftest: document.getElementById("selftest-result"),
  };

  function group() { return data.groups[state.g]; }

  function fmt(column, value) {
    if (value === null || value === undefined) return "–";
    if (column === "predict_ms") return value.toFixed(1);
    return value.toFixed(3);
  }

  function label(column) {
    var dir = group().directions[column];
    return column + (dir === "higher" ? " ↑" : dir === "lower" ? " ↓" : "");
  }

  // ---------------------------------------------------------------- URL hash <-> state

  function readHash() {
    var text = decodeURIComponent(location.hash.replace(/^#/, ""));
    if (text.indexOf("=") < 0) return; // a plain anchor such as #leaderboard
    text.split("&").forEach(function (pair) {
      var i = pair.indexOf("=");
      if (i < 0) return;
      var key = pair.slice(0, i), value = pair.slice(i + 1);
      if (key === "g") {
        var gi = data.groups.findIndex(function (g) { return g.slug === value; });
        if (gi >= 0) state.g = gi;
      } else if (key === "m" || key === "sort" || key === "img") {
        state[key] = value || null;
      } else if (key === "dir") {
        state.dir = value === "desc" ? "desc" : "asc";
      }
    });
    if (!state.m) state.m = "all";
  }

  function writeHash() {
    var parts = ["g=" + group().slug, "m=" + state.m];
    if (state.sort) parts.push("sort=" + state.sort, "dir=" + state.dir);
    if (state.img) parts.push("img=" + state.img);
    if (/selftest/.test(location.hash)) parts.push("selftest");
    var hash = "#" + parts.map(function (p) { return p.split("=").map(encodeURIComponent).join("="); }).join("&");
    if (history.replaceState) history.replaceState(null, "", hash);
  }

  // ---------------------------------------------------------------- rendering

  function renderControls() {
    el.group.innerHTML = "";
    data.groups.forEach(function (g, i) {
      var o = document.createElement("option");
      o.value = String(i); o.textContent = g.title; o.selected = i === state.g;
      el.group.appendChild(o);
    });
    el.group.parentNode.hidden = data.groups.length < 2;
    el.method.innerHTML = "";
    var all = document.createElement("option");
    all.value = "all"; all.textContent = "all methods";
    el.method.appendChild(all);
    group().methods.forEach(function (m) {
      var o = document.createElement("option");
      o.value = m.row; o.textContent = m.row;
      el.method.appendChild(o);
    });
    if (state.m !== "all" && !group().methods.some(function (m) { return m.row === state.m; })) state.m = "all";
    el.method.value = state.m;
  }

  function computeOrder() {
    var g = group();
    var mi = state.m === "all" ? -1 : g.methods.findIndex(function (m) { return m.row === state.m; });
    order = g.rows.filter(function (r) { return mi < 0 || r[1] === mi; });
    var col = state.sort, sign = state.dir === "desc" ? -1 : 1;
    if (!col) return;
    var key;
    if (col === "stem") key = function (r) { return g.images[r[0]].stem; };
    else if (col === "method") key = function (r) { return g.methods[r[1]].row; };
    else {
      var ci = g.columns.indexOf(col);
      if (ci < 0) { state.sort = null; return; }
      key = function (r) { return r[2 + ci]; };
    }
    order = order.map(function (r, i) { return [r, i]; });
    order.sort(function (a, b) {
      var x = key(a[0]), y = key(b[0]);
      if (x === null && y === null) return a[1] - b[1];
      if (x === null) return 1; // missing values last, whatever the direction
      if (y === null) return -1;
      var c = typeof x === "string" ? x.localeCompare(y, undefined, { numeric: true }) : x - y;
      return c !== 0 ? sign * c : a[1] - b[1];
    });
    order = order.map(function (p) { return p[0]; });
  }

  function renderTable() {
    var g = group();
    var columns = ["stem", "method"].concat(g.columns);
    var tr = document.createElement("tr");
    columns.forEach(function (c) {
      var th = document.createElement("th");
      if (c !== "stem" && c !== "method") th.className = "num";
      th.setAttribute("data-column", c);
      th.setAttribute("aria-sort", state.sort === c ? (state.dir === "desc" ? "descending" : "ascending") : "none");
      var b = document.createElement("button");
      b.type = "button"; b.className = "sort"; b.textContent = c === "stem" || c === "method" ? c : label(c);
      b.addEventListener("click", function () { sortBy(c); });
      th.appendChild(b);
      tr.appendChild(th);
    });
    el.thead.innerHTML = "";
    el.thead.appendChild(tr);

    var frag = document.createDocumentFragment();
    order.forEach(function (r) {
      var row = document.createElement("tr");
      var stem = g.images[r[0]].stem, method = g.methods[r[1]];
      row.setAttribute("data-stem", stem);
      row.setAttribute("data-method", method.row);
      if (stem === state.img) row.className = "current";
      var td = document.createElement("td");
      td.textContent = stem; td.setAttribute("data-value", stem);
      row.appendChild(td);
      td = document.createElement("td");
      var sw = document.createElement("span");
      sw.className = "swatch"; sw.style.background = method.colour;
      td.appendChild(sw); td.appendChild(document.createTextNode(method.row));
      td.setAttribute("data-value", method.row);
      row.appendChild(td);
      g.columns.forEach(function (c, ci) {
        var cell = document.createElement("td");
        var v = r[2 + ci];
        cell.className = "num";
        cell.textContent = fmt(c, v);
        cell.setAttribute("data-value", v === null ? "" : String(v));
        row.appendChild(cell);
      });
      row.addEventListener("click", function () { show(stem); });
      frag.appendChild(row);
    });
    el.tbody.innerHTML = "";
    el.tbody.appendChild(frag);
  }

  function stemsInOrder() {
    var seen = {}, out = [];
    var g = group();
    order.forEach(function (r) {
      var s = g.images[r[0]].stem;
      if (!seen[s]) { seen[s] = true; out.push(s); }
    });
    return out;
  }

  function renderViewer() {
    var g = group();
    var stems = stemsInOrder();
    if (!state.img || !g.images.some(function (im) { return im.stem === state.img; })) state.img = stems[0] || (g.images[0] && g.images[0].stem) || null;
    var ii = g.images.findIndex(function (im) { return im.stem === state.img; });
    el.cells.innerHTML = "";
    if (ii < 0) { el.title.textContent = "No images"; el.position.textContent = ""; return; }
    var image = g.images[ii];
    var pos = stems.indexOf(image.stem);
    el.title.textContent = image.stem;
    el.position.textContent = pos >= 0 ? (pos + 1) + " / " + stems.length : "(not in the filtered table)";
    var values = {};
    g.rows.forEach(function (r) { if (r[0] === ii) values[r[1]] = r; });
    el.cells.appendChild(cell("Image", null, image.photo, image.stem + ": photo", null));
    el.cells.appendChild(cell("GT (in focus white)", null, image.gt, image.stem + ": ground truth", null));
    g.methods.forEach(function (m, mi) {
      var r = values[mi];
      var text = r ? g.columns.filter(function (c) { return c === "f_max" || c === "f_adaptive" || c === "mae"; })
        .map(function (c) { return c + " " + fmt(c, r[2 + g.columns.indexOf(c)]); }).join(" · ") : "not scored";
      el.cells.appendChild(cell(m.row, m.colour, image.maps[mi], image.stem + ": " + m.row + " map", text));
    });
    Array.prototype.forEach.call(el.tbody.rows, function (row) {
      row.classList.toggle("current", row.getAttribute("data-stem") === image.stem);
    });
  }

  function cell(name, colour, src, alt, text) {
    var div = document.createElement("div");
    div.className = "cell";
    var lab = document.createElement("div");
    lab.className = "label"; lab.textContent = name;
    if (colour) lab.style.color = colour;
    div.appendChild(lab);
    if (src) {
      var img = document.createElement("img");
      img.src = src; img.alt = alt;
      if (colour) img.style.borderColor = colour;
      div.appendChild(img);
    } else {
      var missing = document.createElement("div");
      missing.className = "missing"; missing.textContent = "not available";
      div.appendChild(missing);
    }
    if (text) {
      var v = document.createElement("div");
      v.className = "values"; v.textContent = text;
      div.appendChild(v);
    }
    return div;
  }

  function render() {
    renderControls();
    computeOrder();
    renderTable();
    renderViewer();
    writeHash();
  }

  // ---------------------------------------------------------------- actions

  function sortBy(column) {
    if (state.sort === column) state.dir = state.dir === "asc" ? "desc" : "asc";
    else { state.sort = column; state.dir = "asc"; }
    computeOrder(); renderTable(); renderViewer(); writeHash();
  }

  function show(stem) {
    state.img = stem;
    renderViewer(); writeHash();
  }

  function step(delta) {
    var stems = stemsInOrder();
    if (!stems.length) return;
    var i = stems.indexOf(state.img);
    i = i < 0 ? 0 : (i + delta + stems.length) % stems.length;
    show(stems[i]);
    var row = el.tbody.querySelector("tr.current");
    if (row && row.scrollIntoView) row.scrollIntoView({ block: "nearest" });
  }

  el.group.addEventListener("change", function () {
    state.g = Number(el.group.value); state.m = "all"; state.img = null; state.sort = null; render();
  });
  el.method.addEventListener("change", function () { state.m = el.method.value; render(); });
  el.prev.addEventListener("click", function () { step(-1); });
  el.next.addEventListener("click", function () { step(1); });
  document.addEventListener("keydown", function (ev) {
    if (ev.target && /INPUT|SELECT|TEXTAREA/.test(ev.target.tagName)) return;
    if (ev.key === "ArrowRight") { step(1); ev.preventDefault(); }
    if (ev.key === "ArrowLeft") { step(-1); ev.preventDefault(); }
  });
  window.addEventListener("hashchange", function () { readHash(); render(); });

  // ---------------------------------------------------------------- self-test (for headless browsers)

  function tableValues(column) {
    var th = el.thead.querySelector('th[data-column="' + column + '"]');
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    return Array.prototype.map.call(el.tbody.rows, function (row) {
      var v = row.cells[index].getAttribute("data-value");
      return column === "stem" || column === "method" ? v : v === "" ? null : Number(v);
    });
  }

  function isSorted(values, dir) {
    var present = values.filter(function (v) { return v !== null; });
    var nullsLast = values.slice(present.length).every(function (v) { return v === null; });
    for (var i = 1; i < present.length; i++) {
      var a = present[i - 1], b = present[i];
      var c = typeof a === "string" ? a.localeCompare(b, undefined, { numeric: true }) : a - b;
      if (dir === "asc" ? c > 0 : c < 0) return false;
    }
    return nullsLast;
  }

  function selfTestGroup(gi, check) {
    // Choose the group the way a user does (the select), then click every header twice, every filter, a row, next, previous.
    if (data.groups.length > 1) {
      el.group.value = String(gi);
      el.group.dispatchEvent(new Event("change"));
    } else {
      state.m = "all"; state.sort = null; render();
    }
    check(state.g === gi, "choosing results group " + gi);
    var columns = ["stem", "method"].concat(group().columns);
    columns.forEach(function (c) {
      el.thead.querySelector('th[data-column="' + c + '"] button').click();
      check(isSorted(tableValues(c), "asc"), group().slug + ": sorting " + c + " ascending");
      check(el.thead.querySelector('th[data-column="' + c + '"]').getAttribute("aria-sort") === "ascending", group().slug + ": aria-sort of " + c);
      el.thead.querySelector('th[data-column="' + c + '"] button').click();
      var desc = tableValues(c);
      check(isSorted(desc, "desc"), group().slug + ": sorting " + c + " descending");
      check(desc.length === group().rows.length, group().slug + ": row count while sorting " + c);
    });
    group().methods.forEach(function (m) {
      el.method.value = m.row;
      el.method.dispatchEvent(new Event("change"));
      var rows = Array.prototype.map.call(el.tbody.rows, function (r) { return r.getAttribute("data-method"); });
      check(rows.length > 0 && rows.every(function (x) { return x === m.row; }), group().slug + ": filter by " + m.row);
    });
    el.method.value = "all";
    el.method.dispatchEvent(new Event("change"));
    var first = el.tbody.rows[0];
    if (first) {
      first.click();
      check(el.title.textContent === first.getAttribute("data-stem"), group().slug + ": clicking a row shows its image");
      var stems = stemsInOrder();
      el.next.click();
      check(stems.length < 2 || el.title.textContent === stems[1], group().slug + ": next shows the following image");
      el.prev.click();
      check(el.title.textContent === stems[0], group().slug + ": previous goes back");
    }
    var imgs = Array.prototype.slice.call(el.cells.querySelectorAll("img"));
    var complete = group().images.every(function (i) { return i.photo && i.gt && i.maps.every(Boolean); });
    check(!complete || imgs.length === 2 + group().methods.length, group().slug + ": viewer shows photo, GT and every map");
    return { slug: group().slug, columns: columns, imgs: imgs };
  }

  function selfTest() {
    var failures = [], checks = 0;
    function check(ok, what) { checks++; if (!ok) failures.push(what); }
    var saved = { g: state.g, m: state.m, sort: state.sort, dir: state.dir, img: state.img };
    var report = { groups: [], columns: [], images_checked: 0, images_loaded: 0 };
    var waits = [];
    data.groups.forEach(function (_, gi) {
      var r = selfTestGroup(gi, check);
      report.groups.push(r.slug);
      if (gi === 0) report.columns = r.columns;
      report.images_checked += r.imgs.length;
      // decode() before the next group replaces these elements: a detached image still loads
      waits = waits.concat(r.imgs.map(function (img) {
        return (img.decode ? img.decode() : Promise.resolve()).then(function () { return img.naturalWidth > 0; }, function () { return false; });
      }));
    });
    return Promise.all(waits).then(function (loaded) {
      report.images_loaded = loaded.filter(Boolean).length;
      check(report.images_loaded === report.images_checked, "every viewer image loads (" + report.images_loaded + "/" + report.images_checked + ")");
      var external = (performance.getEntriesByType ? performance.getEntriesByType("resource") : [])
        .map(function (e) { return e.name; })
        .filter(function (n) { return !/^(file|data|blob):/.test(n) && n.indexOf(location.origin + "/") !== 0; });
      check(external.length === 0, "no resource from outside the report: " + external.join(", "));
      report.external = external;
      report.checks = checks;
      report.failures = failures;
      report.status = failures.length ? "fail" : "pass";
      state.g = saved.g; state.m = saved.m; state.sort = saved.sort; state.dir = saved.dir; state.img = saved.img;
      render();
      el.selftest.textContent = JSON.stringify(report);
      el.selftest.setAttribute("data-status", report.status);
      document.title = "SELFTEST " + report.status.toUpperCase() + " " + document.title;
      return report;
    });
  }

  window.dbdbenchReport = { data: data, state: state, render: render, sortBy: sortBy, show: show, step: step, selfTest: selfTest };
  readHash();
  render();
  if (/selftest/.test(location.hash)) selfTest();
})();
