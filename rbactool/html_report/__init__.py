"""``rbactool report``: one self-contained HTML page about an estate (a snapshot) or about the
custom roles of a repository, for people who do not run CLIs (``docs/report.md``).

The page is assembled from package data (``template.html``, ``report.css``, ``report.js``) and the
report's data: JSON, gzip-compressed and base64-encoded into a non-executable ``<script>`` element,
decompressed in the browser with ``DecompressionStream``. Base64 holds no ``<``, so nothing in the
data can close its element; the page builds its DOM with ``textContent`` only, so no string from
Azure or a role file is ever parsed as HTML; a Content-Security-Policy allows only the page's own
script and style (by hash) and no network at all.

Pure: no azure.*, no network, no printing. The validator is not imported: the caller
(``rbactool.api.report``) passes its results and an ``effective(role)`` function in.
"""

from __future__ import annotations

import base64
import datetime as _dt
import gzip
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from rbactool.access import is_privileged
from rbactool.estate import EstateDB, scope_key

__all__ = ["SCHEMA_VERSION", "ReportPage", "estate_data", "roles_data", "render_html", "SIZE_BUDGET"]

SCHEMA_VERSION = 1
#: The budget of a page for 10,000 assignments (bench/bench_report.py measures it).
SIZE_BUDGET = 5 * 1024 * 1024
_RA = "/providers/Microsoft.Authorization/roleAssignments/"
#: Finding codes that say the catalog may be stale for what a role names.
STALE_CODES = ("CATALOG_OUTDATED", "UNVERIFIED_NAMESPACE", "UNVERIFIED_OPERATION", "UNVERIFIED_WILDCARD")


@dataclass
class ReportPage:
    """The page (``html``) and the figures it shows in its summary (``summary``)."""
    html: str
    summary: dict[str, Any] = field(default_factory=dict)
    kind: str = "estate"

    @property
    def size(self) -> int:
        return len(self.html.encode("utf-8"))


class _Catalog:
    """Every catalog operation once (name, is a data action), indexed, for the page's who-can
    box (is the operation a data action?) and the roles' effective operations (by index)."""

    def __init__(self, catalog):
        self.names: list[str] = []
        self.data: list[int] = []
        self.index: dict[tuple[str, bool], int] = {}
        for op in catalog.expand("*"):
            key = (op.name.lower(), op.is_data_action)
            if key not in self.index:
                self.index[key] = len(self.names)
                self.names.append(op.name)
                self.data.append(int(op.is_data_action))

    def of(self, op) -> int:
        key = (op.name.lower(), op.is_data_action)
        if key not in self.index:
            self.index[key] = len(self.names)
            self.names.append(op.name)
            self.data.append(int(op.is_data_action))
        return self.index[key]


def _blocks(role) -> list[list[list[str]]]:
    return [[list(b.actions), list(b.not_actions), list(b.data_actions), list(b.not_data_actions)]
            for b in role.permissions]


def _findings_by_role(findings: Iterable[Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for f in findings:
        loc = getattr(f, "location", None)
        role = (getattr(loc, "role", None) or "") if loc is not None else ""
        out.setdefault(role, []).append({"code": f.code, "type": f.type, "message": f.message,
                                         "file": getattr(loc, "file", None) or "",
                                         "pointer": getattr(loc, "pointer", None) or ""})
    return out


def _role_entry(role, cat: _Catalog, effective: Callable | None, findings: list[dict[str, Any]],
                detail: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": (role.role_id or "").lower(), "name": role.name, "custom": bool(role.is_custom),
                             "blocks": _blocks(role), "priv": is_privileged(role)}
    if role.is_custom or detail:
        entry["desc"] = role.description or ""
        entry["scopes"] = list(role.assignable_scopes)
        entry["findings"] = findings
    if effective is not None:
        eff = effective(role)
        entry["nA"] = len(eff.actions)
        entry["nD"] = len(eff.data_actions)
        risky = eff.risky()
        entry["risks"] = {cls: len(ops) for cls, ops in risky.items()}
        if role.is_custom or detail:
            entry["ops"] = [cat.of(o) for o in (*eff.actions, *eff.data_actions)]
            entry["riskOps"] = {cls: [cat.of(o) for o in ops] for cls, ops in risky.items()}
            entry["unresolved"] = [*eff.unresolved_actions, *eff.unresolved_data_actions]
    return entry


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def estate_data(db: EstateDB, catalog, *, effective: Callable, validation, escalations) -> dict[str, Any]:
    """The page's data for a snapshot: what ``render_html`` embeds (see docs/report.md)."""
    cat = _Catalog(catalog)
    con = db.con
    by_role = _findings_by_role(validation.findings if validation is not None else ())
    # scopes: the hierarchy, and every scope an assignment or deny assignment names
    scope_rows = con.execute("SELECT key, id, kind, parent, name FROM scopes ORDER BY key").fetchall()
    texts: list[str] = []
    text_index: dict[str, int] = {}

    def text(s: str) -> int:
        if s not in text_index:
            text_index[s] = len(texts)
            texts.append(s)
        return text_index[s]

    principals = {pid: [pid, ptype or "", name or ""] for pid, ptype, name in
                  con.execute("SELECT id, type, name FROM principals ORDER BY id")}
    roles: dict[str, dict[str, Any]] = {}
    role_index: dict[str, int] = {}
    used = {g for (g,) in con.execute("SELECT DISTINCT role_definition_id FROM role_assignments")}
    customs = {g for (g,) in con.execute("SELECT id FROM role_definitions WHERE type = 'CustomRole'")}
    for guid in sorted(used | customs):
        role = db.role(guid)
        if role is None:
            continue
        roles[guid] = _role_entry(role, cat, effective, by_role.get(role.name, []), detail=False)
        roles[guid]["used"] = guid in used
    for i, guid in enumerate(roles):
        role_index[guid] = i
    pindex: dict[str, int] = {}
    plist: list[list[str]] = []

    def principal(pid: str, ptype: str = "") -> int:
        if pid not in pindex:
            pindex[pid] = len(plist)
            plist.append(principals.get(pid) or [pid, ptype, ""])
        return pindex[pid]

    for pid in principals:
        principal(pid)
    in_directory = len(plist)
    assignments: list[list[Any]] = []
    missing_roles = 0
    suffix = len(_RA) + 36
    for (aid, scope, _skey, rid, pid, ptype, cond, cver, eligible, _desc) in con.execute(
            "SELECT * FROM role_assignments ORDER BY id"):
        ri = role_index.get(rid, -1)
        if ri < 0:
            missing_roles += 1
        # the id as Azure builds it (scope + /providers/Microsoft.Authorization/roleAssignments/{guid}) is
        # kept as the GUID alone; any other id in full
        short = (aid[-36:] if scope != "/" and len(aid) == len(scope) + suffix and aid.startswith(scope)
                 and aid[len(scope):-36] == _RA else aid)
        p = pindex[pid] if pid in pindex else principal(pid, ptype or "")
        directory_type = plist[p][1] if p < in_directory else ""
        # [id, scope, role, principal, eligible, condition, condition version, principal type, role id],
        # trailing empty fields dropped; the type only where the directory does not give it
        row = [short, text(scope), ri, p, int(eligible), cond, cver or "",
               "" if directory_type else (ptype or ""), "" if ri >= 0 else rid]
        while row[-1] in ("", None) and len(row) > 5:
            row.pop()
        assignments.append(row)
    members: dict[int, list[int]] = {}
    for gid, mid in con.execute("SELECT group_id, member_id FROM group_members ORDER BY group_id, member_id"):
        members.setdefault(principal(gid), []).append(principal(mid))
    denies = [{"id": d.id, "name": d.name, "scope": d.scope,
               "blocks": [[list(b.actions), list(b.not_actions), list(b.data_actions), list(b.not_data_actions)]
                          for b in d.permissions],
               "principals": list(d.principals), "exclude": list(d.exclude_principals),
               "noChild": d.do_not_apply_to_child_scopes}
              for d in db.denies_at([k for (k,) in con.execute("SELECT DISTINCT scope_key FROM deny_assignments")]
                                    or ["\0"])]
    meta = {k: db.meta.get(k) for k in ("taken_at", "tenant_id", "cloud", "source")}
    gaps = [{"scope": g.scope, "api": g.api, "status": g.status, "code": g.code, "message": g.message}
            for g in db.gaps()]
    esc = escalations.to_dict()["escalations"] if escalations is not None else []
    findings_total = sum(len(v) for v in by_role.values())
    summary = {
        "role_assignments": sum(1 for a in assignments if not a[4]),
        "eligible_assignments": sum(1 for a in assignments if a[4]),
        "role_definitions": con.execute("SELECT count(*) FROM role_definitions").fetchone()[0],
        "custom_roles": len(customs),
        "principals": con.execute("SELECT count(*) FROM principals").fetchone()[0],
        "groups": con.execute("SELECT count(*) FROM principals WHERE type = 'Group'").fetchone()[0],
        "deny_assignments": len(denies),
        "scopes": len(scope_rows),
        "gaps": len(gaps),
        "escalation_paths": len(esc),
        "escalation_principals": len({e["principalId"] for e in esc}),
        "findings": findings_total,
        "errors": sum(1 for v in by_role.values() for f in v if f["type"] == "ERROR"),
    }
    notes = []
    if missing_roles:
        notes.append(f"{missing_roles} assignment(s) name a role definition that is not in the snapshot")
    return {"schema_version": SCHEMA_VERSION, "kind": "estate", "generated": _now(), "snapshot": meta,
            "summary": summary, "gaps": gaps, "notes": notes,
            "scopes": [[k, i, kind, parent, name or ""] for k, i, kind, parent, name in scope_rows],
            "texts": texts, "roles": list(roles.values()), "principals": plist,
            "principalsInDirectory": len(principals), "assignments": assignments,
            "members": [[g, m] for g, m in members.items()], "denies": denies, "escalations": esc,
            "catalog": {"names": cat.names, "data": cat.data, "origin": str(getattr(catalog, "origin", ""))},
            "everyone": "00000000-0000-0000-0000-000000000000"}


def roles_data(roles: Sequence[Any], catalog, *, effective: Callable, validation, files: Sequence[str] = ()
               ) -> dict[str, Any]:
    """The page's data for custom roles in a repository (no Azure): each role's effective
    operations, risk classes and validator findings."""
    cat = _Catalog(catalog)
    by_role = _findings_by_role(validation.findings if validation is not None else ())
    entries = [_role_entry(r, cat, effective, by_role.get(r.name, []), detail=True) for r in roles]
    for r, e in zip(roles, entries, strict=True):
        e["source"] = r.source or ""
    named = {r.name for r in roles}
    loose = [f for name, fs in by_role.items() if name not in named for f in fs]
    summary = {"roles": len(entries), "files": len(files),
               "findings": sum(len(v) for v in by_role.values()),
               "errors": sum(1 for v in by_role.values() for f in v if f["type"] == "ERROR"),
               "security_warnings": sum(1 for v in by_role.values() for f in v if f["type"] == "SECURITY_WARNING"),
               "risky_roles": sum(1 for e in entries if e.get("risks"))}
    return {"schema_version": SCHEMA_VERSION, "kind": "roles", "generated": _now(), "files": list(files),
            "summary": summary, "roles": entries, "documentFindings": loose, "notes": [],
            "catalog": {"names": cat.names, "data": cat.data, "origin": str(getattr(catalog, "origin", ""))}}


def _asset(name: str) -> str:
    return resources.files("rbactool.html_report").joinpath(name).read_text("utf-8")


def encode_data(data: dict[str, Any]) -> str:
    """JSON -> gzip -> base64 (ASCII letters, digits, ``+/=``: nothing that can end a script element)."""
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(gzip.compress(raw, compresslevel=5, mtime=0)).decode("ascii")


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def render_html(data: dict[str, Any]) -> str:
    """The self-contained page. Only package files and base64 go into the HTML; every string of the
    data reaches the DOM through ``textContent`` in report.js."""
    css, js = _asset("report.css"), _asset("report.js")
    if "</" in css or "</" in js:  # cannot happen with the shipped files; guards an edited one
        raise ValueError("report assets must not contain '</'")
    payload = encode_data(data)
    csp = (f"default-src 'none'; script-src 'sha256-{_sha256(js)}'; style-src 'sha256-{_sha256(css)}'; "
           "img-src data:; base-uri 'none'; form-action 'none'")
    page = _asset("template.html")
    for key, value in (("{{CSP}}", csp), ("{{CSS}}", css), ("{{JS}}", js), ("{{DATA}}", payload)):
        page = page.replace(key, value, 1)
    return page


def usage_data(doc: dict[str, Any], limit: int = 5000) -> dict[str, Any]:
    """The "Used vs granted" view's rows from ``UsageReport.to_dict()``: one row per identity (at
    most *limit*, the lowest ratios first), and the honest limits of what the Activity Log shows."""
    rows = []
    for i in doc.get("identities", []):
        used = [o["operation"] for o in i.get("operations", []) if o.get("calls") and o.get("granted")]
        rows.append([i.get("principalId", ""), i.get("principalType", ""), i.get("principalName", ""),
                     i.get("grantedActions", 0), i.get("observable", 0), i.get("usedObservable", 0),
                     i.get("ratio"), used[:50], len(used), list(i.get("notGranted", []))[:20]])
    rows.sort(key=lambda r: (r[6] if r[6] is not None else 2, r[0]))
    unobserved = sum(1 for a in doc.get("assignments", []) if a.get("unobserved"))
    return {"rows": rows[:limit], "total": len(rows), "unobserved_assignments": unobserved,
            "limits": list(doc.get("limits", []))}


def page(data: dict[str, Any]) -> ReportPage:
    return ReportPage(render_html(data), dict(data["summary"]), data["kind"])


def estate_scope_key(scope: str) -> str:  # re-exported for tests that compare with the page
    return scope_key(scope)
