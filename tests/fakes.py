"""An in-memory gateway (operations.Gateway) and builders of roles, assignments and states, for unit
tests of plan, export and the listings."""

from __future__ import annotations

import re

from rbactool.assignments import Assignment, assignment_name, role_definition_guid, role_definition_id
from rbactool.model import Permission, RoleDefinition
from rbactool.plan import CurrentState, DesiredAssignment, DesiredState
from rbactool.spec import RenderedRole

SUB = "11111111-2222-3333-4444-555555555555"
OTHER_SUB = "99999999-9999-9999-9999-999999999999"
RG = f"/subscriptions/{SUB}/resourceGroups/rg"
MG = "/providers/Microsoft.Management/managementGroups/mg1"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
ALICE = "aaaaaaaa-0000-4000-8000-000000000001"
BOB = "bbbbbbbb-0000-4000-8000-000000000002"


def role(name="Scoring", actions=("Microsoft.Storage/storageAccounts/read",), scopes=(f"/subscriptions/{SUB}",),
         role_id=None, description="") -> RoleDefinition:
    return RoleDefinition(name=name, description=description, permissions=(Permission(actions=tuple(actions)),),
                          assignable_scopes=tuple(scopes), role_id=role_id)


def in_azure(r: RoleDefinition, description: str | None = None) -> RoleDefinition:
    """*r* as Azure holds it: with its deterministic id (and *description*, when given)."""
    from dataclasses import replace

    guid = role_definition_guid(r.name, r.assignable_scopes[0])
    return replace(r, role_id=guid, description=r.description if description is None else description,
                   resource_id=f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{guid}")


def assignment(scope=RG, role_guid=READER, principal=ALICE, description=None, condition=None) -> Assignment:
    name = assignment_name(scope, role_guid, principal)
    return Assignment(id=f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}", name=name, scope=scope,
                      role_definition_id=role_definition_id(role_guid, scope), principal_id=principal,
                      principal_type="User", description=description, condition=condition)


def wanted(scope=RG, role_key=None, role_def=None, role_ref="Reader", principal=ALICE, description=None,
           condition=None) -> DesiredAssignment:
    return DesiredAssignment(scope=scope, role_ref=role_ref, role=role_def, role_key=role_key, principal_id=principal,
                             principal_type="User", description=description, condition=condition,
                             condition_version="2.0" if condition else None, pointer="/assignments/0")


def reader() -> RoleDefinition:
    return RoleDefinition(name="Reader", role_id=READER, is_custom=False, assignable_scopes=("/",))


def state(roles=(), assignments=(), spec_id="team") -> DesiredState:
    return DesiredState(tuple(RenderedRole(k, r, None) for k, r in roles), tuple(assignments), spec_id)


def current(roles=(), assignments=()) -> CurrentState:
    return CurrentState(tuple(roles), tuple(assignments), reads=2, scopes=(f"/subscriptions/{SUB}",))




def _literal(flt: str, field: str) -> str | None:
    m = re.fullmatch(rf"{field} eq '((?:[^']|'')*)'", flt or "")
    return m.group(1).replace("''", "'") if m else None


class FakeGateway:
    """Role definitions and assignments in memory; lists answer as ARM's do (by scope, with the
    filters rbactool uses: type eq 'CustomRole', roleName eq, principalId eq, atScope())."""

    def __init__(self, roles=(), assignments=()):
        self.roles = list(roles)
        self.assignments = list(assignments)
        self.calls: list[tuple[str, str, str | None]] = []

    def list_role_definitions(self, scope, filter=None):  # noqa: A002
        self.calls.append(("roles", scope, filter))
        name = _literal(filter, "roleName")
        return [r for r in self.roles if (filter != "type eq 'CustomRole'" or r.is_custom)
                and (name is None or r.name.lower() == name.lower())
                and (not r.is_custom or any(s.lower().startswith(scope.lower()) for s in r.assignable_scopes))]

    def list_role_assignments(self, scope, filter=None):  # noqa: A002
        self.calls.append(("assignments", scope, filter))
        if filter == "atScope()":
            return [a for a in self.assignments if a.scope.lower() == scope.lower()]
        principal = _literal(filter, "principalId")
        return [a for a in self.assignments if a.scope.lower().startswith(scope.lower())
                and (principal is None or a.principal_id.lower() == principal.lower())]
