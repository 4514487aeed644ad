"""Role assignments (pure): the record, deterministic names, and role-definition ids.

Names are deterministic so that re-running is a no-op:

* a custom role's id is ``uuid5(ROLE_NAMESPACE, "<lowercased role name>|<lowercased first assignable scope>")``;
* an assignment's name is ``uuid5(ASSIGNMENT_NAMESPACE, "<scope>|<role GUID>|<principal>")``, all lowercased
  (the principal is part of it, so a re-created identity never collides with its predecessor).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from rbactool.model import guid_from_id
from rbactool.scopes import is_guid, parse_scope

ROLE_NAMESPACE = uuid.UUID("5b1c0b7e-4a8e-5d0f-9f47-2f6f0d7a5e01")
ASSIGNMENT_NAMESPACE = uuid.UUID("8d0e6b52-1f3c-5a9e-b3a1-6c2d4e8f9a02")
PRINCIPAL_TYPES = ("User", "Group", "ServicePrincipal", "ForeignGroup")
ROLE_DEFINITIONS = "/providers/Microsoft.Authorization/roleDefinitions/"


@dataclass(frozen=True)
class Assignment:
    id: str
    name: str
    scope: str
    role_definition_id: str
    principal_id: str
    principal_type: str | None = None
    description: str | None = None
    condition: str | None = None
    condition_version: str | None = None
    created_on: str | None = None

    @property
    def role_guid(self) -> str:
        return role_guid_of(self.role_definition_id)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "scope": self.scope,
            "roleDefinitionId": self.role_definition_id,
            "principalId": self.principal_id,
            "principalType": self.principal_type,
            "description": self.description,
            "condition": self.condition,
            "conditionVersion": self.condition_version,
        }


def role_guid_of(role_definition_id: str) -> str:
    return guid_from_id(role_definition_id) or ""


def role_definition_guid(role_name: str, first_assignable_scope: str) -> str:
    return str(uuid.uuid5(ROLE_NAMESPACE, f"{role_name.lower()}|{first_assignable_scope.lower().rstrip('/')}"))


def assignment_name(scope: str, role_guid: str, principal_id: str) -> str:
    key = f"{scope.lower().rstrip('/')}|{role_guid.lower()}|{principal_id.lower()}"
    return str(uuid.uuid5(ASSIGNMENT_NAMESPACE, key))


def role_definition_id(guid: str, scope: str | None = None) -> str:
    """Full id of a role definition; at subscription level when *scope* names one (as ARM prints it)."""
    sub = parse_scope(scope).subscription if scope else None
    prefix = f"/subscriptions/{sub}" if sub else ""
    return f"{prefix}{ROLE_DEFINITIONS}{guid}"


def looks_like_role_id(ref: str) -> bool:
    """A bare GUID or a full ``.../roleDefinitions/{guid}`` id."""
    if is_guid(ref):
        return True
    return "/providers/microsoft.authorization/roledefinitions/" in ref.lower() and is_guid(role_guid_of(ref))
