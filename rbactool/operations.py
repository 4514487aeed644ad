"""Idempotent, propagation-aware Azure operations, written against a gateway.

No ``azure.*`` import here: the gateway (``azure_adapter.AzureGateway``, or a fake in unit tests)
does the HTTP. What lives here is the behaviour users need and ``az`` lacks:

* ``ensure_role``: find a custom role by name, create it with a deterministic id, update it in
  place, or leave it alone when it already matches (no write); then wait until ARM serves it.
* ``assign``: read, compare, write: the existing assignment is read first (its fields not given are
  kept, nothing is written when it already matches); a deterministic name, an explicit principal
  type, "already assigned" as success, and bounded, jittered retries while ARM replicates a new
  role or principal.
* ``unassign`` / ``delete_role``: idempotent; absent is success.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from rbactool.arm_errors import TRANSIENT_ASSIGN_CODES
from rbactool.assignments import (
    Assignment,
    assignment_name,
    looks_like_role_id,
    role_definition_guid,
    role_definition_id,
    role_guid_of,
)
from rbactool.errors import EMPTY_CONDITION, AzureOperationError, InputError
from rbactool.managed import carry_marker, owner, strip_marker
from rbactool.model import RoleDefinition, dedupe
from rbactool.scopes import MANAGEMENT_GROUP, is_guid, parse_scope
from rbactool.waits import DEFAULT_BACKOFF, Backoff, pause

logger = logging.getLogger(__name__)
Progress = Callable[[str], None]


class Gateway(Protocol):
    def list_role_definitions(self, scope: str, filter: str | None = None) -> list[RoleDefinition]: ...  # noqa: A002
    def get_role_definition(self, scope: str, guid: str) -> RoleDefinition | None: ...
    def put_role_definition(self, scope: str, guid: str, role: RoleDefinition) -> RoleDefinition: ...
    def delete_role_definition(self, scope: str, guid: str) -> bool: ...
    def list_role_assignments(self, scope: str, filter: str | None = None) -> list[Assignment]: ...  # noqa: A002
    def get_role_assignment(self, scope: str, name: str) -> Assignment | None: ...
    def put_role_assignment(self, scope: str, name: str, **kwargs) -> tuple[bool, Assignment]: ...
    def delete_role_assignment(self, assignment_id: str) -> bool: ...


def _quiet(_: str) -> None:
    return None


def load_builtin_roles():
    """The built-in roles (imported on first use: listing definitions or creating roles needs none of
    the catalog's modules)."""
    from rbactool.builtins import load_builtin_roles as load

    return load()


# --------------------------------------------------------------------------- role definitions


def odata_quote(value: str) -> str:
    """An OData string literal: single quotes doubled (the SDK does not escape them)."""
    return "'" + value.replace("'", "''") + "'"


def lookup_scope(role: RoleDefinition) -> str:
    """Where to look a custom role up by name: the subscription (or management group) of its first scope."""
    if not role.assignable_scopes:
        raise InputError(f"role {role.name!r} has no AssignableScopes")
    first = parse_scope(role.assignable_scopes[0])
    if first.kind == MANAGEMENT_GROUP:
        return str(first)
    if first.subscription is None:
        raise InputError(f"role {role.name!r}: a custom role cannot be assignable at {first}")
    return f"/subscriptions/{first.subscription}"


def find_role_by_name(gw: Gateway, name: str, scope: str) -> RoleDefinition | None:
    """The role named *name* (case-insensitive) visible at *scope*, custom or built-in."""
    found = [r for r in gw.list_role_definitions(scope, f"roleName eq {odata_quote(name)}")
             if r.name.lower() == name.lower()]
    custom = [r for r in found if r.is_custom]
    if len(custom) > 1:
        ids = ", ".join(r.role_id or "?" for r in custom)
        raise AzureOperationError(f"more than one custom role is named {name!r} at {scope} ({ids})")
    return custom[0] if custom else (found[0] if found else None)


def _block_key(p) -> tuple:
    def norm(xs):
        return tuple(sorted(x.lower() for x in dedupe(xs)))

    return (norm(p.actions), norm(p.not_actions), norm(p.data_actions), norm(p.not_data_actions),
            p.condition or None, p.condition_version or None)


def same_definition(a: RoleDefinition, b: RoleDefinition) -> bool:
    """Equal as ARM evaluates them: case-insensitive, order-insensitive permission strings and scopes
    (descriptions compared without the ``[managed by rbactool: ...]`` marker)."""
    return (
        a.name == b.name
        and strip_marker(a.description) == strip_marker(b.description)
        and sorted(_block_key(p) for p in a.permissions) == sorted(_block_key(p) for p in b.permissions)
        and sorted(s.lower().rstrip("/") for s in a.assignable_scopes)
        == sorted(s.lower().rstrip("/") for s in b.assignable_scopes)
    )


@dataclass(frozen=True)
class RoleResult:
    """What ``ensure_role`` did to one custom role (or, for a dry run, would do)."""

    status: str  # created | updated | unchanged | would-create | would-update
    role: RoleDefinition  # what is (or would be) in Azure
    previous: RoleDefinition | None = None
    requests: int = 0

    @property
    def wrote(self) -> bool:
        return self.status in ("created", "updated")


def ensure_role(
    gw: Gateway,
    role: RoleDefinition,
    *,
    dry_run: bool = False,
    wait: bool = True,
    backoff: Backoff = DEFAULT_BACKOFF,
    progress: Progress = _quiet,
) -> RoleResult:
    """Create or update a custom role so Azure holds exactly *role*; no write when it already does.

    One GET of the role's id (the file's ``Id``, else the deterministic one) finds a role rbactool
    made; a new role is then PUT at once. Role names are unique in a tenant and ARM refuses a
    second one (``RoleDefinitionWithSameNameExists``): only then is the name looked up (one list),
    and a role of that name made elsewhere (az, the portal) is updated in place. A dry run, which
    cannot ask ARM, lists by name first.
    """
    if not role.is_custom:
        raise InputError(f"role {role.name!r} is a built-in role: only custom roles can be created")
    scope = lookup_scope(role)
    if load_builtin_roles().has_name(role.name):
        raise InputError(f"{role.name!r} is the name of a built-in role: choose another name for a custom role")
    given = role.role_id if role.role_id and is_guid(role.role_id) else None
    guid = given or role_definition_guid(role.name, role.assignable_scopes[0])
    existing = gw.get_role_definition(scope, guid)
    if existing is not None and existing.name.lower() != role.name.lower():
        # role ids are tenant-wide: never write over another role (a file's Id, or a role renamed since)
        if given:
            raise InputError(f"the role file's Id {guid} belongs to role {existing.name!r}: remove the Id "
                             f"(rbactool picks one for {role.name!r}) or fix the name")
        raise InputError(f"role id {guid}, which rbactool derives from {role.name!r}, belongs to role "
                         f"{existing.name!r} (renamed since?): rename it back, or delete it")
    if existing is not None and not existing.is_custom:
        raise InputError(f"the role file's Id {guid} is the built-in role {existing.name!r}: remove the Id")
    if existing is None and dry_run:
        existing = find_role_by_name(gw, role.name, scope)
        if existing is not None and not existing.is_custom:
            raise InputError(f"{role.name!r} is the name of a built-in role: choose another name for a custom role")
        if existing is None:
            return RoleResult("would-create", replace(role, role_id=guid, resource_id=None))
    if existing is None:
        desired = replace(role, role_id=guid, resource_id=None)
        try:
            stored = gw.put_role_definition(role.assignable_scopes[0], guid, desired)
        except AzureOperationError as e:
            if e.error_code != "RoleDefinitionWithSameNameExists":
                raise
            existing = find_role_by_name(gw, role.name, scope)  # made under another id: update that one
            if existing is None:
                raise  # outside the scopes looked at (or a deleted role's name, still reserved)
            if not existing.is_custom:
                raise InputError(f"{role.name!r} is the name of a built-in role: choose another name for a custom "
                                 "role") from e
        else:
            if wait:
                wait_for_role(gw, stored, backoff=backoff, progress=progress)
            return RoleResult("created", stored)
    desired = replace(role, role_id=existing.role_id, resource_id=existing.resource_id)
    if same_definition(existing, desired):
        return RoleResult("unchanged", existing, existing)
    if dry_run:
        return RoleResult("would-update", desired, existing)
    put_scope = existing.assignable_scopes[0] if existing.assignable_scopes else role.assignable_scopes[0]
    stored = gw.put_role_definition(put_scope, existing.role_id, desired)
    if wait:
        wait_for_role(gw, desired, backoff=backoff, progress=progress)
    return RoleResult("updated", stored, existing)


def wait_for_role(gw: Gateway, role: RoleDefinition, *, backoff: Backoff = DEFAULT_BACKOFF,
                  progress: Progress = _quiet) -> None:
    """Poll until *role* is listed by name, as written, at each assignable scope: one read per
    scope, the one ``assign`` makes to find a custom role by name (lists lag behind writes)."""
    pending = list(dict.fromkeys(role.assignable_scopes))
    delays = backoff.delays()
    while pending:
        scope = pending[0]
        listed = any(r.role_id == role.role_id and same_definition(r, role)
                     for r in gw.list_role_definitions(scope, f"roleName eq {odata_quote(role.name)}"))
        if listed:
            pending.pop(0)
            continue
        delay = next(delays, None)
        if delay is None:
            raise AzureOperationError(
                f"role {role.name!r} was written but is not yet served at {scope} after {backoff.timeout:.0f} s; "
                "re-run later (re-runs are safe) or use --no-wait"
            )
        progress(f"waiting for role {role.name!r} to replicate to {scope} (retry in {delay:.1f} s)")
        logger.info("role %s not yet served at %s; waiting %.1f s", role.name, scope, delay)
        time.sleep(delay)


# --------------------------------------------------------------------------- resolving roles


@dataclass(frozen=True)
class ResolvedRole:
    guid: str
    role: RoleDefinition | None  # None when given only by id and not looked up
    source: str  # builtin | custom | id

    def definition_id(self, scope: str) -> str:
        return role_definition_id(self.guid, scope)


def resolve_role(gw: Gateway, ref: str | RoleDefinition, scope: str) -> ResolvedRole:
    """A role given by built-in name, custom name, GUID, full id, or as a rendered definition."""
    builtins = load_builtin_roles()
    if isinstance(ref, RoleDefinition):
        found = find_role_by_name(gw, ref.name, scope)
        if found is None or not found.is_custom:
            _not_assignable_here(gw, ref.name, scope)
            raise InputError(f"custom role {ref.name!r} does not exist where {scope} can use it: "
                             "create it first (`rbactool create`)")
        return ResolvedRole(found.role_id, found, "custom")
    builtin = builtins.resolve(ref)
    if builtin is not None:
        return ResolvedRole(builtin.role_id, builtin, "builtin")
    if looks_like_role_id(ref):
        return ResolvedRole(role_guid_of(ref).lower(), None, "id")
    found = find_role_by_name(gw, ref, scope)
    if found is None:
        _not_assignable_here(gw, ref, scope)
        close = builtins.closest_names(ref)
        hint = f" (did you mean the built-in {close[0]!r}?)" if close else ""
        raise InputError(f"no role named {ref!r} can be assigned at {scope}{hint}")
    return ResolvedRole(found.role_id, found, "custom" if found.is_custom else "builtin")


def _not_assignable_here(gw: Gateway, name: str, scope: str) -> None:
    """On the error path only: a role that exists in the subscription but not for *scope* gets a precise error."""
    sub = parse_scope(scope).subscription
    if not sub or parse_scope(scope) == parse_scope(f"/subscriptions/{sub}"):
        return
    found = find_role_by_name(gw, name, f"/subscriptions/{sub}")
    if found is not None and found.is_custom:
        raise InputError(f"role {found.name!r} exists but cannot be assigned at {scope}: it is assignable only at "
                         f"or below {', '.join(found.assignable_scopes)} (add the scope to its AssignableScopes, "
                         "or assign it there)")


def preflight_assignment(resolved: ResolvedRole, scope: str) -> None:
    """Offline checks ARM would fail on: assignable scopes, DataActions at a management group."""
    target = parse_scope(scope)
    role = resolved.role
    if role is None:
        return
    scopes = [parse_scope(s) for s in role.assignable_scopes]
    if role.is_custom and not any(target.may_be_at_or_below(s) for s in scopes):
        raise InputError(
            f"role {role.name!r} cannot be assigned at {scope}: it is assignable only at or below "
            f"{', '.join(role.assignable_scopes)}"
        )
    if target.kind == MANAGEMENT_GROUP and role.is_custom and role.data_actions:
        raise InputError(f"role {role.name!r} has DataActions, and Azure refuses to assign such a custom role "
                         "at a management group: assign it at a subscription or below")


# --------------------------------------------------------------------------- assignments


@dataclass(frozen=True)
class FieldChange:
    """One field of an existing assignment that ``assign`` changes: description | condition | conditionVersion."""

    field: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class AssignResult:
    # created | updated | unchanged | already-assigned | would-create | would-update
    status: str
    assignment: Assignment | None  # what Azure holds (or, for a dry run, what it would hold)
    name: str
    role: ResolvedRole
    changes: tuple[FieldChange, ...] = ()
    widens_access: bool = False  # a condition is (or would be) removed
    previous: Assignment | None = None  # the assignment as it was found

    @property
    def wrote(self) -> bool:
        return self.status in ("created", "updated")


def find_assignments(gw: Gateway, scope: str, principal_id: str, role_guid: str | None = None) -> list[Assignment]:
    """Assignments of a principal exactly at *scope* (optionally of one role)."""
    target = str(parse_scope(scope)).lower()
    out = []
    for a in gw.list_role_assignments(scope, f"principalId eq {odata_quote(principal_id)}"):
        # compare as text: Azure may return scopes rbactool would not accept as input (e.g. names with blanks)
        if a.principal_id.lower() != principal_id.lower() or (a.scope or "").lower().rstrip("/") != target:
            continue
        if role_guid is None or a.role_guid.lower() == role_guid.lower():
            out.append(a)
    return out


def find_assignment(gw: Gateway, scope: str, name: str, principal_id: str, role_guid: str) -> Assignment | None:
    """The assignment of *role_guid* to *principal_id* at exactly *scope*, wherever it came from.

    One GET of the deterministic *name* (what ``assign`` and ``apply`` create; a GET is not subject
    to the lag of lists); only when that is absent, one list of the principal's assignments, for one
    made by another tool under another name.
    """
    got = gw.get_role_assignment(scope, name)
    if got is not None and got.principal_id.lower() == principal_id.lower() \
            and got.role_guid.lower() == role_guid.lower():
        return got
    found = find_assignments(gw, scope, principal_id, role_guid)
    return found[0] if found else None


def merge_assignment(
    existing: Assignment,
    *,
    description: str | None = None,
    condition: str | None = None,
    condition_version: str | None = None,
    clear_condition: bool = False,
) -> tuple[Assignment, tuple[FieldChange, ...], bool]:
    """What *existing* becomes when ``assign`` gives these fields (None: not given, kept as it is).

    Returns (the merged assignment, the fields that change, whether access widens). The ownership
    marker of ``apply`` is kept in a new description; a condition is removed only by *clear_condition*.
    Pure.
    """
    if clear_condition and (condition is not None or condition_version):
        raise InputError("--clear-condition removes the condition and its version: give no --condition(-version)")
    new_description = existing.description
    if description is not None:
        new_description = carry_marker(description, existing.description)
    if clear_condition:
        new_condition, new_version = None, None
    elif condition is not None:
        new_condition = condition
        new_version = condition_version or existing.condition_version or "2.0"
    else:
        new_condition = existing.condition
        new_version = condition_version or existing.condition_version
    if new_version and not new_condition:
        raise InputError("--condition-version needs a condition: give --condition too "
                         "(the assignment has none)")
    changes = tuple(
        FieldChange(name, before or None, after or None)
        for name, before, after in (
            ("description", existing.description, new_description),
            ("condition", existing.condition, new_condition),
            ("conditionVersion", existing.condition_version, new_version),
        )
        if (before or None) != (after or None)
    )
    merged = replace(existing, description=new_description or None, condition=new_condition or None,
                     condition_version=new_version or None)
    return merged, changes, bool(existing.condition) and not new_condition




def assign(
    gw: Gateway,
    *,
    principal_id: str,
    principal_type: str | None,
    role: ResolvedRole,
    scope: str,
    description: str | None = None,
    condition: str | None = None,
    condition_version: str | None = None,
    clear_condition: bool = False,
    dry_run: bool = False,
    backoff: Backoff = DEFAULT_BACKOFF,
    progress: Progress = _quiet,
) -> AssignResult:
    """Read, compare, then write only what differs.

    An existing assignment (by rbactool's deterministic name, or another one of the same principal,
    role and scope) keeps every field not given (description and its ownership marker, condition,
    condition version, principal type); no write when nothing given differs. A dry run reports the
    same status a real run would have (would-create / would-update / unchanged / already-assigned).
    """
    if not is_guid(principal_id):
        raise InputError(f"--identity {principal_id!r} is not an object id (GUID)")
    if clear_condition and (condition is not None or condition_version):
        raise InputError("--clear-condition removes the condition and its version: give no --condition(-version)")
    if condition is not None and not condition.strip():
        raise InputError(EMPTY_CONDITION)
    scope = str(parse_scope(scope))
    preflight_assignment(role, scope)
    name = assignment_name(scope, role.guid, principal_id)
    existing = find_assignment(gw, scope, name, principal_id, role.guid)
    if existing is None:
        if condition_version and not condition:
            raise InputError("--condition-version needs --condition")
        if condition and not condition_version:
            condition_version = "2.0"
        if dry_run:
            return AssignResult("would-create", None, name, role)
        status, a = write_assignment(
            gw, scope, name, role_guid=role.guid, principal_id=principal_id, principal_type=principal_type,
            description=description, condition=condition, condition_version=condition_version,
            backoff=backoff, progress=progress, role=role.role,
        )
        if status != "already-assigned" or a is None:
            return AssignResult(status, a, name, role)
        existing = a  # made elsewhere after the read, or not listed yet: compare with that one
    return _update_existing(gw, scope, name, existing, role, principal_type=principal_type,
                            description=description, condition=condition, condition_version=condition_version,
                            clear_condition=clear_condition, dry_run=dry_run, backoff=backoff, progress=progress)


def _update_existing(gw: Gateway, scope: str, name: str, existing: Assignment, role: ResolvedRole, *,
                     principal_type: str | None, description: str | None, condition: str | None,
                     condition_version: str | None,
                     clear_condition: bool, dry_run: bool, backoff: Backoff, progress: Progress) -> AssignResult:
    merged, changes, widens = merge_assignment(existing, description=description, condition=condition,
                                               condition_version=condition_version, clear_condition=clear_condition)
    if principal_type and existing.principal_type and principal_type.lower() != existing.principal_type.lower():
        progress(f"the assignment exists with principal type {existing.principal_type}: --principal-type "
                 f"{principal_type} is ignored (Azure does not change the type of an assignment)")
    if not changes:  # under another name: made by another tool (the portal, az)
        status = "unchanged" if existing.name.lower() == name.lower() else "already-assigned"
        return AssignResult(status, existing, existing.name, role, previous=existing)
    if dry_run:
        return AssignResult("would-update", merged, existing.name, role, changes, widens, existing)
    who = owner(existing.description)
    if who:
        progress(f"this assignment is managed by spec {who!r}: its next apply sets it back to the spec")
    status, stored = write_assignment(
        gw, scope, existing.name, role_guid=role.guid, principal_id=existing.principal_id,
        principal_type=existing.principal_type or principal_type, description=merged.description,
        condition=merged.condition, condition_version=merged.condition_version,
        backoff=backoff, progress=progress, role=role.role,
    )
    if status == "already-assigned":  # nothing was written: never report an update that did not happen
        raise AzureOperationError(
            f"assignment {existing.name} was not updated: Azure does not find principal {existing.principal_id} "
            "in the directory (give --principal-type)", error_code="PrincipalNotFound")
    return AssignResult("updated", stored or merged, existing.name, role, changes, widens, existing)


def write_assignment(
    gw: Gateway,
    scope: str,
    name: str,
    *,
    role_guid: str,
    principal_id: str,
    principal_type: str | None,
    description: str | None = None,
    condition: str | None = None,
    condition_version: str | None = None,
    backoff: Backoff = DEFAULT_BACKOFF,
    progress: Progress = _quiet,
    cancel: threading.Event | None = None,
    role: RoleDefinition | None = None,
) -> tuple[str, Assignment | None]:
    """PUT one assignment: ('created' | 'unchanged' | 'already-assigned', assignment).

    Retries while ARM replicates a new role, scope or principal; 'RoleAssignmentExists' (the same
    assignment under another name) is success. 'already-assigned' means nothing was written: an
    assignment of the principal and role exists (under another name, or found after
    'PrincipalNotFound'), and the caller compares its fields. Shared by ``assign`` and
    ``plan.apply_plan``.
    """
    delays = backoff.delays()
    checked_existing = checked_role = warned_principal = False
    while True:
        try:
            created, a = gw.put_role_assignment(
                scope, name,
                role_definition_id=role_definition_id(role_guid, scope), principal_id=principal_id,
                principal_type=principal_type, description=description,
                condition=condition, condition_version=condition_version,
            )
            return ("created" if created else "unchanged"), a
        except AzureOperationError as e:
            if e.error_code == "RoleAssignmentExists":
                existing = find_assignments(gw, scope, principal_id, role_guid)
                return "already-assigned", (existing[0] if existing else None)
            if e.error_code not in TRANSIENT_ASSIGN_CODES:
                raise
            if e.error_code == "PrincipalNotFound" and principal_type is None and not checked_existing:
                # Without a type ARM looks the principal up; an assignment that already exists is success,
                # but nothing was written: the caller compares its fields (it is not proven "unchanged").
                checked_existing = True
                existing = find_assignments(gw, scope, principal_id, role_guid)
                if existing:
                    return "already-assigned", existing[0]
            if e.error_code == "RoleAssignmentScopeNotAssignableToRoleDefinition" and role is None \
                    and not checked_role:
                # The role was given by id: look it up once, so a permanent mistake is not retried.
                checked_role = True
                _check_scope_of_role_id(gw, role_guid, scope)
            delay = next(delays, None)
            if delay is None:
                raise
            if e.error_code == "PrincipalNotFound" and not warned_principal:
                warned_principal = True
                progress(f"principal {principal_id} is not in the directory (yet): if it was just created, rbactool "
                         f"waits up to {backoff.timeout:.0f} s for it; otherwise check that it is an object id, not an "
                         "application id (Ctrl-C stops; --principal-type skips Azure's directory lookup)")
            progress(f"Azure answered {e.error_code} (not replicated yet?); retrying in {delay:.1f} s")
            logger.info("assign: %s; waiting %.1f s", e.error_code, delay)
            pause(delay, cancel)


def _check_scope_of_role_id(gw: Gateway, role_guid: str, scope: str) -> None:
    sub = parse_scope(scope).subscription
    lookup = f"/subscriptions/{sub}" if sub else scope
    found = gw.get_role_definition(lookup, role_guid)
    if found is not None:
        preflight_assignment(ResolvedRole(role_guid, found, "custom" if found.is_custom else "builtin"), scope)


def unassign(gw: Gateway, *, principal_id: str, role: ResolvedRole | None, scope: str,
             dry_run: bool = False) -> list[Assignment]:
    """Delete the principal's assignments of *role* (or of every role) at exactly *scope*; [] if none."""
    scope = str(parse_scope(scope))
    found = find_assignments(gw, scope, principal_id, role.guid if role else None)
    if not dry_run:
        for a in found:
            gw.delete_role_assignment(a.id)
    return found


# --------------------------------------------------------------------------- deleting roles


def find_custom_role(gw: Gateway, ref: str | RoleDefinition, scope: str | None) -> RoleDefinition | None:
    """A custom role by name, GUID, full id or rendered definition; built-ins are refused offline."""
    if isinstance(ref, RoleDefinition):
        return find_role_by_name(gw, ref.name, lookup_scope(ref))
    builtin = load_builtin_roles().resolve(ref)
    if builtin is not None:
        raise InputError(f"{builtin.name!r} is a built-in role: built-in roles cannot be deleted")
    if looks_like_role_id(ref):
        if scope is None and "/subscriptions/" in ref.lower():
            scope = "/subscriptions/" + ref.split("/")[2]
        if scope is None:
            raise InputError("give --scope (or --subscription) to find a role by GUID")
        return gw.get_role_definition(scope, role_guid_of(ref))
    if scope is None:
        raise InputError(f"give --scope (or --subscription) to find role {ref!r} by name")
    return find_role_by_name(gw, ref, scope)


def assignments_of_role(gw: Gateway, role: RoleDefinition) -> list[Assignment]:
    seen: dict[str, Assignment] = {}
    for scope in role.assignable_scopes:
        for a in gw.list_role_assignments(scope):
            if a.role_guid.lower() == (role.role_id or "").lower():
                seen.setdefault(a.id.lower(), a)
    return list(seen.values())


def delete_role(gw: Gateway, role: RoleDefinition, *, with_assignments: bool = False,
                backoff: Backoff = DEFAULT_BACKOFF, progress: Progress = _quiet) -> list[Assignment]:
    """Delete a custom role; its assignments first when asked, else refuse while it has any."""
    if not role.is_custom:
        raise InputError(f"{role.name!r} is a built-in role: built-in roles cannot be deleted")
    holders = assignments_of_role(gw, role)
    if holders and not with_assignments:
        listing = "; ".join(f"{a.principal_id} at {a.scope}" for a in holders[:5])
        more = f" and {len(holders) - 5} more" if len(holders) > 5 else ""
        raise AzureOperationError(
            f"role {role.name!r} is still assigned ({len(holders)}): {listing}{more}; "
            "use --with-assignments to remove them first", error_code="RoleDefinitionHasAssignments")
    for a in holders:
        gw.delete_role_assignment(a.id)
    scope = role.assignable_scopes[0] if role.assignable_scopes else lookup_scope(role)
    delays = backoff.delays()
    while True:
        try:
            gw.delete_role_definition(scope, role.role_id)
            return holders
        except AzureOperationError as e:
            delay = next(delays, None) if e.error_code == "RoleDefinitionHasAssignments" and holders else None
            if delay is None:
                raise
            progress(f"waiting for removed assignments to replicate (retry in {delay:.1f} s)")
            time.sleep(delay)


# --------------------------------------------------------------------------- several roles, listings, permissions


def ensure_roles(gw: Gateway, roles: list[RoleDefinition], *, dry_run: bool = False, wait: bool = True,
                 backoff: Backoff = DEFAULT_BACKOFF, progress: Progress = _quiet) -> list[RoleResult]:
    """``ensure_role`` for each role: every role is written first, then waited for (the replication
    delays overlap); each wait is for exactly what its PUT stored."""
    results = [ensure_role(gw, r, dry_run=dry_run, wait=False) for r in roles]
    if wait:
        for change in results:
            if change.wrote:
                wait_for_role(gw, change.role, backoff=backoff, progress=progress)
    return results


def list_definitions(gw: Gateway, scope: str, *, custom_only: bool = False,
                     name: str | None = None) -> list[RoleDefinition]:
    """Role definitions visible at *scope* (filtered by Azure), built-in ones last, each by name."""
    flt = f"roleName eq {odata_quote(name)}" if name else ("type eq 'CustomRole'" if custom_only else None)
    roles = gw.list_role_definitions(str(parse_scope(scope)), flt)
    if custom_only:
        roles = [r for r in roles if r.is_custom]
    return sorted(roles, key=lambda r: (r.is_custom is False, r.name.lower()))


def list_assignments(gw: Gateway, scope: str, *, principal_id: str | None = None,
                     role: str | None = None, below: bool = True) -> list[Assignment]:
    """Role assignments at, above and (with *below*) below *scope* (of one principal, of one role), by scope."""
    target = str(parse_scope(scope))
    if principal_id:  # ARM refuses "atScope() and principalId eq": below the scope is dropped here
        flt: str | None = f"principalId eq {odata_quote(principal_id)}"
    else:
        flt = None if below else "atScope()"
    found = gw.list_role_assignments(target, flt)
    if not below:
        inside = target.lower().rstrip("/") + "/"
        found = [a for a in found if not (a.scope or "").lower().rstrip("/").startswith(inside)]
    if role:
        guid = resolve_role(gw, role, target).guid.lower()
        found = [a for a in found if a.role_guid.lower() == guid]
    return sorted(found, key=lambda a: (a.scope.lower(), a.principal_id))


def role_names(gw: Gateway, assignments: list[Assignment], scope: str) -> dict[str, str]:
    """Role GUID (lower) -> name for the roles of *assignments*: built-in names offline, custom ones
    with one list of the subscription's custom roles (only when one is needed); the GUID when unknown."""
    builtins = load_builtin_roles()
    custom: dict[str, str] = {}
    sub = parse_scope(scope).subscription
    if any(builtins.by_id(a.role_guid) is None for a in assignments) and sub:
        custom = {r.role_id.lower(): r.name
                  for r in gw.list_role_definitions(f"/subscriptions/{sub}", "type eq 'CustomRole'")}
    out = {}
    for a in assignments:
        b = builtins.by_id(a.role_guid)
        out[a.role_guid.lower()] = b.name if b else custom.get(a.role_guid.lower(), a.role_guid)
    return out


MANAGE_ACTIONS = ("Microsoft.Authorization/roleDefinitions/write", "Microsoft.Authorization/roleAssignments/write")


def check_permissions(gw, scope: str) -> dict[str, bool]:
    """Whether the caller holds each role-management action at *scope* (Actions minus NotActions)."""
    from rbactool.catalog import compile_pattern

    perms = gw.list_permissions(scope)
    out = {}
    for action in MANAGE_ACTIONS:
        ok = False
        for p in perms:
            granted = any(compile_pattern(a).match(action.lower()) for a in p.get("actions") or [])
            denied = any(compile_pattern(a).match(action.lower()) for a in p.get("notActions") or [])
            ok = ok or (granted and not denied)
        out[action] = ok
    return out
