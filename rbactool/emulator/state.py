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

from rbactool.emulator.config import DEFAULT_SUBSCRIPTION, DEFAULT_TENANT, EmulatorConfig

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
    object_id: str
    type: str
    display_name: str = ""
    #: wall-clock time from which the directory knows it
    visible_at: float = 0.0

    def to_json(self) -> dict:
        return {"objectId": self.object_id, "type": self.type, "displayName": self.display_name,
                "visibleAt": self.visible_at}

    @classmethod
    def from_json(cls, d: dict) -> Principal:
        return cls(d["objectId"], d["type"], d.get("displayName") or "", float(d.get("visibleAt", 0.0)))


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
    #: directory groups: id (lower) -> {"id", "displayName", "members": [member ids]} (see put_group)
    groups: dict[str, dict] = field(default_factory=dict)
    deny_assignments: dict[str, DenyAssignmentRecord] = field(default_factory=dict)
    eligibilities: dict[str, EligibilityRecord] = field(default_factory=dict)
    #: bucket_of(scope) -> {assignment name lower: record}, for lists of one subscription
    assignment_buckets: dict[str, dict[str, RoleAssignmentRecord]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _member_of: dict[str, frozenset[str]] | None = field(default=None, repr=False)
    _group_parents: dict[str, set[str]] = field(default_factory=dict, repr=False)

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

    # ------------------------------------------------------------------ directory groups
    def put_group(self, group_id: str, display_name: str, members: list[str] | tuple[str, ...]) -> None:
        """The one writer of ``groups`` (the seed loader and the control API use it)."""
        self.groups[group_id.lower()] = {"id": group_id, "displayName": display_name, "members": list(members)}
        self._member_of = None

    def groups_of(self, principal_id: str) -> frozenset[str]:
        """Every group (lower-cased id) *principal_id* belongs to, directly or through nested groups."""
        if self._member_of is None:
            parents: dict[str, set[str]] = {}
            for gid, g in self.groups.items():
                for m in g["members"]:
                    parents.setdefault(m.lower(), set()).add(gid)
            self._member_of = {}
            self._group_parents = parents
        low = principal_id.lower()
        hit = self._member_of.get(low)
        if hit is None:
            seen: set[str] = set()
            todo = list(self._group_parents.get(low, ()))
            while todo:
                g = todo.pop()
                if g in seen:
                    continue
                seen.add(g)
                todo.extend(self._group_parents.get(g, ()))
            hit = self._member_of[low] = frozenset(seen)
        return hit

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
        self.groups.clear()
        self._member_of = None
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
            "groups": list(self.groups.values()),
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
        groups = [(str(g["id"]), str(g.get("displayName") or ""), [str(m) for m in g.get("members") or ()])
                  for g in doc.get("groups", ())]
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
        for gid, name, members in groups:
            self.put_group(gid, name, members)
        self.deny_assignments.update({d.name.lower(): d for d in denies})
        self.eligibilities.update({e.name.lower(): e for e in eligible})
