"""``Microsoft.Authorization/denyAssignments``: LIST and GET (read-only, as in Azure: only Azure
itself creates deny assignments; here the seed does).

List at a scope (api-version 2022-04-01): no filter gives the deny assignments at, above and
below the scope; ``atScope()`` at and above; ``principalId eq '{id}'`` those naming the principal
directly (at, above, below); ``assignedTo('{id}')`` those naming the principal, one of its groups
(transitively) or all principals; ``denyAssignmentName eq '{name}'``; ``gdprExportPrincipalId eq
'{id}'`` those naming the principal in ``principals`` or ``excludePrincipals`` (name and
description only). ``atScope()`` combines with one of the others. The root scope ``/`` needs a filter.
"""

from __future__ import annotations

from typing import Any

from rbactool.emulator.armerror import ArmError, invalid_filter
from rbactool.emulator.backend import Backend
from rbactool.emulator.directory import assigned_to
from rbactool.emulator.routing import Call, Response, is_root, page_records, parse_filter
from rbactool.emulator.state import DenyAssignmentRecord, DenyPrincipal

TYPE = "Microsoft.Authorization/denyAssignments"
READ = "Microsoft.Authorization/denyAssignments/read"
ALL_PRINCIPALS = "00000000-0000-0000-0000-000000000000"


def deny_assignment_id(scope: str, name: str) -> str:
    prefix = "" if scope == "/" else scope
    return f"{prefix}/providers/Microsoft.Authorization/denyAssignments/{name}"


def _principal(p: DenyPrincipal) -> dict[str, Any]:
    return {"id": p.id, "displayName": p.display_name or None, "type": p.type, "email": None}


def render(rec: DenyAssignmentRecord) -> dict[str, Any]:
    return {
        "properties": {
            "denyAssignmentName": rec.deny_assignment_name,
            "description": rec.description,
            "permissions": [p.to_json() for p in rec.permissions],
            "scope": rec.scope,
            "doNotApplyToChildScopes": rec.do_not_apply_to_child_scopes,
            "principals": [_principal(p) for p in rec.principals],
            "excludePrincipals": [_principal(p) for p in rec.exclude_principals],
            "isSystemProtected": rec.is_system_protected,
            "createdOn": rec.created_on,
            "updatedOn": rec.created_on,
            "createdBy": None,
            "updatedBy": None,
        },
        "id": deny_assignment_id(rec.scope, rec.name),
        "type": TYPE,
        "name": rec.name,
    }


def _gdpr(rec: DenyAssignmentRecord) -> dict[str, Any]:
    return {"properties": {"denyAssignmentName": rec.deny_assignment_name, "description": rec.description},
            "id": deny_assignment_id(rec.scope, rec.name), "type": TYPE, "name": rec.name}


def get(b: Backend, call: Call) -> Response:
    name = call.name or ""
    b.require(call.caller, READ, str(call.scope), call.path)
    with b.state.lock:
        rec = b.state.deny_assignments.get(name.lower())
        if rec is None or rec.scope.lower() != str(call.scope).lower():
            raise ArmError(404, "DenyAssignmentNotFound", f"The deny assignment '{name}' is not found.")
        return Response(200, render(rec))


def list_(b: Backend, call: Call) -> Response:
    scope = str(call.scope)
    b.require(call.caller, READ, scope, call.path)
    expr = call.query.get("$filter")
    terms = parse_filter(expr, {"atscope()", "principalid", "assignedto()", "denyassignmentname",
                                "gdprexportprincipalid"}, allow_and=True)
    who = [t for t in terms if t != "atscope()"]
    if len(who) > 1 or any(terms[t].value is None for t in who):
        raise invalid_filter(expr or "")
    if is_root(call.scope) and not terms:
        raise ArmError(400, "InvalidFilter", "A filter is required to list deny assignments at the root scope "
                                             "(e.g. $filter=atScope() or assignedTo('{objectId}')).")
    at_scope = "atscope()" in terms
    kind = who[0] if who else None
    value = terms[kind].value.lower() if kind else ""  # type: ignore[union-attr]
    h = b.hierarchy
    with b.state.lock:
        ids: set[str] = set()
        if kind == "assignedto()":
            ids = {ALL_PRINCIPALS, *assigned_to(b.state.principals, value)}
        out = []
        for rec in b.state.deny_assignments.values():
            if not (h.at_or_above(rec.scope, scope) or (not at_scope and h.at_or_above(scope, rec.scope))):
                continue
            if kind == "principalid" and not any(p.id.lower() == value for p in rec.principals):
                continue
            if kind == "assignedto()" and not any(p.id.lower() in ids for p in rec.principals):
                continue
            if kind == "denyassignmentname" and rec.deny_assignment_name.lower() != value:
                continue
            if kind == "gdprexportprincipalid" and not any(
                p.id.lower() == value for p in (*rec.principals, *rec.exclude_principals)
            ):
                continue
            out.append(rec)
    return Response(200, page_records(call, out, b.config.page_size,
                                      _gdpr if kind == "gdprexportprincipalid" else render))
