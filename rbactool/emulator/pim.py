"""PIM for Azure resources (api-version 2020-10-01): ``roleEligibilityScheduleInstances`` (the
seed's ``eligible_assignments``) and ``roleAssignmentScheduleInstances`` (one ``Assigned``
instance per role assignment, as PIM shows every active assignment), LIST and GET.

Filters: none (at, above and below the scope), ``atScope()`` (at or above), ``principalId eq
'{id}'`` (that principal's own, at, above or below), ``assignedTo('{id}')`` (the principal's and
its groups', transitively), ``asTarget()`` (the caller's, as assignedTo). ``atScope()`` combines
with one of the others. ``memberType`` is ``Group`` for an instance reached through a group,
``Inherited`` for one above the request scope, ``Direct`` otherwise.
"""

from __future__ import annotations

import uuid
from typing import Any

from rbactool.emulator.armerror import ArmError, invalid_filter
from rbactool.emulator.backend import Backend
from rbactool.emulator.directory import assigned_to
from rbactool.emulator.roledefs import definition_id
from rbactool.emulator.routing import Call, Response, page_records, parse_filter
from rbactool.emulator.state import EligibilityRecord, RoleAssignmentRecord, bucket_of

READ = "Microsoft.Authorization/roleAssignments/read"
ELIGIBLE = "Microsoft.Authorization/RoleEligibilityScheduleInstances"
ACTIVE = "Microsoft.Authorization/RoleAssignmentScheduleInstances"
VERSIONS = ("2020-10-01", "2020-10-01-preview", "2022-04-01-preview", "2024-02-01-preview", "2024-09-01-preview")
_NS = uuid.UUID("0b9c4a55-1f0e-4f3a-a1f2-6d7e5c4b3a21")


def _scope_type(scope: str) -> str:
    low = scope.lower()
    if low == "/":
        return "tenant"
    if low.startswith("/providers/microsoft.management/managementgroups/"):
        return "managementgroup"
    parts = low.strip("/").split("/")
    if len(parts) == 2:
        return "subscription"
    if len(parts) == 4:
        return "resourcegroup"
    return "resource"


def _sub(scope: str) -> str | None:
    b = bucket_of(scope)
    return b or None


class _View:
    """What one list call needs to render items: names of scopes, roles and principals."""

    def __init__(self, b: Backend, call: Call, via_group: set[str], request_scope: str):
        self.b, self.call, self.via_group = b, call, via_group
        self.request = request_scope.lower().rstrip("/")
        self.h = b.hierarchy

    def member_type(self, principal: str, scope: str) -> str:
        if principal.lower() in self.via_group:
            return "Group"
        if scope.lower().rstrip("/") != self.request and self.h.at_or_above(scope, self.request or "/"):
            return "Inherited"
        return "Direct"

    def common(self, scope: str, role_guid: str, principal: str, ptype: str | None) -> dict[str, Any]:
        st = self.b.state
        role = self.b.role(role_guid)
        role_id = definition_id(role_guid, self.call.request_subscription or _sub(scope))
        p = st.principals.get(principal.lower())
        sub = _sub(scope)
        if _scope_type(scope) == "subscription" and sub:
            scope_name = st.subscription_names.get(sub, scope.rsplit("/", 1)[-1])
        elif _scope_type(scope) == "managementgroup":
            mg = st.mg_tree.get(scope.rsplit("/", 1)[-1].lower())
            scope_name = mg.display_name if mg else scope.rsplit("/", 1)[-1]
        else:
            scope_name = scope.rsplit("/", 1)[-1] or "/"
        return {
            "scope": scope,
            "roleDefinitionId": role_id,
            "principalId": principal,
            "principalType": ptype,
            "status": "Provisioned",
            "memberType": self.member_type(principal, scope),
            "expandedProperties": {
                "scope": {"id": scope, "displayName": scope_name, "type": _scope_type(scope)},
                "roleDefinition": {"id": role_id, "displayName": role.role_name if role else None,
                                   "type": ("CustomRole" if role.is_custom else "BuiltInRole") if role else None},
                "principal": {"id": principal, "displayName": p.display_name if p else None, "email": None,
                              "type": ptype},
            },
        }


def _id(scope: str, kind: str, name: str) -> str:
    prefix = "" if scope == "/" else scope
    return f"{prefix}/providers/{kind}/{name}"


def render_eligible(rec: EligibilityRecord, view: _View) -> dict[str, Any]:
    props = view.common(rec.scope, rec.role_definition_guid, rec.principal_id, rec.principal_type)
    props.update({
        "roleEligibilityScheduleId": _id(rec.scope, "Microsoft.Authorization/RoleEligibilitySchedules",
                                         rec.schedule_name),
        "startDateTime": rec.start, "endDateTime": rec.end, "createdOn": rec.start,
        "condition": rec.condition, "conditionVersion": rec.condition_version,
    })
    return {"properties": props, "name": rec.name, "id": _id(rec.scope, ELIGIBLE, rec.name), "type": ELIGIBLE}


def render_active(rec: RoleAssignmentRecord, view: _View) -> dict[str, Any]:
    from rbactool.emulator.assignments import assignment_id

    props = view.common(rec.scope, rec.role_definition_guid, rec.principal_id, rec.principal_type)
    schedule = str(uuid.uuid5(_NS, rec.name.lower()))
    props.update({
        "originRoleAssignmentId": assignment_id(rec.scope, rec.name),
        "linkedRoleEligibilityScheduleId": None,
        "linkedRoleEligibilityScheduleInstanceId": None,
        "assignmentType": "Assigned",
        "roleAssignmentScheduleId": _id(rec.scope, "Microsoft.Authorization/RoleAssignmentSchedules", schedule),
        "startDateTime": rec.created_on, "endDateTime": None, "createdOn": rec.created_on,
        "condition": rec.condition, "conditionVersion": rec.condition_version,
    })
    return {"properties": props, "name": rec.name, "id": _id(rec.scope, ACTIVE, rec.name), "type": ACTIVE}


def _select(b: Backend, call: Call, records: list[Any]) -> tuple[list[Any], _View]:
    scope = str(call.scope)
    expr = call.query.get("$filter")
    terms = parse_filter(expr, {"atscope()", "principalid", "assignedto()", "astarget()"}, allow_and=True)
    who = [t for t in terms if t != "atscope()"]
    if len(who) > 1 or any(terms[t].value is None for t in who if t != "astarget()"):
        raise invalid_filter(expr or "")
    at_scope = "atscope()" in terms
    kind = who[0] if who else None
    ids: set[str] = set()
    groups: set[str] = set()
    if kind == "principalid":
        ids = {terms[kind].value.lower()}  # type: ignore[union-attr]
    elif kind in ("assignedto()", "astarget()"):
        target = (terms[kind].value or "") if kind == "assignedto()" else call.caller
        groups = assigned_to(b.state.principals, target) - {target.lower()}
        ids = {target.lower(), *groups}
    h = b.hierarchy
    out = []
    for rec in records:
        if ids and rec.principal_id.lower() not in ids:
            continue
        if h.at_or_above(rec.scope, scope) or (not at_scope and h.at_or_above(scope, rec.scope)):
            out.append(rec)
    return out, _View(b, call, groups, scope)


def _not_found(kind: str, name: str) -> ArmError:
    code = "RoleAssignmentScheduleInstanceNotFound" if kind == ACTIVE else "RoleEligibilityScheduleInstanceNotFound"
    return ArmError(404, code, f"The {kind.rsplit('/', 1)[-1][:-1]} '{name}' is not found.")


def list_eligible(b: Backend, call: Call) -> Response:
    b.require(call.caller, READ, str(call.scope), call.path)
    with b.state.lock:
        recs, view = _select(b, call, list(b.state.eligibilities.values()))
        return Response(200, page_records(call, recs, b.config.page_size, lambda r: render_eligible(r, view)))


def _get_one(b: Backend, call: Call, records: dict, kind: str, render) -> Response:
    """One instance by name at its own scope (404 in the API's words otherwise)."""
    b.require(call.caller, READ, str(call.scope), call.path)
    name = call.name or ""
    with b.state.lock:
        rec = records.get(name.lower())
        if rec is None or rec.scope.lower() != str(call.scope).lower():
            raise _not_found(kind, name)
        return Response(200, render(rec, _View(b, call, set(), str(call.scope))))


def get_eligible(b: Backend, call: Call) -> Response:
    return _get_one(b, call, b.state.eligibilities, ELIGIBLE, render_eligible)


def list_active(b: Backend, call: Call) -> Response:
    b.require(call.caller, READ, str(call.scope), call.path)
    with b.state.lock:
        below = "atscope()" not in (call.query.get("$filter") or "").lower().replace(" ", "")
        candidates = [r for r in b.state.assignments_related_to(str(call.scope), below=below)
                      if r.listed_at <= call.now]
        recs, view = _select(b, call, candidates)
        return Response(200, page_records(call, recs, b.config.page_size, lambda r: render_active(r, view)))


def get_active(b: Backend, call: Call) -> Response:
    return _get_one(b, call, b.state.assignments, ACTIVE, render_active)
