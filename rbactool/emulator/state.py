"""The emulator's state: custom roles, role assignments, the directory, caller grants.

Records are frozen dataclasses; :class:`State` holds them in dicts guarded by one lock (every
handler runs its whole read-check-write under it, so concurrent PUTs never lose a write).
Keys are lower-cased GUIDs/names; the caller's spelling is kept in the records.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from rbactool.emulator.config import DEFAULT_SUBSCRIPTION, DEFAULT_TENANT, EmulatorConfig
from rbactool.scopes import is_guid

PRINCIPAL_TYPES = ("User", "Group", "ServicePrincipal", "ForeignGroup", "Device")


def arm_timestamp(t: float | None = None) -> str:
    """ARM's timestamp form: 7 fractional digits and a ``Z``."""
    t = time.time() if t is None else t
    d = dt.datetime.fromtimestamp(t, dt.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond:06d}0Z"


@dataclass(frozen=True)
class PermissionBlock:
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    data_actions: tuple[str, ...] = ()
    not_data_actions: tuple[str, ...] = ()
    condition: str | None = None
    condition_version: str | None = None

    def to_json(self) -> dict:
        out: dict = {
            "actions": list(self.actions),
            "notActions": list(self.not_actions),
            "dataActions": list(self.data_actions),
            "notDataActions": list(self.not_data_actions),
        }
        if self.condition is not None:
            out["condition"] = self.condition
            out["conditionVersion"] = self.condition_version
        return out

    @classmethod
    def from_json(cls, d: dict) -> PermissionBlock:
        return cls(
            tuple(d.get("actions") or ()), tuple(d.get("notActions") or ()),
            tuple(d.get("dataActions") or ()), tuple(d.get("notDataActions") or ()),
            d.get("condition"), d.get("conditionVersion"),
        )


@dataclass(frozen=True)
class RoleDefinitionRecord:
    guid: str
    role_name: str
    description: str
    permissions: tuple[PermissionBlock, ...]
    assignable_scopes: tuple[str, ...]
    is_custom: bool = True
    created_on: str | None = None
    updated_on: str | None = None
    created_by: str | None = None
    updated_by: str | None = None
    #: wall-clock time from which GET/list/assign see the role (replication delay)
    visible_at: float = 0.0
    #: per assignable scope, the time from which assignments there are accepted
    scope_effective_at: tuple[float, ...] = ()

    def effective_scopes(self, now: float) -> tuple[str, ...]:
        if not self.scope_effective_at:
            return self.assignable_scopes
        return tuple(s for s, t in zip(self.assignable_scopes, self.scope_effective_at, strict=False) if t <= now)

    def to_json(self) -> dict:
        return {
            "guid": self.guid, "roleName": self.role_name, "description": self.description,
            "permissions": [p.to_json() for p in self.permissions],
            "assignableScopes": list(self.assignable_scopes),
            "createdOn": self.created_on, "updatedOn": self.updated_on,
            "createdBy": self.created_by, "updatedBy": self.updated_by,
            "visibleAt": self.visible_at, "scopeEffectiveAt": list(self.scope_effective_at),
        }

    @classmethod
    def from_json(cls, d: dict) -> RoleDefinitionRecord:
        return cls(
            guid=d["guid"], role_name=d["roleName"], description=d.get("description") or "",
            permissions=tuple(PermissionBlock.from_json(p) for p in d["permissions"]),
            assignable_scopes=tuple(d["assignableScopes"]), is_custom=True,
            created_on=d.get("createdOn"), updated_on=d.get("updatedOn"),
            created_by=d.get("createdBy"), updated_by=d.get("updatedBy"),
            visible_at=float(d.get("visibleAt", 0.0)),
            scope_effective_at=tuple(float(x) for x in d.get("scopeEffectiveAt", ())),
        )


@dataclass(frozen=True)
class RoleAssignmentRecord:
    name: str
    scope: str
    role_definition_guid: str
    principal_id: str
    principal_type: str | None
    description: str | None = None
    condition: str | None = None
    condition_version: str | None = None
    delegated_managed_identity_resource_id: str | None = None
    created_on: str | None = None
    updated_on: str | None = None
    created_by: str | None = None
    updated_by: str | None = None
    #: wall-clock time from which lists show it (assignment_list_delay_s)
    listed_at: float = 0.0

    @property
    def identity(self) -> tuple[str, str, str]:
        """(principal, role, scope), lower-cased: two assignments with the same identity clash."""
        return (self.principal_id.lower(), self.role_definition_guid.lower(), self.scope.lower())

    def to_json(self) -> dict:
        return {
            "name": self.name, "scope": self.scope, "roleDefinitionGuid": self.role_definition_guid,
            "principalId": self.principal_id, "principalType": self.principal_type,
            "description": self.description, "condition": self.condition,
            "conditionVersion": self.condition_version,
            "delegatedManagedIdentityResourceId": self.delegated_managed_identity_resource_id,
            "createdOn": self.created_on, "updatedOn": self.updated_on,
            "createdBy": self.created_by, "updatedBy": self.updated_by, "listedAt": self.listed_at,
        }

    @classmethod
    def from_json(cls, d: dict) -> RoleAssignmentRecord:
        return cls(
            name=d["name"], scope=d["scope"], role_definition_guid=d["roleDefinitionGuid"],
            principal_id=d["principalId"], principal_type=d.get("principalType"),
            description=d.get("description"), condition=d.get("condition"),
            condition_version=d.get("conditionVersion"),
            delegated_managed_identity_resource_id=d.get("delegatedManagedIdentityResourceId"),
            created_on=d.get("createdOn"), updated_on=d.get("updatedOn"),
            created_by=d.get("createdBy"), updated_by=d.get("updatedBy"),
            listed_at=float(d.get("listedAt", 0.0)),
        )


@dataclass(frozen=True)
class Principal:
    """One directory object: what ARM checks principals against and what the Graph stand-in serves."""

    object_id: str
    type: str
    display_name: str = ""
    #: wall-clock time from which ARM knows it (Graph sees it at once, as in Azure)
    visible_at: float = 0.0
    #: users: the sign-in name (default ``{object id}@emulator.invalid``)
    user_principal_name: str | None = None
    #: service principals: the application (client) id (default: derived from the object id)
    app_id: str | None = None
    #: service principals: extra names besides the app id (identifier URIs)
    service_principal_names: tuple[str, ...] = ()
    #: groups: object ids of the direct members (users, service principals, groups, devices)
    members: tuple[str, ...] = ()

    def to_json(self) -> dict:
        out: dict = {"objectId": self.object_id, "type": self.type, "displayName": self.display_name,
                     "visibleAt": self.visible_at}
        if self.user_principal_name is not None:
            out["userPrincipalName"] = self.user_principal_name
        if self.app_id is not None:
            out["appId"] = self.app_id
        if self.service_principal_names:
            out["servicePrincipalNames"] = list(self.service_principal_names)
        if self.type in ("Group", "ForeignGroup"):
            out["members"] = list(self.members)
        return out

    @classmethod
    def from_json(cls, d: dict) -> Principal:
        """A persisted principal, checked like a seeded one (ValueError)."""
        return make_principal(d["objectId"], d["type"], d.get("displayName") or "", float(d.get("visibleAt", 0.0)),
                              user_principal_name=d.get("userPrincipalName"), app_id=d.get("appId"),
                              service_principal_names=d.get("servicePrincipalNames"), members=d.get("members"))


# ------------------------------------------------------------------------ checking seeded principals

GROUP_TYPES = ("Group", "ForeignGroup")
MAX_NAME = 1024
MAX_NAMES = 1000
MAX_MEMBERS = 100_000


def canonical_type(value: Any) -> str:
    canonical = {t.lower(): t for t in PRINCIPAL_TYPES}.get(str(value).lower())
    if canonical is None:
        raise ValueError(f"principal type must be one of {', '.join(PRINCIPAL_TYPES)}, got {value!r}")
    return canonical


def _text(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME:
        raise ValueError(f"principal {what} must be a non-empty string of at most {MAX_NAME} characters")
    return value


def _texts(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or len(value) > MAX_NAMES:
        raise ValueError(f"principal {what} must be a list of at most {MAX_NAMES} strings")
    return tuple(_text(v, what) or "" for v in value)


def member_ids(value: Any, group: str) -> tuple[str, ...]:
    """Direct members as given (GUIDs, duplicates dropped, first spelling kept); ValueError otherwise."""
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or len(value) > MAX_MEMBERS:
        raise ValueError(f"group members must be a list of at most {MAX_MEMBERS} object ids")
    out: dict[str, str] = {}
    for m in value:
        if not isinstance(m, str) or not is_guid(m):
            raise ValueError(f"group member must be an object id (GUID), got {str(m)[:60]!r}")
        if m.lower() == group.lower():
            raise ValueError(f"group {group} cannot be a member of itself")
        out.setdefault(m.lower(), m)
    return tuple(out.values())


def make_principal(object_id: Any, type: Any = "User", display_name: Any = "",  # noqa: A002
                   visible_at: float = 0.0, *, user_principal_name: Any = None, app_id: Any = None,
                   service_principal_names: Any = None, members: Any = None) -> Principal:
    """A checked directory object (ValueError naming the bad field)."""
    if not isinstance(object_id, str) or not is_guid(object_id):
        raise ValueError(f"principal object id must be a GUID, got {str(object_id)[:60]!r}")
    kind = canonical_type(type)
    if display_name is None:
        display_name = ""
    if not isinstance(display_name, str) or len(display_name) > MAX_NAME:
        raise ValueError(f"principal displayName must be a string of at most {MAX_NAME} characters")
    upn = _text(user_principal_name, "userPrincipalName")
    app = _text(app_id, "appId")
    spns = _texts(service_principal_names, "servicePrincipalNames")
    if upn is not None and kind != "User":
        raise ValueError("userPrincipalName is only for principals of type User")
    if (app is not None or spns) and kind != "ServicePrincipal":
        raise ValueError("appId and servicePrincipalNames are only for principals of type ServicePrincipal")
    if members is not None and kind not in GROUP_TYPES:
        raise ValueError("members are only for principals of type Group")
    return Principal(object_id, kind, display_name, float(visible_at), upn, app, spns,
                     member_ids(members, object_id))


@dataclass(frozen=True)
class CallerGrant:
    """One entry of the caller-permission table: the caller holds *role* at *scope*."""

    role: str  # role GUID (built-in or custom)
    scope: str

    def to_json(self) -> dict:
        return {"role": self.role, "scope": self.scope}


@dataclass(frozen=True)
class ManagementGroupRecord:
    """One management group of the hierarchy (the tenant root group's ``name`` is the tenant id)."""

    name: str
    display_name: str
    parent: str | None  # the parent group's name; None for the tenant root group

    def to_json(self) -> dict:
        return {"name": self.name, "displayName": self.display_name, "parent": self.parent}

    @classmethod
    def from_json(cls, d: dict) -> ManagementGroupRecord:
        return cls(str(d["name"]), str(d.get("displayName") or d["name"]), d.get("parent"))


@dataclass(frozen=True)
class DenyPrincipal:
    id: str
    type: str  # User, Group, ServicePrincipal, SystemDefined (the all-principals id)
    display_name: str = ""

    def to_json(self) -> dict:
        return {"id": self.id, "type": self.type, "displayName": self.display_name}

    @classmethod
    def from_json(cls, d: dict) -> DenyPrincipal:
        return cls(str(d["id"]), str(d["type"]), str(d.get("displayName") or ""))


@dataclass(frozen=True)
class DenyAssignmentRecord:
    name: str  # the GUID in the id
    deny_assignment_name: str
    description: str
    scope: str
    permissions: tuple[PermissionBlock, ...]
    principals: tuple[DenyPrincipal, ...]
    exclude_principals: tuple[DenyPrincipal, ...] = ()
    do_not_apply_to_child_scopes: bool = False
    is_system_protected: bool = True
    created_on: str | None = None

    def to_json(self) -> dict:
        return {
            "name": self.name, "denyAssignmentName": self.deny_assignment_name, "description": self.description,
            "scope": self.scope, "permissions": [p.to_json() for p in self.permissions],
            "principals": [p.to_json() for p in self.principals],
            "excludePrincipals": [p.to_json() for p in self.exclude_principals],
            "doNotApplyToChildScopes": self.do_not_apply_to_child_scopes,
            "isSystemProtected": self.is_system_protected, "createdOn": self.created_on,
        }

    @classmethod
    def from_json(cls, d: dict) -> DenyAssignmentRecord:
        return cls(
            name=str(d["name"]), deny_assignment_name=str(d.get("denyAssignmentName") or d["name"]),
            description=str(d.get("description") or ""), scope=str(d["scope"]),
            permissions=tuple(PermissionBlock.from_json(p) for p in d["permissions"]),
            principals=tuple(DenyPrincipal.from_json(p) for p in d["principals"]),
            exclude_principals=tuple(DenyPrincipal.from_json(p) for p in d.get("excludePrincipals") or ()),
            do_not_apply_to_child_scopes=bool(d.get("doNotApplyToChildScopes", False)),
            is_system_protected=bool(d.get("isSystemProtected", True)), created_on=d.get("createdOn"),
        )


@dataclass(frozen=True)
class EligibilityRecord:
    """A PIM eligible assignment (one roleEligibilitySchedule with its one current instance)."""

    name: str  # instance GUID
    schedule_name: str  # roleEligibilitySchedule GUID
    scope: str
    role_definition_guid: str
    principal_id: str
    principal_type: str
    condition: str | None = None
    condition_version: str | None = None
    start: str | None = None
    end: str | None = None

    def to_json(self) -> dict:
        return {
            "name": self.name, "scheduleName": self.schedule_name, "scope": self.scope,
            "roleDefinitionGuid": self.role_definition_guid, "principalId": self.principal_id,
            "principalType": self.principal_type, "condition": self.condition,
            "conditionVersion": self.condition_version, "start": self.start, "end": self.end,
        }

    @classmethod
    def from_json(cls, d: dict) -> EligibilityRecord:
        return cls(
            name=str(d["name"]), schedule_name=str(d.get("scheduleName") or d["name"]), scope=str(d["scope"]),
            role_definition_guid=str(d["roleDefinitionGuid"]), principal_id=str(d["principalId"]),
            principal_type=str(d.get("principalType") or "User"), condition=d.get("condition"),
            condition_version=d.get("conditionVersion"), start=d.get("start"), end=d.get("end"),
        )


def bucket_of(scope: str) -> str:
    """Index key of a scope: the lower-cased subscription id, or "" for tenant-level scopes."""
    low = scope.lower()
    if low.startswith("/subscriptions/"):
        return low.split("/", 3)[2]
    return ""


@dataclass
class State:
    """Mutable emulator state. Hold ``lock`` for every read-modify-write."""

    tenant_id: str = DEFAULT_TENANT
    subscriptions: tuple[str, ...] = (DEFAULT_SUBSCRIPTION,)
    config: EmulatorConfig = field(default_factory=EmulatorConfig)
    custom_roles: dict[str, RoleDefinitionRecord] = field(default_factory=dict)
    assignments: dict[str, RoleAssignmentRecord] = field(default_factory=dict)
    #: (principal, role, scope) lower -> assignment name lower
    assignment_index: dict[tuple[str, str, str], str] = field(default_factory=dict)
    principals: dict[str, Principal] = field(default_factory=dict)
    #: deleted custom role name (lower) -> time until which the name stays taken
    name_tombstones: dict[str, float] = field(default_factory=dict)
    #: role GUID (lower) -> time until which a deleted assignment still references it
    assignment_ghosts: dict[str, float] = field(default_factory=dict)
    #: caller object id (lower) -> grants; used when config.enforce_permissions
    caller_grants: dict[str, tuple[CallerGrant, ...]] = field(default_factory=dict)
    #: management group id (lower) -> subscriptions below it (transitively); derived from
    #: ``mg_tree`` when a hierarchy is seeded, else set by set_management_group
    management_groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: the seeded management-group hierarchy: group id (lower) -> record
    mg_tree: dict[str, ManagementGroupRecord] = field(default_factory=dict)
    #: subscription id (lower) -> its parent management group's id (as spelled in mg_tree)
    subscription_parents: dict[str, str] = field(default_factory=dict)
    #: subscription id (lower) -> display name
    subscription_names: dict[str, str] = field(default_factory=dict)
    #: resource groups known besides those in assignment scopes: id (lower) -> id
    resource_groups: dict[str, str] = field(default_factory=dict)
    deny_assignments: dict[str, DenyAssignmentRecord] = field(default_factory=dict)
    eligibilities: dict[str, EligibilityRecord] = field(default_factory=dict)
    #: bucket_of(scope) -> {assignment name lower: record}, for lists of one subscription
    assignment_buckets: dict[str, dict[str, RoleAssignmentRecord]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def put_assignment(self, rec: RoleAssignmentRecord) -> None:
        old = self.assignments.get(rec.name.lower())
        if old is not None:
            self.assignment_index.pop(old.identity, None)
            self.assignment_buckets.get(bucket_of(old.scope), {}).pop(old.name.lower(), None)
        self.assignments[rec.name.lower()] = rec
        self.assignment_index[rec.identity] = rec.name.lower()
        self.assignment_buckets.setdefault(bucket_of(rec.scope), {})[rec.name.lower()] = rec

    def drop_assignment(self, name: str) -> RoleAssignmentRecord | None:
        rec = self.assignments.pop(name.lower(), None)
        if rec is not None:
            self.assignment_index.pop(rec.identity, None)
            self.assignment_buckets.get(bucket_of(rec.scope), {}).pop(rec.name.lower(), None)
        return rec

    def assignments_related_to(self, scope: str, *, below: bool = True) -> list[RoleAssignmentRecord]:
        """Candidates for a list at *scope* (a superset; the caller filters): its subscription's
        assignments plus every tenant-level one (management groups, root). At a management group
        of a seeded hierarchy, the subscriptions below it; without *below*, tenant-level only."""
        b = bucket_of(scope)
        tenant_level = list(self.assignment_buckets.get("", {}).values())
        if b:
            return [*tenant_level, *self.assignment_buckets.get(b, {}).values()]
        if not below:
            return tenant_level
        low = scope.lower().rstrip("/")
        mg = low.rsplit("/", 1)[-1] if low.startswith("/providers/microsoft.management/managementgroups/") else None
        if mg is None or not self.mg_tree or mg == self.tenant_id.lower() or mg not in self.management_groups:
            return list(self.assignments.values())
        out = tenant_level
        for sub in self.management_groups[mg]:
            out.extend(self.assignment_buckets.get(sub.lower(), {}).values())
        return out

    def clear(self) -> None:
        self.custom_roles.clear()
        self.assignments.clear()
        self.assignment_index.clear()
        self.principals.clear()
        self.name_tombstones.clear()
        self.assignment_ghosts.clear()
        self.caller_grants.clear()
        self.management_groups.clear()
        self.mg_tree.clear()
        self.subscription_parents.clear()
        self.subscription_names.clear()
        self.resource_groups.clear()
        self.deny_assignments.clear()
        self.eligibilities.clear()
        self.assignment_buckets.clear()

    # ------------------------------------------------------------------ persistence shape
    def to_json(self) -> dict:
        return {
            "schema_version": 1,
            "tenantId": self.tenant_id,
            "subscriptions": list(self.subscriptions),
            "customRoles": [r.to_json() for r in self.custom_roles.values()],
            "assignments": [a.to_json() for a in self.assignments.values()],
            "principals": [p.to_json() for p in self.principals.values()],
            "callerGrants": {k: [g.to_json() for g in v] for k, v in self.caller_grants.items()},
            "managementGroups": {k: list(v) for k, v in self.management_groups.items()},
            "managementGroupTree": [m.to_json() for m in self.mg_tree.values()],
            "subscriptionParents": dict(self.subscription_parents),
            "subscriptionNames": dict(self.subscription_names),
            "resourceGroups": list(self.resource_groups.values()),
            "denyAssignments": [d.to_json() for d in self.deny_assignments.values()],
            "eligibilities": [e.to_json() for e in self.eligibilities.values()],
        }

    def load_json(self, doc: dict) -> None:
        """Replace the contents with a persisted document. Raises KeyError/TypeError/ValueError."""
        if doc.get("schema_version") != 1:
            raise ValueError(f"schema_version {doc.get('schema_version')!r} is not supported (want 1)")
        roles = [RoleDefinitionRecord.from_json(r) for r in doc["customRoles"]]
        assignments = [RoleAssignmentRecord.from_json(a) for a in doc["assignments"]]
        principals = [Principal.from_json(p) for p in doc["principals"]]
        grants = {
            k.lower(): tuple(CallerGrant(g["role"], g["scope"]) for g in v)
            for k, v in doc.get("callerGrants", {}).items()
        }
        mgs = {k.lower(): tuple(v) for k, v in doc.get("managementGroups", {}).items()}
        tree = [ManagementGroupRecord.from_json(m) for m in doc.get("managementGroupTree", ())]
        sub_parents = {str(k).lower(): str(v) for k, v in doc.get("subscriptionParents", {}).items()}
        sub_names = {str(k).lower(): str(v) for k, v in doc.get("subscriptionNames", {}).items()}
        rgs = [str(r) for r in doc.get("resourceGroups", ())]
        denies = [DenyAssignmentRecord.from_json(d) for d in doc.get("denyAssignments", ())]
        eligible = [EligibilityRecord.from_json(e) for e in doc.get("eligibilities", ())]
        self.clear()
        self.tenant_id = str(doc["tenantId"])
        self.subscriptions = tuple(str(s) for s in doc["subscriptions"])
        self.custom_roles.update({r.guid.lower(): r for r in roles})
        for a in assignments:
            self.put_assignment(a)
        self.principals.update({p.object_id.lower(): p for p in principals})
        self.caller_grants.update(grants)
        self.management_groups.update(mgs)
        self.mg_tree.update({m.name.lower(): m for m in tree})
        self.subscription_parents.update(sub_parents)
        self.subscription_names.update(sub_names)
        self.resource_groups.update({r.lower(): r for r in rgs})
        self.deny_assignments.update({d.name.lower(): d for d in denies})
        self.eligibilities.update({e.name.lower(): e for e in eligible})
