// rbactool report: builds the page from the data embedded in this file (gzip + base64 JSON).
// Every string from Azure or a role file reaches the DOM through textContent or setAttribute:
// none is ever parsed as HTML, and the page makes no network request.
(function () {
  "use strict";

  var EVERYONE = "00000000-0000-0000-0000-000000000000";
  var MAX_GROUP_DEPTH = 32;
  var RISK_ORDER = ["privilege-escalation", "credential-exposure", "remote-execution", "destructive"];
  var STALE = ["CATALOG_OUTDATED", "UNVERIFIED_NAMESPACE", "UNVERIFIED_OPERATION", "UNVERIFIED_WILDCARD"];
  var RA = "/providers/Microsoft.Authorization/roleAssignments/";
  var D = null; // the data
  var M = {}; // indexes built from it

  // ------------------------------------------------------------------ DOM helpers (text only)

  function el(tag, props) {
    var e = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (k) {
        var v = props[k];
        if (v === undefined || v === null || v === false) return;
        if (k === "text") e.textContent = String(v);
        else if (k === "cls") e.className = v;
        else if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), v);
        else e.setAttribute(k, v === true ? "" : String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) add(e, arguments[i]);
    return e;
  }

  function add(parent, kid) {
    if (arguments.length > 2) { for (var j = 1; j < arguments.length; j++) add(parent, arguments[j]); return; }
    if (kid === undefined || kid === null || kid === false) return;
    if (Array.isArray(kid)) { kid.forEach(function (k) { add(parent, k); }); return; }
    parent.appendChild(typeof kid === "object" ? kid : document.createTextNode(String(kid)));
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

  function tag(text, cls) { return el("span", {cls: "tag" + (cls ? " " + cls : ""), text: text}); }

  function riskTags(risks) {
    return RISK_ORDER.filter(function (c) { return risks && risks[c]; }).map(function (c) {
      return tag(c + " (" + risks[c] + ")", "r-" + c);
    });
  }

  function fmt(n) { return Number(n).toLocaleString("en-US"); }

  // ------------------------------------------------------------------ tables: sortable, filterable

  // columns: [{label, value(row) -> string|number, node(row) -> Node|string (optional), num}]
  function table(columns, rows, opts) {
    opts = opts || {};
    var page = opts.pageSize || 100;
    var state = {sort: opts.sort === undefined ? -1 : opts.sort, dir: 1, filter: "", shown: page};
    var wrap = el("div", {cls: "table-block"});
    var search = el("input", {type: "search", cls: "grow", placeholder: "Filter\u2026",
                              "aria-label": "Filter " + (opts.label || "the table")});
    var count = el("span", {cls: "muted", "aria-live": "polite"});
    var more = el("button", {cls: "small more", type: "button", text: "Show more"});
    var all = el("button", {cls: "small more", type: "button", text: "Show all"});
    var tbody = el("tbody");
    var heads = columns.map(function (c, i) {
      var b = el("button", {type: "button", text: c.label});
      var th = el("th", {scope: "col", cls: c.num ? "num" : null}, b);
      b.addEventListener("click", function () {
        if (state.sort === i) state.dir = -state.dir; else { state.sort = i; state.dir = c.num ? -1 : 1; }
        state.shown = page;
        render();
      });
      return th;
    });
    var tbl = el("table", {"aria-label": opts.label || null}, el("thead", null, el("tr", null, heads)), tbody);
    if (opts.id) tbl.id = opts.id;
    var texts = rows.map(function (r) {
      return columns.map(function (c) { return String(c.value(r)); }).join("\u0001").toLowerCase();
    });
    var controls = el("div", {cls: "controls"}, rows.length > 5 ? search : null, count, more, all);
    add(wrap, [controls, el("div", {cls: "table-wrap"}, tbl)]);
    search.addEventListener("input", function () { state.filter = search.value.trim().toLowerCase(); state.shown = page; render(); });
    more.addEventListener("click", function () { state.shown += page; render(); });
    all.addEventListener("click", function () { state.shown = Infinity; render(); });

    function render() {
      var idx = [];
      for (var i = 0; i < rows.length; i++) if (!state.filter || texts[i].indexOf(state.filter) >= 0) idx.push(i);
      if (state.sort >= 0) {
        var c = columns[state.sort];
        var keys = {};
        idx.forEach(function (i) { keys[i] = c.value(rows[i]); });
        idx.sort(function (a, b) {
          var x = keys[a], y = keys[b];
          if (typeof x === "string") { x = x.toLowerCase(); y = String(y).toLowerCase(); }
          return (x < y ? -1 : x > y ? 1 : a - b) * state.dir;
        });
      }
      heads.forEach(function (th, i) {
        if (i === state.sort) th.setAttribute("aria-sort", state.dir > 0 ? "ascending" : "descending");
        else th.removeAttribute("aria-sort");
      });
      clear(tbody);
      var n = Math.min(idx.length, state.shown);
      var frag = document.createDocumentFragment();
      for (var k = 0; k < n; k++) {
        var row = rows[idx[k]];
        var tr = el("tr");
        if (opts.rowAttrs) { var attrs = opts.rowAttrs(row); Object.keys(attrs).forEach(function (a) { tr.setAttribute(a, attrs[a]); }); }
        columns.forEach(function (c) {
          add(tr, el("td", {cls: c.num ? "num" : c.mono ? "mono" : null}, c.node ? c.node(row) : String(c.value(row))));
        });
        frag.appendChild(tr);
      }
      if (!n) frag.appendChild(el("tr", null, el("td", {colspan: columns.length, cls: "muted", text: rows.length ? "No row matches the filter." : "None."})));
      tbody.appendChild(frag);
      count.textContent = idx.length === rows.length ? fmt(rows.length) + " rows" + (n < idx.length ? ", showing " + fmt(n) : "")
        : fmt(idx.length) + " of " + fmt(rows.length) + " rows match" + (n < idx.length ? ", showing " + fmt(n) : "");
      more.hidden = all.hidden = n >= idx.length;
    }
    render();
    wrap.filter = function (text) { search.value = text; state.filter = text.toLowerCase(); state.shown = page; render(); };
    return wrap;
  }

  // ------------------------------------------------------------------ charts: inline SVG with a text equivalent

  var SVG = "http://www.w3.org/2000/svg";
  function svg(tagName, attrs, text) {
    var e = document.createElementNS(SVG, tagName);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) e.textContent = String(text);
    return e;
  }

  function cut(s, n) { s = String(s); return s.length > n ? s.slice(0, n - 1) + "\u2026" : s; }

  // items: [[label, value]]
  function barChart(title, items, unit) {
    var labelW = 310, barW = 340, rowH = 22, w = labelW + barW + 70, h = Math.max(1, items.length) * rowH + 8;
    var max = Math.max.apply(null, [1].concat(items.map(function (i) { return i[1]; })));
    var s = svg("svg", {viewBox: "0 0 " + w + " " + h, width: w, height: h, role: "img", "aria-label": title});
    s.appendChild(svg("title", {}, title));
    items.forEach(function (it, i) {
      var y = 4 + i * rowH;
      s.appendChild(svg("text", {x: labelW - 6, y: y + 15, "text-anchor": "end", "class": "chart-label"}, cut(it[0], 44)));
      s.appendChild(svg("rect", {x: labelW, y: y + 3, width: Math.max(1, Math.round(barW * it[1] / max)), height: rowH - 6, "class": "chart-bar"}));
      s.appendChild(svg("text", {x: labelW + Math.round(barW * it[1] / max) + 6, y: y + 15, "class": "chart-value"}, fmt(it[1])));
    });
    var text = table([{label: "name", value: function (r) { return r[0]; }},
                      {label: unit, value: function (r) { return r[1]; }, num: true}], items,
                     {label: title + " (as a table)", pageSize: 50});
    return el("figure", null, el("figcaption", {text: title}), s,
              el("details", {cls: "text-equivalent"}, el("summary", {text: "The chart as a table"}), text));
  }

  // groups: [[label, [v0, v1, v2, v3]]] stacked over RISK_ORDER
  function stackedChart(title, groups, unit) {
    var labelW = 310, barW = 340, rowH = 22, w = labelW + barW + 70, h = Math.max(1, groups.length) * rowH + 8;
    var max = Math.max.apply(null, [1].concat(groups.map(function (g) { return g[1].reduce(function (a, b) { return a + b; }, 0); })));
    var s = svg("svg", {viewBox: "0 0 " + w + " " + h, width: w, height: h, role: "img", "aria-label": title});
    s.appendChild(svg("title", {}, title));
    groups.forEach(function (g, i) {
      var y = 4 + i * rowH, x = labelW, total = 0;
      s.appendChild(svg("text", {x: labelW - 6, y: y + 15, "text-anchor": "end", "class": "chart-label"}, cut(g[0], 44)));
      g[1].forEach(function (v, k) {
        if (!v) return;
        var bw = Math.max(1, Math.round(barW * v / max));
        var r = svg("rect", {x: x, y: y + 3, width: bw, height: rowH - 6, "class": "s" + k});
        r.appendChild(svg("title", {}, RISK_ORDER[k] + ": " + v));
        s.appendChild(r);
        x += bw; total += v;
      });
      s.appendChild(svg("text", {x: x + 6, y: y + 15, "class": "chart-value"}, fmt(total)));
    });
    var cols = [{label: "name", value: function (r) { return r[0]; }}].concat(RISK_ORDER.map(function (c, k) {
      return {label: c, value: function (r) { return r[1][k]; }, num: true};
    }));
    var legend = el("div", {cls: "legend", "aria-hidden": "true"}, RISK_ORDER.map(function (c, k) { return el("span", {cls: "l" + k, text: c}); }));
    return el("figure", null, el("figcaption", {text: title}), legend, s,
              el("details", {cls: "text-equivalent"}, el("summary", {text: "The chart as a table (" + unit + ")"}),
                 table(cols, groups, {label: title + " (as a table)", pageSize: 50})));
  }

  // ------------------------------------------------------------------ the access model (as rbactool.access)

  function scopeKey(s) { s = String(s).trim().toLowerCase().replace(/\/+$/, ""); return s || "/"; }

  function segmentsKind(segs) {
    if (!segs.length) return "root";
    if (segs[0] === "providers" && segs.length === 4 && segs[1] === "microsoft.management" && segs[2] === "managementgroups") return "managementGroup";
    if (segs[0] === "subscriptions" && segs.length === 2) return "subscription";
    if (segs[0] === "subscriptions" && segs.length === 4 && segs[2] === "resourcegroups") return "resourceGroup";
    return "resource";
  }

  function parentScope(scope) {
    var segs = scope.trim().toLowerCase().split("/").filter(Boolean);
    var kind = segmentsKind(segs);
    var parts = scope.trim().replace(/\/+$/, "").split("/").slice(1);
    if (kind === "resourceGroup") return "/" + parts.slice(0, 2).join("/");
    if (kind !== "resource" || !segs.length || segs[0] !== "subscriptions") return null;
    var last = -1;
    parts.forEach(function (p, i) { if (p.toLowerCase() === "providers") last = i; });
    if (last < 0) return null;
    if (parts.length - (last + 2) > 2) return "/" + parts.slice(0, -2).join("/");
    return "/" + parts.slice(0, last).join("/");
  }

  function ancestry(scope) {
    var chain = [], cur = scopeKey(scope);
    while (cur !== null && chain.indexOf(cur) < 0 && chain.length < 64) {
      chain.push(cur);
      if (cur === "/") break;
      var node = M.scopes[cur];
      if (node && node.parent) cur = node.parent;
      else { var t = parentScope(cur); cur = t ? scopeKey(t) : "/"; }
    }
    if (chain[chain.length - 1] !== "/") chain.push("/");
    return chain;
  }

  var rxCache = {};
  function rx(pattern) {
    var p = pattern.trim();
    if (!(p in rxCache)) {
      rxCache[p] = new RegExp("^" + p.toLowerCase().split("*").map(function (x) {
        return x.replace(/[.*+?^${}()|[\]\\\/-]/g, "\\$&");
      }).join("[\\s\\S]*") + "$");
    }
    return rxCache[p];
  }

  function matches(patterns, low) {
    for (var i = 0; i < patterns.length; i++) if (patterns[i].trim() && rx(patterns[i]).test(low)) return true;
    return false;
  }

  function blockGrants(block, operation, data) {
    var low = operation.toLowerCase();
    return data ? matches(block[2], low) && !matches(block[3], low) : matches(block[0], low) && !matches(block[1], low);
  }

  function roleGrants(role, operation, data) {
    return role.blocks.some(function (b) { return blockGrants(b, operation, data); });
  }

  function isData(operation) {
    var flags = M.catalog[operation.toLowerCase()];
    if (!flags) return [false, operation + " is not in the operations catalog: evaluated as a control-plane action"];
    return [flags.every(function (f) { return f; }), null];
  }

  function groupsOf(pid) {
    if (M.groupsOf[pid]) return M.groupsOf[pid];
    var found = {}, frontier = [pid];
    for (var d = 0; d < MAX_GROUP_DEPTH; d++) {
      var nxt = [];
      frontier.forEach(function (m) {
        (M.memberOf[m] || []).forEach(function (g) { if (!found[g]) { nxt.push(g); } });
      });
      nxt.forEach(function (g) { found[g] = true; });
      if (!nxt.length) break;
      frontier = nxt;
    }
    M.groupsOf[pid] = found;
    return found;
  }

  function holders(pid) {
    var out = [[pid, []]], seen = {}, frontier = [[pid, [pid]]];
    seen[pid] = true;
    for (var d = 0; d < MAX_GROUP_DEPTH; d++) {
      var nxt = [];
      frontier.forEach(function (fp) {
        (M.members[fp[0]] || []).forEach(function (m) {
          if (seen[m]) return;
          seen[m] = true;
          out.push([m, fp[1]]);
          nxt.push([m, fp[1].concat([m])]);
        });
      });
      if (!nxt.length) break;
      frontier = nxt;
    }
    return out;
  }

  function directory() {
    var cache = {};
    return function describe(pid, fallback) {
      if (!(pid in cache)) {
        var p = M.dir[pid];
        cache[pid] = p ? [p[1] || fallback || "", p[2]] : [fallback || "", ""];
      }
      return cache[pid];
    };
  }

  function denyApplies(d, targetKey, pid, groups) {
    if (d.noChild && scopeKey(d.scope) !== targetKey) return false;
    var hit = function (list) { return list.some(function (p) { return p === pid || groups[p]; }); };
    if (!(d.principals.indexOf(EVERYONE) >= 0 || hit(d.principals))) return false;
    return !hit(d.exclude);
  }

  function checkOperation(operation) {
    var op = String(operation).trim();
    if (!op || op.indexOf("/") < 0 || op.indexOf("*") >= 0 || op.length > 512) {
      throw new Error("operation " + JSON.stringify(String(operation)) + ": expected one operation such as Microsoft.Storage/storageAccounts/listKeys/action (no wildcards)");
    }
    return op;
  }

  function checkScope(scope) {
    var s = String(scope).trim();
    if (!s) throw new Error("scope must be a non-empty string");
    if (s.indexOf("*") >= 0) throw new Error("scope " + s + " contains '*': wildcards are not allowed in scopes");
    if (s[0] !== "/") throw new Error("scope " + s + " must start with '/'");
    if (s === "/") return s;
    var stripped = s.replace(/\/+$/, "");
    if (stripped.split("/").slice(1).some(function (p) { return p === ""; })) throw new Error("scope " + s + " has an empty segment ('//')");
    return stripped;
  }

  function grant(pid, ptype, name, a, via, deniedBy) {
    var role = D.roles[a.role];
    var g = {principalId: pid, principalType: ptype, principalName: name, role: role.name,
             roleDefinitionId: role.id, assignmentId: a.id, assignmentScope: a.scope, via: via.slice(),
             viaNames: via.map(function (v) { var p = M.dir[v]; return (p && p[2]) || v; }),
             conditional: a.cond !== null, condition: a.cond, eligible: a.eligible};
    if (deniedBy) g.deniedBy = deniedBy;
    return g;
  }

  function grantOrder(x, y) {
    var a = [x.principalName.toLowerCase() || "~", x.principalId, x.assignmentId];
    var b = [y.principalName.toLowerCase() || "~", y.principalId, y.assignmentId];
    for (var i = 0; i < 3; i++) { if (a[i] < b[i]) return -1; if (a[i] > b[i]) return 1; }
    return 0;
  }

  // Every principal that can perform `operation` at `scope` (rbactool.access.who_can).
  function whoCan(operation, scope) {
    operation = checkOperation(operation);
    scope = checkScope(scope);
    var dn = isData(operation), data = dn[0];
    var out = {operation: operation, isDataAction: data, scope: scope, answers: [], eligible: [], denied: [],
               notes: dn[1] ? [dn[1]] : []};
    var chain = ancestry(scope), target = chain[0];
    var describe = directory();
    var denies = D.denies.filter(function (d) {
      return chain.indexOf(scopeKey(d.scope)) >= 0 && d.blocks.some(function (b) { return blockGrants(b, operation, data); });
    });
    var idx = [];
    chain.forEach(function (k) { (M.byScope[k] || []).forEach(function (i) { idx.push(i); }); });
    idx.sort(function (a, b) { return a - b; });
    idx.forEach(function (i) {
      var a = M.assignments[i];
      if (a.role < 0) { out.notes.push("assignment " + a.id + ": role definition " + a.rid + " is not in the snapshot"); return; }
      if (!roleGrants(D.roles[a.role], operation, data)) return;
      holders(a.pid).forEach(function (h) {
        var pid = h[0], via = h[1];
        var tn = describe(pid, pid === a.pid ? a.ptype : "");
        var groups = groupsOf(pid);
        var deny = null;
        for (var k = 0; k < denies.length; k++) if (denyApplies(denies[k], target, pid, groups)) { deny = denies[k]; break; }
        var g = grant(pid, tn[0], tn[1], a, via, deny ? deny.id : null);
        (deny ? out.denied : a.eligible ? out.eligible : out.answers).push(g);
      });
    });
    [out.answers, out.eligible, out.denied].forEach(function (l) { l.sort(grantOrder); });
    return out;
  }

  function resolvePrincipal(text) {
    var p = String(text).trim().toLowerCase();
    if (M.dir[p] || M.byPrincipal[p]) return p;
    var hits = Object.keys(M.dir).filter(function (id) { return (M.dir[id][2] || "").toLowerCase() === p; });
    if (hits.length === 1) return hits[0];
    if (hits.length > 1) throw new Error("principal " + JSON.stringify(text) + ": " + hits.length + " principals have that name; give the object id");
    throw new Error("principal " + JSON.stringify(text) + " is not in the snapshot (no assignment, no directory entry)");
  }

  function groupPaths(pid) {
    var paths = {}, frontier = [[pid, []]];
    for (var d = 0; d < MAX_GROUP_DEPTH; d++) {
      var nxt = [];
      frontier.forEach(function (fb) {
        (M.memberOf[fb[0]] || []).forEach(function (g) {
          if (!paths[g]) { paths[g] = [g].concat(fb[1]); nxt.push([g, paths[g]]); }
        });
      });
      if (!nxt.length) break;
      frontier = nxt;
    }
    return paths;
  }

  // Everything a principal can do (rbactool.access.principal_access, without --scope).
  function access(principal) {
    var pid = resolvePrincipal(principal);
    var describe = directory();
    var tn = describe(pid, "");
    var groups = Object.keys(groupsOf(pid)).sort();
    var paths = groupPaths(pid);
    var idx = [];
    [pid].concat(groups).forEach(function (p) { (M.byPrincipal[p] || []).forEach(function (i) { idx.push(i); }); });
    idx.sort(function (a, b) { return a - b; });
    var held = [];
    idx.forEach(function (i) {
      var a = M.assignments[i];
      if (a.role < 0) return;
      var role = D.roles[a.role];
      var g = grant(pid, tn[0], tn[1], a, a.pid !== pid ? (paths[a.pid] || []) : [], null);
      g.effectiveActions = role.nA || 0;
      g.effectiveDataActions = role.nD || 0;
      g.riskClasses = RISK_ORDER.filter(function (c) { return role.risks && role.risks[c]; });
      held.push(g);
    });
    held.sort(function (x, y) {
      var a = [scopeKey(x.assignmentScope), x.role.toLowerCase(), x.assignmentId];
      var b = [scopeKey(y.assignmentScope), y.role.toLowerCase(), y.assignmentId];
      for (var i = 0; i < 3; i++) { if (a[i] < b[i]) return -1; if (a[i] > b[i]) return 1; }
      return 0;
    });
    var who = {}; who[pid] = true; groups.forEach(function (g) { who[g] = true; });
    var denies = D.denies.filter(function (d) {
      var hit = function (list) { return list.some(function (p) { return who[p]; }); };
      return (d.principals.indexOf(EVERYONE) >= 0 || hit(d.principals)) && !hit(d.exclude);
    }).map(function (d) { return {id: d.id, scope: d.scope, doNotApplyToChildScopes: d.noChild}; });
    return {principalId: pid, principalType: tn[0], principalName: tn[1], groups: groups, assignments: held,
            denyAssignments: denies};
  }

  // ------------------------------------------------------------------ indexes

  function index() {
    M.catalog = {};
    D.catalog.names.forEach(function (n, i) {
      var k = n.toLowerCase();
      (M.catalog[k] = M.catalog[k] || []).push(!!D.catalog.data[i]);
    });
    if (D.kind !== "estate") return;
    M.scopes = {};
    D.scopes.forEach(function (s) { M.scopes[s[0]] = {key: s[0], id: s[1], kind: s[2], parent: s[3], name: s[4]}; });
    M.dir = {};
    M.pid = [];
    D.principals.forEach(function (p) { M.pid.push(p[0]); M.dir[p[0]] = p; });
    M.members = {}; M.memberOf = {}; M.groupsOf = {};
    D.members.forEach(function (gm) {
      var g = M.pid[gm[0]];
      M.members[g] = gm[1].map(function (m) { return M.pid[m]; });
      M.members[g].forEach(function (m) { (M.memberOf[m] = M.memberOf[m] || []).push(g); });
    });
    Object.keys(M.memberOf).forEach(function (m) { M.memberOf[m].sort(); });
    M.byScope = {}; M.byPrincipal = {}; M.byRole = {};
    M.assignments = D.assignments.map(function (r, i) {
      var scope = D.texts[r[1]];
      var a = {id: r[0][0] === "/" ? r[0] : scope + RA + r[0], scope: scope, key: scopeKey(scope), role: r[2],
               pid: M.pid[r[3]], eligible: !!r[4], cond: r[5] === undefined ? null : r[5], cver: r[6] || "",
               ptype: r[7] || "", rid: r[8] || "", i: i};
      (M.byScope[a.key] = M.byScope[a.key] || []).push(i);
      (M.byPrincipal[a.pid] = M.byPrincipal[a.pid] || []).push(i);
      (M.byRole[a.role] = M.byRole[a.role] || []).push(i);
      return a;
    });
    // the principals the directory does not know are in D.principals too (with the assignment's type);
    // who_can describes them with the assignment's type only: keep the directory apart
    M.inDirectory = D.principalsInDirectory;
    if (M.inDirectory !== undefined) {
      var known = {};
      for (var k = 0; k < M.inDirectory; k++) known[M.pid[k]] = M.dir[M.pid[k]];
      M.dir = known;
    }
  }

  // ------------------------------------------------------------------ shared cells

  function pname(pid) { var p = M.dir[pid]; return (p && p[2]) || pid; }
  function ptype(pid, fallback) { var p = M.dir[pid]; return (p && p[1]) || fallback || ""; }
  function roleName(a) { return a.role >= 0 ? D.roles[a.role].name : a.rid; }
  function principalCell(pid) {
    return el("span", null, pname(pid), pname(pid) !== pid ? el("div", {cls: "muted mono pid", text: pid}) : null);
  }
  function viaText(g) { return (g.viaNames || []).join(" \u2192 "); }

  function grantColumns(extra) {
    var cols = [
      {label: "principal", value: function (g) { return g.principalName || g.principalId; }, node: function (g) { return principalCell(g.principalId); }},
      {label: "type", value: function (g) { return g.principalType; }},
      {label: "role", value: function (g) { return g.role; }},
      {label: "assigned at", value: function (g) { return g.assignmentScope; }, mono: true},
      {label: "via groups", value: viaText},
      {label: "condition", value: function (g) { return g.condition || ""; }, mono: true}];
    return cols.concat(extra || []);
  }

  // ------------------------------------------------------------------ views

  var VIEWS = [];
  var rendered = {};

  function section(id, title, build) { VIEWS.push({id: id, title: title, build: build}); }

  function summaryView(root) {
    var s = D.summary;
    var cards;
    if (D.kind === "estate") {
      var snap = D.snapshot || {};
      add(root, el("p", null, "Snapshot taken ", el("strong", {text: snap.taken_at || "(unknown)"}),
                    snap.tenant_id ? ", tenant " : "", snap.tenant_id ? el("span", {cls: "mono", text: snap.tenant_id}) : "",
                    snap.source ? ", read from " + snap.source : "", ". Report generated " + D.generated + "."));
      cards = [["role_assignments", "role assignments"], ["eligible_assignments", "PIM-eligible"],
               ["principals", "principals"], ["groups", "groups"], ["role_definitions", "role definitions"],
               ["custom_roles", "custom roles"], ["deny_assignments", "deny assignments"], ["scopes", "scopes"],
               ["escalation_paths", "escalation paths", "bad"], ["escalation_principals", "principals who can escalate", "bad"],
               ["errors", "validator errors", "bad"], ["gaps", "gaps (not read)", "warn"]];
    } else {
      add(root, el("p", null, "Custom roles read from " + (D.files.length ? D.files.length + " input(s)" : "the inputs") +
                    " (no Azure). Report generated " + D.generated + "."));
      cards = [["roles", "custom roles"], ["files", "files"], ["findings", "validator findings"],
               ["errors", "validator errors", "bad"], ["security_warnings", "security warnings", "bad"],
               ["risky_roles", "roles with risk classes", "warn"]];
    }
    add(root, el("div", {cls: "cards", role: "list"}, cards.map(function (c) {
      return el("div", {cls: "card" + (c[2] && s[c[0]] ? " " + c[2] : ""), role: "listitem", "data-summary": c[0]},
                el("span", {cls: "n", text: fmt(s[c[0]] || 0)}), c[1]);
    })));
    (D.notes || []).forEach(function (n) { add(root, el("p", {cls: "note", text: n})); });
    if (D.kind === "estate") {
      add(root, el("h2", {text: "Gaps: what could not be read"}));
      if (!D.gaps.length) add(root, el("p", {text: "None: every scope and API the snapshot asked for was read."}));
      else add(root, table([{label: "scope", value: function (g) { return g.scope; }, mono: true},
                             {label: "API", value: function (g) { return g.api; }},
                             {label: "status", value: function (g) { return g.status === null ? "" : g.status; }},
                             {label: "code", value: function (g) { return g.code; }},
                             {label: "message", value: function (g) { return g.message; }}], D.gaps, {label: "gaps", id: "gaps"}));
    }
    add(root, el("p", {cls: "muted", text: "Catalog: " + (D.catalog.origin || "packaged") + ", " + fmt(D.catalog.names.length) + " operations."}));
  }

  function findingsOf(test) {
    var out = [];
    D.roles.forEach(function (r) { (r.findings || []).forEach(function (f) { if (test(f)) out.push({role: r, f: f}); }); });
    (D.documentFindings || []).forEach(function (f) { if (test(f)) out.push({role: {name: "(document)"}, f: f}); });
    return out;
  }

  var findingColumns = [
    {label: "role", value: function (x) { return x.role.name; }},
    {label: "code", value: function (x) { return x.f.code; }, node: function (x) { return tag(x.f.code, x.f.type); }},
    {label: "type", value: function (x) { return x.f.type; }},
    {label: "message", value: function (x) { return x.f.message; }},
    {label: "where", value: function (x) { return (x.f.file || "") + (x.f.pointer ? " " + x.f.pointer : ""); }, mono: true}];

  function risksView(root) {
    if (D.kind === "estate") {
      add(root, el("h2", {text: "Escalation paths (" + fmt(D.escalations.length) + ")"}),
          el("p", {cls: "muted", text: "Principals who can give themselves or others more access: they can write role assignments (delegation conditions evaluated) or change custom roles that are assigned."}),
          table([
            {label: "principal", value: function (e) { return e.principalName || e.principalId; }, node: function (e) { return principalCell(e.principalId); }},
            {label: "kind", value: function (e) { return e.kind; }},
            {label: "through role", value: function (e) { return e.role; }},
            {label: "assigned at", value: function (e) { return e.assignmentScope; }, mono: true},
            {label: "via groups", value: viaText},
            {label: "can hand out / edit", value: function (e) { return (e.roles || []).join(", "); }, node: function (e) {
              var r = e.roles || [];
              return r.length > 6 ? r.slice(0, 6).join(", ") + " and " + (r.length - 6) + " more" : r.join(", "); }},
            {label: "to", value: function (e) { return (e.to || []).join(", "); }},
            {label: "notes", value: function (e) {
              return [e.eligible ? "eligible (PIM)" : "", e.conditional ? "conditional" : "", e.conditionEvaluated ? "" : "condition not evaluated", e.detail].filter(Boolean).join("; "); }}],
            D.escalations, {label: "escalation paths", id: "escalations"}));
      var priv = [], exposure = [];
      M.assignments.forEach(function (a) {
        if (a.role < 0) return;
        var r = D.roles[a.role];
        if (r.priv) priv.push(a);
        if (r.risks && (r.risks["credential-exposure"] || r.risks["remote-execution"])) exposure.push(a);
      });
      var reach = function (a) { return holders(a.pid).length; };
      var aCols = [
        {label: "principal", value: function (a) { return pname(a.pid); }, node: function (a) { return principalCell(a.pid); }},
        {label: "type", value: function (a) { return ptype(a.pid, a.ptype); }},
        {label: "role", value: roleName},
        {label: "scope", value: function (a) { return a.scope; }, mono: true},
        {label: "principals reached", value: reach, num: true},
        {label: "eligible / condition", value: function (a) { return (a.eligible ? "eligible (PIM) " : "") + (a.cond ? "conditional" : ""); }}];
      add(root, el("h2", {text: "Privileged principals (" + fmt(priv.length) + " assignments)"}),
          el("p", {cls: "muted", text: "Assignments of roles that can write role assignments or role definitions, or that grant every provider's operations (Owner, User Access Administrator, Role Based Access Control Administrator, Contributor and equivalents), judged by their permissions, not their names. Groups count every member they reach."}),
          table(aCols, priv, {label: "privileged assignments", id: "privileged"}));
      add(root, el("h2", {text: "Credential exposure and remote execution (" + fmt(exposure.length) + " assignments)"}),
          table(aCols.concat([{label: "risk classes", value: function (a) { return Object.keys(D.roles[a.role].risks || {}).join(" "); },
                               node: function (a) { return riskTags(D.roles[a.role].risks); }}]), exposure,
                {label: "credential exposure and remote execution", id: "exposure"}));
    } else {
      var risky = D.roles.filter(function (r) { return r.risks && Object.keys(r.risks).length; });
      add(root, el("h2", {text: "Roles with risk classes (" + fmt(risky.length) + ")"}),
          table([{label: "role", value: function (r) { return r.name; }},
                 {label: "risk classes", value: function (r) { return Object.keys(r.risks).join(" "); }, node: function (r) { return riskTags(r.risks); }},
                 {label: "effective operations", value: function (r) { return (r.nA || 0) + (r.nD || 0); }, num: true},
                 {label: "file", value: function (r) { return r.source || ""; }, mono: true}], risky, {label: "risky roles", id: "risky-roles"}));
    }
    var clones = findingsOf(function (f) { return f.code === "OWNER_CLONE"; });
    add(root, el("h2", {text: "Owner clones (" + fmt(clones.length) + ")"}), table(findingColumns, clones, {label: "owner clones", id: "owner-clones"}));
    var errors = findingsOf(function (f) { return f.type === "ERROR"; });
    add(root, el("h2", {text: "Custom roles with validator errors (" + fmt(errors.length) + " findings)"}),
        table(findingColumns, errors, {label: "validator errors", id: "errors"}));
    var stale = findingsOf(function (f) { return STALE.indexOf(f.code) >= 0; });
    add(root, el("h2", {text: "Stale-catalog notes (" + fmt(stale.length) + ")"}),
        el("p", {cls: "muted", text: "Operations the catalog cannot confirm because its data for that provider may be stale: check them with az provider operation show, or refresh the catalog (rbactool catalog refresh)."}),
        table(findingColumns, stale, {label: "stale-catalog notes", id: "stale"}));
  }

  var TREE_KINDS = {root: 1, managementGroup: 1, subscription: 1, resourceGroup: 1};

  function scopesView(root) {
    var nodes = {};
    function node(key) {
      if (nodes[key]) return nodes[key];
      var s = M.scopes[key];
      var chain = ancestry(key);
      var parent = chain.length > 1 ? chain[1] : null;
      var kind = s ? s.kind : segmentsKind(key.split("/").filter(Boolean));
      var n = nodes[key] = {key: key, id: s ? s.id : key, kind: kind, name: s ? s.name : key.split("/").pop(),
                            kids: [], at: [], total: 0, risky: 0, esc: 0};
      if (parent !== null && key !== "/") { var p = node(parent); p.kids.push(n); n.parent = p; }
      return n;
    }
    Object.keys(M.scopes).forEach(node);
    var treeNodeOf = {};
    function holderNode(key) {
      if (key in treeNodeOf) return treeNodeOf[key];
      var chain = ancestry(key), found = null;
      for (var i = 0; i < chain.length && !found; i++) {
        var kind = M.scopes[chain[i]] ? M.scopes[chain[i]].kind : segmentsKind(chain[i].split("/").filter(Boolean));
        if (TREE_KINDS[kind]) found = node(chain[i]);
      }
      treeNodeOf[key] = found;
      return found;
    }
    M.assignments.forEach(function (a) {
      var n = holderNode(a.key);
      n.at.push(a);
      var r = a.role >= 0 ? D.roles[a.role] : null;
      var risky = r && (r.priv || (r.risks && (r.risks["privilege-escalation"] || r.risks["credential-exposure"] || r.risks["remote-execution"])));
      for (var p = n; p; p = p.parent) { p.total++; if (risky) p.risky++; }
    });
    D.escalations.forEach(function (e) { for (var p = holderNode(scopeKey(e.assignmentScope)); p; p = p.parent) p.esc++; });
    var kindName = {root: "root", managementGroup: "management group", subscription: "subscription", resourceGroup: "resource group"};
    function label(n) {
      return el("summary", null, el("strong", {text: n.name || n.id}), " ",
                el("span", {cls: "muted", text: kindName[n.kind] || n.kind}), " \u2014 ",
                fmt(n.total) + " assignment" + (n.total === 1 ? "" : "s") + (n.total !== n.at.length ? " (" + fmt(n.at.length) + " here)" : ""),
                n.risky ? el("span", {cls: "risk", text: " \u26A0 " + fmt(n.risky) + " privileged or risky"}) : null,
                n.esc ? el("span", {cls: "risk", text: " \u2191 " + fmt(n.esc) + " escalation path" + (n.esc === 1 ? "" : "s")}) : null);
    }
    function build(n, depth) {
      var d = el("details", {"data-scope": n.key}, label(n));
      if (n.kind === "root" || n.kind === "managementGroup") d.open = true;
      var filled = false;
      function fill() {
        if (filled) return;
        filled = true;
        add(d, el("div", {cls: "here"}, el("div", {cls: "mono muted", text: n.id}),
                  n.at.length ? table([
                    {label: "principal", value: function (a) { return pname(a.pid); }, node: function (a) { return principalCell(a.pid); }},
                    {label: "role", value: roleName},
                    {label: "scope", value: function (a) { return a.scope; }, mono: true},
                    {label: "eligible / condition", value: function (a) { return (a.eligible ? "eligible (PIM) " : "") + (a.cond ? "conditional" : ""); }}],
                    n.at, {label: "assignments at " + n.id, pageSize: 25}) : null));
        n.kids.sort(function (x, y) { return (x.name || x.id).toLowerCase() < (y.name || y.id).toLowerCase() ? -1 : 1; })
          .forEach(function (k) { add(d, build(k, depth + 1)); });
      }
      if (d.open) fill(); else d.addEventListener("toggle", fill);
      return d;
    }
    var tree = el("div", {cls: "tree", id: "scope-tree"}, build(nodes["/"] || node("/"), 0));
    var expand = el("button", {type: "button", text: "Expand all"});
    var collapse = el("button", {type: "button", text: "Collapse all"});
    expand.addEventListener("click", function () {
      for (var i = 0; i < 8; i++) tree.querySelectorAll("details:not([open])").forEach(function (d) { d.open = true; d.dispatchEvent(new Event("toggle")); });
    });
    collapse.addEventListener("click", function () { tree.querySelectorAll("details[open]").forEach(function (d) { d.open = false; }); });
    add(root, el("p", {cls: "muted", text: "Management groups \u2192 subscriptions \u2192 resource groups, with the role assignments at and below each (assignments on resources count in their resource group). \u26A0 marks privileged or risky assignments (privilege escalation, credential exposure, remote execution); \u2191 escalation paths."}),
        el("div", {cls: "controls"}, expand, collapse), tree);
  }

  function whoCanView(root) {
    var opList = el("datalist", {id: "ops-list"});
    var scopeList = el("datalist", {id: "scopes-list"});
    var seen = {}, nSeen = 0;
    Object.keys(M.scopes).map(function (k) { return M.scopes[k].id; }).concat(M.assignments.map(function (a) { return a.scope; }))
      .forEach(function (s) { if (!seen[s.toLowerCase()] && nSeen < 5000) { seen[s.toLowerCase()] = 1; nSeen++; add(scopeList, el("option", {value: s})); } });
    var op = el("input", {type: "text", id: "who-op", cls: "grow", list: "ops-list", autocomplete: "off", spellcheck: "false",
                          placeholder: "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/score/action", "aria-label": "Operation"});
    var scope = el("input", {type: "text", id: "who-scope", cls: "grow", list: "scopes-list", autocomplete: "off", spellcheck: "false",
                             placeholder: "/subscriptions/\u2026/resourceGroups/\u2026", "aria-label": "Scope"});
    op.addEventListener("input", function () {
      var q = op.value.trim().toLowerCase();
      clear(opList);
      if (q.length < 3) return;
      var n = 0;
      for (var i = 0; i < D.catalog.names.length && n < 40; i++) {
        if (D.catalog.names[i].toLowerCase().indexOf(q) >= 0) { add(opList, el("option", {value: D.catalog.names[i]})); n++; }
      }
    });
    var out = el("div", {id: "who-result", "aria-live": "polite"});
    var form = el("form", {cls: "controls", id: "who-form", role: "search"},
                  el("label", {"for": "who-op", cls: "visually-hidden", text: "Operation"}), op,
                  el("label", {"for": "who-scope", cls: "visually-hidden", text: "Scope"}), scope,
                  el("button", {type: "submit", cls: "primary", text: "Who can?"}), opList, scopeList);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      clear(out);
      var r;
      try { r = whoCan(op.value, scope.value); } catch (e) { add(out, el("p", {cls: "error", role: "alert", text: e.message})); return; }
      var rowAttrs = function (g) { return {"data-principal-id": g.principalId}; };
      add(out, el("h3", {text: fmt(new Set(r.answers.map(function (g) { return g.principalId; })).size) + " principal(s) can " + r.operation + " at " + r.scope +
                         (r.isDataAction ? " (a data action)" : "")}),
          table(grantColumns(), r.answers, {label: "who can", id: "who-answers", rowAttrs: rowAttrs}));
      if (r.eligible.length) add(out, el("h3", {text: "Can activate (PIM-eligible): " + r.eligible.length}), table(grantColumns(), r.eligible, {label: "eligible", id: "who-eligible", rowAttrs: rowAttrs}));
      if (r.denied.length) add(out, el("h3", {text: "Granted but denied by a deny assignment: " + r.denied.length}),
                               table(grantColumns([{label: "denied by", value: function (g) { return g.deniedBy; }, mono: true}]), r.denied, {label: "denied", id: "who-denied", rowAttrs: rowAttrs}));
      r.notes.forEach(function (n) { add(out, el("p", {cls: "note", text: n})); });
    });
    add(root, el("p", {cls: "muted", text: "Answered in this page from the snapshot, as rbactool who-can answers: assignments at the scope and every ancestor, wildcards matched as ARM matches them, NotActions per permission block, groups expanded, deny assignments subtracted."}),
        form, out);
  }

  function principalsView(root) {
    var out = el("div", {id: "principal-result", "aria-live": "polite"});
    var input = el("input", {type: "text", id: "principal-input", cls: "grow", list: "principals-list", autocomplete: "off",
                             placeholder: "a name or an object id", "aria-label": "Principal"});
    var list = el("datalist", {id: "principals-list"});
    Object.keys(M.dir).slice(0, 5000).forEach(function (id) { add(list, el("option", {value: M.dir[id][2] || id})); });
    function show(text) {
      clear(out);
      var r;
      try { r = access(text); } catch (e) { add(out, el("p", {cls: "error", role: "alert", text: e.message})); return; }
      add(out, el("h3", null, r.principalName || r.principalId, " ", el("span", {cls: "muted", text: r.principalType + " " + r.principalId})),
          el("p", {text: r.groups.length ? "Member of (transitively): " + r.groups.map(pname).join(", ") : "Member of no group in the snapshot."}),
          table([{label: "role", value: function (g) { return g.role; }},
                 {label: "scope", value: function (g) { return g.assignmentScope; }, mono: true},
                 {label: "via groups", value: viaText},
                 {label: "actions", value: function (g) { return g.effectiveActions; }, num: true},
                 {label: "data actions", value: function (g) { return g.effectiveDataActions; }, num: true},
                 {label: "risk classes", value: function (g) { return g.riskClasses.join(" "); }, node: function (g) { return g.riskClasses.map(function (c) { return tag(c, "r-" + c); }); }},
                 {label: "eligible / condition", value: function (g) { return (g.eligible ? "eligible (PIM) " : "") + (g.condition || ""); }}],
                r.assignments, {label: "access of " + r.principalId, id: "principal-assignments"}));
      if (r.denyAssignments.length) add(out, el("p", {text: "Deny assignments that name it: " + r.denyAssignments.map(function (d) { return d.id; }).join(", ")}));
    }
    var form = el("form", {cls: "controls", id: "principal-form", role: "search"},
                  el("label", {"for": "principal-input", cls: "visually-hidden", text: "Principal"}), input,
                  el("button", {type: "submit", cls: "primary", text: "Show access"}), list);
    form.addEventListener("submit", function (ev) { ev.preventDefault(); show(input.value); });
    var counts = {};
    M.assignments.forEach(function (a) { counts[a.pid] = (counts[a.pid] || 0) + 1; });
    var rows = D.principals;
    var tbl = table([
      {label: "name", value: function (p) { return p[2] || p[0]; }, node: function (p) {
        var b = el("button", {type: "button", cls: "small", text: p[2] || p[0]});
        b.addEventListener("click", function () { input.value = p[0]; show(p[0]); out.scrollIntoView(); });
        return b; }},
      {label: "type", value: function (p) { return p[1]; }},
      {label: "object id", value: function (p) { return p[0]; }, mono: true},
      {label: "direct assignments", value: function (p) { return counts[p[0]] || 0; }, num: true},
      {label: "members", value: function (p) { return (M.members[p[0]] || []).length; }, num: true}], rows, {label: "principals", id: "principals"});
    add(root, el("p", {cls: "muted", text: "What can this identity do: every role assignment it holds, directly or through its groups, with what the role grants."}),
        form, out, el("h2", {text: "Every principal"}), tbl);
  }

  function usageView(root) {
    var U = D.usage;
    add(root, el("p", {cls: "muted", text: "What each identity did in the Activity Log exports given to the report, against what the snapshot grants it. Ratio: observable operations used / granted (writes, deletes and actions; reads and data actions leave no trace in the Activity Log)."}));
    add(root, el("p", null, fmt(U.total) + " identities; " + fmt(U.unobserved_assignments) + " role assignments with no use at all in the logs."));
    var pct = function (r) { return r[6] === null || r[6] === undefined ? "" : (100 * r[6]).toFixed(1) + " %"; };
    add(root, table([
      {label: "principal", value: function (r) { return r[2] || r[0]; }},
      {label: "type", value: function (r) { return r[1]; }},
      {label: "granted actions", value: function (r) { return r[3]; }, num: true},
      {label: "observable granted", value: function (r) { return r[4]; }, num: true},
      {label: "used", value: function (r) { return r[5]; }, num: true},
      {label: "used / granted", value: function (r) { return r[6] === null || r[6] === undefined ? -1 : r[6]; }, num: true,
       node: function (r) { return document.createTextNode(pct(r)); }},
      {label: "operations used", value: function (r) { return r[7].join(" "); }, mono: true,
       node: function (r) { return document.createTextNode(r[7].join(", ") + (r[8] > r[7].length ? " \u2026" : "")); }},
      {label: "used without a grant", value: function (r) { return r[9].join(" "); }, mono: true}
    ], U.rows, {label: "used vs granted", sort: 5}));
    add(root, el("h3", {text: "What the Activity Log does not show"}),
        el("ul", null, (U.limits || []).map(function (t) { return el("li", {text: t}); })));
  }

  function rolesView(root) {
    var custom = D.roles.filter(function (r) { return r.custom; });
    var opsName = function (i) { return D.catalog.names[i]; };
    add(root, el("p", {cls: "muted", text: "Every custom role with its effective operations (wildcards expanded against the catalog, NotActions subtracted per block), their risk classes and the validator's findings."}));
    var detail = el("div", {id: "role-detail"});
    function showRole(r) {
      clear(detail);
      var risky = {};
      Object.keys(r.riskOps || {}).forEach(function (c) { r.riskOps[c].forEach(function (i) { (risky[i] = risky[i] || []).push(c); }); });
      var ops = (r.ops || []).map(function (i) { return [opsName(i), risky[i] || [], !!D.catalog.data[i]]; });
      (r.unresolved || []).forEach(function (u) { ops.push([u + " (not in the catalog)", [], false]); });
      add(detail, el("h3", {text: r.name}),
          r.desc ? el("p", {text: r.desc}) : null,
          el("p", null, "Assignable scopes: ", (r.scopes || []).map(function (s) { return el("span", {cls: "tag mono", text: s}); })),
          el("p", null, "Risk classes: ", riskTags(r.risks).length ? riskTags(r.risks) : "none"),
          el("h3", {text: "Validator findings (" + (r.findings || []).length + ")"}),
          table(findingColumns, (r.findings || []).map(function (f) { return {role: r, f: f}; }), {label: "findings of " + r.name}),
          el("h3", {text: "Effective operations (" + fmt(ops.length) + ")"}),
          table([{label: "operation", value: function (o) { return o[0]; }, mono: true},
                 {label: "kind", value: function (o) { return o[2] ? "data action" : "action"; }},
                 {label: "risk classes", value: function (o) { return o[1].join(" "); }, node: function (o) { return o[1].map(function (c) { return tag(c, "r-" + c); }); }}],
                ops, {label: "effective operations of " + r.name, id: "role-ops"}),
          el("h3", {text: "Permission blocks"}),
          r.blocks.map(function (b, i) {
            return el("div", null, el("strong", {text: "Block " + i}), ["Actions", "NotActions", "DataActions", "NotDataActions"].map(function (k, j) {
              return b[j].length ? el("div", null, k + ": ", b[j].map(function (p) { return el("span", {cls: "tag mono", text: p}); })) : null;
            }));
          }));
    }
    var counts = function (r) { return D.kind === "estate" ? (M.byRole[D.roles.indexOf(r)] || []).length : 0; };
    var cols = [
      {label: "role", value: function (r) { return r.name; }, node: function (r) {
        var b = el("button", {type: "button", cls: "small", text: r.name});
        b.addEventListener("click", function () { showRole(r); detail.scrollIntoView(); });
        return b; }},
      {label: "actions", value: function (r) { return r.nA || 0; }, num: true},
      {label: "data actions", value: function (r) { return r.nD || 0; }, num: true},
      {label: "risk classes", value: function (r) { return Object.keys(r.risks || {}).join(" "); }, node: function (r) { return riskTags(r.risks); }},
      {label: "errors", value: function (r) { return (r.findings || []).filter(function (f) { return f.type === "ERROR"; }).length; }, num: true},
      {label: "findings", value: function (r) { return (r.findings || []).map(function (f) { return f.code; }).join(" "); }}];
    if (D.kind === "estate") cols.splice(3, 0, {label: "assignments", value: counts, num: true});
    else cols.push({label: "file", value: function (r) { return r.source || ""; }, mono: true});
    add(root, table(cols, custom, {label: "custom roles", id: "roles"}), detail);
  }

  function chartsView(root) {
    if (D.kind === "estate") {
      var per = {};
      M.assignments.forEach(function (a) { var n = roleName(a); per[n] = (per[n] || 0) + 1; });
      var items = Object.keys(per).map(function (k) { return [k, per[k]]; }).sort(function (a, b) { return b[1] - a[1] || (a[0] < b[0] ? -1 : 1); });
      add(root, barChart("Role assignments per role (top 15 of " + items.length + ")", items.slice(0, 15), "assignments"));
      var subs = {}, subName = {};
      Object.keys(M.scopes).forEach(function (k) { if (M.scopes[k].kind === "subscription") subName[k] = M.scopes[k].name || M.scopes[k].id; });
      M.assignments.forEach(function (a) {
        if (a.role < 0) return;
        var r = D.roles[a.role];
        var segs = a.key.split("/");
        var key = segs[1] === "subscriptions" ? "/subscriptions/" + segs[2] : "(above subscriptions)";
        var row = subs[key] = subs[key] || [0, 0, 0, 0];
        RISK_ORDER.forEach(function (c, k) { if (r.risks && r.risks[c]) row[k]++; });
      });
      var groups = Object.keys(subs).map(function (k) { return [subName[k] || k, subs[k]]; })
        .sort(function (a, b) { return b[1].reduce(function (x, y) { return x + y; }, 0) - a[1].reduce(function (x, y) { return x + y; }, 0); });
      add(root, stackedChart("Assignments of roles with each risk class, per subscription (top 20 of " + groups.length + ")", groups.slice(0, 20), "assignments"));
    } else {
      var ops = D.roles.map(function (r) { return [r.name, (r.nA || 0) + (r.nD || 0)]; }).sort(function (a, b) { return b[1] - a[1]; });
      add(root, barChart("Effective operations per role (top 15 of " + ops.length + ")", ops.slice(0, 15), "operations"));
      var risk = D.roles.filter(function (r) { return r.risks && Object.keys(r.risks).length; })
        .map(function (r) { return [r.name, RISK_ORDER.map(function (c) { return r.risks[c] || 0; })]; });
      add(root, stackedChart("Risky operations per role, by risk class", risk.slice(0, 20), "operations"));
    }
  }

  // ------------------------------------------------------------------ shell: tabs, routing, print

  function setup() {
    section("summary", "Summary", summaryView);
    section("risks", "Risks", risksView);
    if (D.kind === "estate") {
      section("scopes", "Scope tree", scopesView);
      section("who-can", "Who can", whoCanView);
      section("principals", "Principals", principalsView);
      if (D.usage) section("usage", "Used vs granted", usageView);
    }
    section("roles", "Custom roles", rolesView);
    section("charts", "Charts", chartsView);
    var tabs = document.getElementById("tabs"), views = document.getElementById("views");
    VIEWS.forEach(function (v, i) {
      v.tab = el("button", {type: "button", role: "tab", id: "tab-" + v.id, "aria-controls": "view-" + v.id, tabindex: i ? "-1" : "0", text: v.title});
      v.panel = el("section", {role: "tabpanel", id: "view-" + v.id, "aria-labelledby": "tab-" + v.id, tabindex: "-1", hidden: true},
                   el("h2", {text: v.title}));
      v.tab.addEventListener("click", function () { show(v.id, true); });
      v.tab.addEventListener("keydown", function (ev) {
        var k = ev.key, j = null;
        if (k === "ArrowRight") j = (i + 1) % VIEWS.length;
        else if (k === "ArrowLeft") j = (i - 1 + VIEWS.length) % VIEWS.length;
        else if (k === "Home") j = 0;
        else if (k === "End") j = VIEWS.length - 1;
        if (j !== null) { ev.preventDefault(); show(VIEWS[j].id, true); VIEWS[j].tab.focus(); }
      });
      tabs.appendChild(v.tab);
      views.appendChild(v.panel);
    });
    window.addEventListener("hashchange", function () { route(); });
    window.addEventListener("beforeprint", function () {
      VIEWS.forEach(function (v) { build(v); });
      document.querySelectorAll("details").forEach(function (d) { d.open = true; d.dispatchEvent(new Event("toggle")); });
    });
  }

  function build(v) {
    if (!rendered[v.id]) { rendered[v.id] = true; v.build(v.panel); }
  }

  function show(id, push) {
    var v = VIEWS.filter(function (x) { return x.id === id; })[0] || VIEWS[0];
    build(v);
    VIEWS.forEach(function (x) {
      var on = x === v;
      x.panel.hidden = !on;
      x.tab.setAttribute("aria-selected", on ? "true" : "false");
      x.tab.tabIndex = on ? 0 : -1;
    });
    if (push && location.hash !== "#" + v.id) history.replaceState(null, "", "#" + v.id);
  }

  function route() { show((location.hash || "#summary").slice(1), false); }

  async function load() {
    var b64 = document.getElementById("rbactool-data").textContent.trim();
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return JSON.parse(await new Response(stream).text());
  }

  async function main() {
    try {
      D = await load();
      index();
      var title = D.kind === "estate" ? "RBAC report: " + ((D.snapshot && D.snapshot.tenant_id) ? "tenant " + D.snapshot.tenant_id : "estate")
        : "RBAC report: custom roles";
      document.title = title;
      document.getElementById("title").textContent = title;
      document.getElementById("subtitle").textContent = D.kind === "estate"
        ? "Snapshot taken " + ((D.snapshot && D.snapshot.taken_at) || "(unknown)") + " \u00B7 " + fmt(D.summary.role_assignments) + " role assignments"
        : fmt(D.summary.roles) + " custom roles from the repository (no Azure)";
      setup();
      route();
      window.rbactool = {data: D, whoCan: whoCan, access: access, ancestry: ancestry};
      document.body.setAttribute("data-ready", "1");
      window.rbactoolReadyAt = performance.now();
    } catch (e) {
      document.getElementById("subtitle").textContent = "The report could not be read: " + e.message;
      document.body.setAttribute("data-ready", "error");
      throw e;
    }
  }

  main();
})();
