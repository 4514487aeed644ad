"""``Microsoft.Authorization/roleDefinitions``: PUT (always 201), GET, DELETE (200/204), LIST."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from rbactool.emulator.armerror import ArmError, linked_authorization_failed, role_definition_not_found
from rbactool.emulator.backend import Backend
from rbactool.emulator.routing import Call, Response, is_subscription, page, parse_filter
from rbactool.emulator.state import PermissionBlock, RoleDefinitionRecord, arm_timestamp
from rbactool.errors import ScopeError
from rbactool.scopes import MANAGEMENT_GROUP, ROOT, is_guid, parse_scope

logger = logging.getLogger(__name__)

TYPE = "Microsoft.Authorization/roleDefinitions"
WRITE = "Microsoft.Authorization/roleDefinitions/write"
READ = "Microsoft.Authorization/roleDefinitions/read"
DELETE = "Microsoft.Authorization/roleDefinitions/delete"
BUILTIN_TIMESTAMP = "2015-02-02T21:55:09.8806423Z"


def definition_id(guid: str, subscription: str | None) -> str:
    prefix = f"/subscriptions/{subscription}" if subscription else ""
    return f"{prefix}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def _subscription_for(rec: RoleDefinitionRecord, call: Call) -> str | None:
    if call.request_subscription:
        return call.request_subscription
    if rec.is_custom:
        for s in rec.assignable_scopes:
            parts = s.split("/")
            if len(parts) > 2 and parts[1].lower() == "subscriptions":
                return parts[2]
    return None


def render(rec: RoleDefinitionRecord, call: Call) -> dict[str, Any]:
    return {
        "properties": {
            "roleName": rec.role_name,
            "type": "CustomRole" if rec.is_custom else "BuiltInRole",
            "description": rec.description,
            "assignableScopes": list(rec.assignable_scopes),
            "permissions": [p.to_json() for p in rec.permissions],
            "createdOn": rec.created_on or BUILTIN_TIMESTAMP,
            "updatedOn": rec.updated_on or rec.created_on or BUILTIN_TIMESTAMP,
            "createdBy": rec.created_by,
            "updatedBy": rec.updated_by,
        },
        "id": definition_id(rec.guid, _subscription_for(rec, call)),
        "type": TYPE,
        "name": rec.guid,
    }


def _visible(b: Backend, rec: RoleDefinitionRecord, call: Call, *, below: bool = True) -> bool:
    """Whether a role shows at the request scope (GET: any related scope; LIST: see spec 3.3)."""
    if not rec.is_custom:
        return True
    if rec.visible_at > call.now:
        return False
    h, scope = b.hierarchy, str(call.scope)
    for a in rec.assignable_scopes:
        if h.at_or_above(a, scope):
            return True
        if below and h.at_or_above(scope, a):
            return True
        if is_subscription(call.scope) and h.at_or_above(scope, a):
            return True
    return False


def get(b: Backend, call: Call) -> Response:
    guid = call.name or ""
    b.require(call.caller, READ, str(call.scope), call.path)
    with b.state.lock:
        rec = b.role(guid)
        if rec is None or not _visible(b, rec, call):
            raise role_definition_not_found(guid)
        return Response(200, render(rec, call))


def list_(b: Backend, call: Call) -> Response:
    b.require(call.caller, READ, str(call.scope), call.path)
    terms = parse_filter(call.query.get("$filter"), {"rolename", "type", "atscopeandbelow()"}, allow_and=False)
    below = "atscopeandbelow()" in terms
    name = terms["rolename"].value.lower() if "rolename" in terms and terms["rolename"].value else None
    rtype = terms["type"].value.lower() if "type" in terms and terms["type"].value else None
    with b.state.lock:
        custom = [r for r in b.state.custom_roles.values() if _visible(b, r, call, below=below)]
        builtins = list(b.builtins.values()) if rtype != "customrole" else []
        if rtype == "builtinrole":
            custom = []
        candidates = custom + builtins
        if name is not None:
            candidates = [r for r in candidates if r.role_name.lower() == name]
        items = [render(r, call) for r in candidates]
    return Response(200, page(call, items, b.config.page_size))


# ------------------------------------------------------------------------ PUT


def _str_list(props: dict, key: str, where: str) -> tuple[str, ...]:
    v = props.get(key)
    if v is None:
        return ()
    if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
        raise ArmError(400, "InvalidRequestContent", f"The property '{where}{key}' must be an array of strings.")
    return tuple(v)


def _permissions(props: dict) -> tuple[PermissionBlock, ...]:
    raw = props.get("permissions")
    if raw is None:
        return (PermissionBlock(),)
    if not isinstance(raw, list) or not all(isinstance(p, dict) for p in raw):
        raise ArmError(400, "InvalidRequestContent", "The property 'permissions' must be an array of objects.")
    blocks = []
    for i, p in enumerate(raw):
        where = f"permissions[{i}]."
        cond = p.get("condition")
        blocks.append(PermissionBlock(
            _str_list(p, "actions", where), _str_list(p, "notActions", where),
            _str_list(p, "dataActions", where), _str_list(p, "notDataActions", where),
            cond if isinstance(cond, str) else None,
            p.get("conditionVersion") if isinstance(p.get("conditionVersion"), str) else None,
        ))
    return tuple(blocks) or (PermissionBlock(),)


def _properties(call: Call) -> dict:
    body = call.body
    if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
        raise ArmError(400, "InvalidRequestContent",
                       "The request content was invalid and could not be deserialized: 'properties' is required.")
    return body["properties"]


def put(b: Backend, call: Call) -> Response:
    guid = call.name or ""
    scope = str(call.scope)
    b.require(call.caller, WRITE, scope, call.path)
    if not is_guid(guid):
        raise ArmError(400, "InvalidRoleDefinitionId", f"The role definition ID '{guid}' is not valid.")
    props = _properties(call)
    role_name = props.get("roleName")
    if not isinstance(role_name, str) or not role_name.strip():
        raise ArmError(400, "RoleDefinitionNameNullOrEmpty", "The role definition name cannot be null or empty.")
    rtype = props.get("type", props.get("roleType"))
    if rtype is not None and (not isinstance(rtype, str) or rtype.lower() != "customrole"):
        raise ArmError(400, "InvalidRoleDefinitionType", "The role definition type is not valid.")
    scopes = _str_list(props, "assignableScopes", "")
    if not scopes:
        raise ArmError(400, "MissingAssignableScopes", "Assignable scopes are required.")
    parsed = []
    for i, s in enumerate(scopes):
        try:
            parsed.append(parse_scope(s))
        except ScopeError as e:
            raise ArmError(
                400, "LinkedInvalidPropertyId",
                f"Property id '{s}' at path 'properties.assignableScopes[{i}]' is invalid. Expect fully qualified "
                "resource Id that start with '/subscriptions/{subscriptionId}' or "
                "'/providers/{resourceProviderNamespace}/'.",
            ) from e
    if any(p.kind == ROOT for p in parsed):
        raise ArmError(400, "InvalidAssignableScope",
                       "The root scope '/' cannot be an assignable scope of a custom role definition.")
    if sum(1 for p in parsed if p.kind == MANAGEMENT_GROUP) > 1:
        raise ArmError(400, "InvalidAssignableScope", "You can define only one management group in AssignableScopes.")
    description = props.get("description")
    description = description if isinstance(description, str) else ""
    blocks = _permissions(props)
    has_data = any(blk.data_actions or blk.not_data_actions for blk in blocks)
    if b.config.reject_data_actions_with_management_group and has_data and any(
        p.kind == MANAGEMENT_GROUP for p in parsed
    ):
        raise ArmError(400, "InvalidAssignableScope", "You cannot add data action permissions when you have a "
                       "management group as an assignable scope")
    if b.config.validate_actions:
        for blk in blocks:
            for a in blk.actions + blk.not_actions:
                b.checker.check(a, data=False)
            for a in blk.data_actions + blk.not_data_actions:
                b.checker.check(a, data=True)
    low = guid.lower()
    if low in b.builtins:
        raise ArmError(409, "RoleDefinitionExists", "A role definition with the same ID already exists.")
    with b.state.lock:
        st = b.state
        name_low = role_name.lower()
        clash = any(r.role_name.lower() == name_low and k != low for k, r in st.custom_roles.items())
        tomb = st.name_tombstones.get(name_low)
        if tomb is not None and tomb <= call.now:
            del st.name_tombstones[name_low]
            tomb = None
        old = st.custom_roles.get(low)
        renamed = old is None or old.role_name.lower() != name_low
        if clash or name_low in b.builtin_names or (tomb is not None and renamed):
            raise ArmError(409, "RoleDefinitionWithSameNameExists",
                           "A custom role with the same name already exists in this directory.")
        if old is None and len(st.custom_roles) >= b.config.max_custom_roles:
            raise ArmError(400, "RoleDefinitionLimitExceeded",
                           "Role definition limit exceeded. No more role definitions can be created.")
        denied = [s for s in scopes if not b.allowed(call.caller, WRITE, s)]
        if denied and b.config.enforce_permissions:
            raise linked_authorization_failed(call.caller, WRITE, scope, denied)
        stamp = arm_timestamp(call.now)
        if old is None:
            rec = RoleDefinitionRecord(
                guid=guid, role_name=role_name, description=description, permissions=blocks,
                assignable_scopes=scopes, created_on=stamp, updated_on=stamp, created_by=None,
                updated_by=call.caller,
                visible_at=call.now + b.config.role_definition_replication_delay_s,
                scope_effective_at=tuple(call.now for _ in scopes),
            )
        else:
            _refuse_orphaned_assignments(b, low, old.assignable_scopes, scopes)
            prior = dict(zip((s.lower() for s in old.assignable_scopes), old.scope_effective_at or (), strict=False))
            delay = b.config.assignable_scope_replication_delay_s
            rec = dataclasses.replace(
                old, role_name=role_name, description=description, permissions=blocks, assignable_scopes=scopes,
                updated_on=stamp, updated_by=call.caller,
                scope_effective_at=tuple(prior.get(s.lower(), call.now + delay) for s in scopes),
            )
        st.custom_roles[low] = rec
        logger.info("role definition %s %s (%s)", "created" if old is None else "updated", guid, role_name)
        return Response(201, render(rec, call))


def _refuse_orphaned_assignments(b: Backend, guid: str, old: tuple[str, ...], new: tuple[str, ...]) -> None:
    """ARM refuses to remove an assignable scope that still has assignments of the role below it
    (400 RoleScopeBeingRemovedContainsAssignments): the assignments would be orphaned."""
    h = b.hierarchy
    kept = [s for s in new]
    for removed in (s for s in old if s.lower() not in {n.lower() for n in new}):
        for a in b.state.assignments.values():
            if a.role_definition_guid.lower() != guid or not h.at_or_above(removed, a.scope):
                continue
            if any(h.at_or_above(k, a.scope) for k in kept):
                continue
            raise ArmError(400, "RoleScopeBeingRemovedContainsAssignments",
                           f"Role assignments found under scope '{removed}' which is being removed. Removing this "
                           "scope from the role will orphan these assignments. Delete these assignments before "
                           "removing the scope.")


def delete(b: Backend, call: Call) -> Response:
    guid = call.name or ""
    b.require(call.caller, DELETE, str(call.scope), call.path)
    low = guid.lower()
    if low in b.builtins:
        raise ArmError(
            403, "AuthorizationFailed",
            f"The client '{call.caller}' with object id '{call.caller}' does not have authorization to perform "
            f"action '{DELETE}' over scope '{call.path}' or the scope is invalid. Built-in roles cannot be deleted.",
        )
    with b.state.lock:
        st = b.state
        rec = st.custom_roles.get(low)
        if rec is None or not _visible(b, rec, call):
            return Response(204)
        ghost = st.assignment_ghosts.get(low)
        if ghost is not None and ghost <= call.now:
            del st.assignment_ghosts[low]
            ghost = None
        if ghost is not None or any(a.role_definition_guid.lower() == low for a in st.assignments.values()):
            raise ArmError(409, "RoleDefinitionHasAssignments", "There are existing role assignments referencing role.")
        del st.custom_roles[low]
        if b.config.deleted_role_name_tombstone_s > 0:
            st.name_tombstones[rec.role_name.lower()] = call.now + b.config.deleted_role_name_tombstone_s
        logger.info("role definition deleted %s", guid)
        return Response(200, render(rec, call))


