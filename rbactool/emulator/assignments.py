"""``Microsoft.Authorization/roleAssignments``: PUT (201 new / 200 same), GET, DELETE (200/204), LIST."""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import Any

from rbactool.emulator.armerror import ArmError, dashless
from rbactool.emulator.backend import Backend
from rbactool.emulator.directory import assigned_to
from rbactool.emulator.roledefs import definition_id
from rbactool.emulator.routing import Call, Response, is_management_group, page_records, parse_filter
from rbactool.emulator.state import RoleAssignmentRecord, arm_timestamp
from rbactool.scopes import is_guid

logger = logging.getLogger(__name__)

TYPE = "Microsoft.Authorization/roleAssignments"
WRITE = "Microsoft.Authorization/roleAssignments/write"
READ = "Microsoft.Authorization/roleAssignments/read"
DELETE = "Microsoft.Authorization/roleAssignments/delete"
_ROLE_ID = re.compile(r"^(.*)/providers/microsoft\.authorization/roledefinitions/([^/]+)$", re.IGNORECASE)


def assignment_id(scope: str, name: str) -> str:
    prefix = "" if scope == "/" else scope
    return f"{prefix}/providers/Microsoft.Authorization/roleAssignments/{name}"


def render(rec: RoleAssignmentRecord, call: Call) -> dict[str, Any]:
    return {
        "properties": {
            "roleDefinitionId": definition_id(rec.role_definition_guid, call.request_subscription),
            "principalId": rec.principal_id,
            "principalType": rec.principal_type,
            "scope": rec.scope,
            "condition": rec.condition,
            "conditionVersion": rec.condition_version,
            "createdOn": rec.created_on,
            "updatedOn": rec.updated_on,
            "createdBy": rec.created_by,
            "updatedBy": rec.updated_by,
            "delegatedManagedIdentityResourceId": rec.delegated_managed_identity_resource_id,
            "description": rec.description,
        },
        "id": assignment_id(rec.scope, rec.name),
        "type": TYPE,
        "name": rec.name,
    }


def _opt_str(props: dict, key: str) -> str | None:
    v = props.get(key)
    return v if isinstance(v, str) else None


def _not_found(name: str) -> ArmError:
    return ArmError(404, "RoleAssignmentNotFound", f"The role assignment '{name}' is not found.")


def get(b: Backend, call: Call) -> Response:
    name = call.name or ""
    b.require(call.caller, READ, str(call.scope), call.path)
    with b.state.lock:
        rec = b.state.assignments.get(name.lower())
        if rec is None or rec.scope.lower() != str(call.scope).lower():
            raise _not_found(name)
        return Response(200, render(rec, call))


def delete(b: Backend, call: Call) -> Response:
    name = call.name or ""
    b.require(call.caller, DELETE, str(call.scope), call.path)
    with b.state.lock:
        st = b.state
        rec = st.assignments.get(name.lower())
        if rec is None or rec.scope.lower() != str(call.scope).lower():
            return Response(204)
        st.drop_assignment(name)
        if b.config.assignment_delete_propagation_s > 0:
            st.assignment_ghosts[rec.role_definition_guid.lower()] = (
                call.now + b.config.assignment_delete_propagation_s
            )
        logger.info("role assignment deleted %s", name)
        return Response(200, render(rec, call))


def list_(b: Backend, call: Call) -> Response:
    scope = str(call.scope)
    b.require(call.caller, READ, scope, call.path)
    terms = parse_filter(
        call.query.get("$filter"), {"atscope()", "principalid", "assignedto()"}, allow_and=True
    )
    if "principalid" in terms and "assignedto()" in terms:
        raise ArmError(400, "InvalidFilter", f"The filter '{call.query.get('$filter')}' is not supported.")
    at_scope = "atscope()" in terms
    who_term = terms.get("principalid") or terms.get("assignedto()")
    who = who_term.value.lower() if who_term and who_term.value else None
    if who_term is not None and who is None:
        raise ArmError(400, "InvalidFilter", f"The filter '{call.query.get('$filter')}' is not supported.")
    h = b.hierarchy
    with b.state.lock:
        # assignedTo() also matches the groups the principal is in, transitively; principalId eq does not
        whom = {who} if who is None or "principalid" in terms else assigned_to(b.state.principals, who)
        items = []
        for rec in b.state.assignments_related_to(scope, below=not at_scope):
            if rec.listed_at > call.now:
                continue
            if who is not None and rec.principal_id.lower() not in whom:
                continue
            above = h.at_or_above(rec.scope, scope)
            if not (above or (not at_scope and h.at_or_above(scope, rec.scope))):
                continue
            items.append(rec)
        return Response(200, page_records(call, items, b.config.page_size, lambda r: render(r, call)))


def put(b: Backend, call: Call) -> Response:
    name = call.name or ""
    scope = str(call.scope)
    b.require(call.caller, WRITE, scope, call.path)
    if not is_guid(name):
        raise ArmError(400, "InvalidRoleAssignmentId",
                       f"The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID.")
    body = call.body
    if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
        raise ArmError(400, "InvalidRequestContent",
                       "The request content was invalid and could not be deserialized: 'properties' is required.")
    props = body["properties"]
    principal = props.get("principalId")
    if not isinstance(principal, str) or not is_guid(principal):
        raise ArmError(400, "InvalidPrincipalId", "A valid principal ID must be provided for role assignment.")
    role_ref = props.get("roleDefinitionId")
    m = _ROLE_ID.match(role_ref) if isinstance(role_ref, str) else None
    if m is None or not is_guid(m.group(2)):
        last = role_ref.rstrip("/").rsplit("/", 1)[-1] if isinstance(role_ref, str) else role_ref
        raise ArmError(400, "InvalidRoleDefinitionId", f"The role definition ID '{last}' is not valid.")
    role_guid = m.group(2)
    ptype = props.get("principalType")
    ptype = ptype if isinstance(ptype, str) and ptype else None
    with b.state.lock:
        return _put_locked(b, call, name, scope, props, principal, role_guid, ptype)


def _put_locked(b, call, name, scope, props, principal, role_guid, ptype) -> Response:
    st, cfg, now = b.state, b.config, call.now
    role = b.role(role_guid)
    if role is None or role.visible_at > now:
        raise ArmError(400, "RoleDefinitionDoesNotExist",
                       f"The specified role definition with ID '{role_guid}' does not exist.")
    h = b.hierarchy
    if not any(h.at_or_above(a, scope) for a in role.effective_scopes(now)):
        raise ArmError(
            400, "RoleAssignmentScopeNotAssignableToRoleDefinition",
            f"The role definition '{role.guid}' is not available for assignment at the requested scope '{scope}'.",
        )
    if role.is_custom and is_management_group(call.scope) and any(
        blk.data_actions or blk.not_data_actions for blk in role.permissions
    ):
        raise ArmError(
            400, "InvalidCreateRoleAssignmentRequest",
            "The request to create role assignment is invalid. Role assignments at Management Groups can not be "
            "made to custom role definitions with DataActions.",
        )
    known = st.principals.get(principal.lower())
    visible = known is not None and known.visible_at <= now
    if not visible and (ptype is None or (cfg.strict_principals and known is None)):
        raise ArmError(
            400, "PrincipalNotFound",
            f"Principal {dashless(principal)} does not exist in the directory {st.tenant_id}. Check that you have "
            "the correct principal ID. If you are creating this principal and then immediately assigning a role, "
            "this error might be related to a replication delay. In this case, set the role assignment "
            "principalType property to a value, such as ServicePrincipal, User, or Group.  "
            "See https://aka.ms/docs-principaltype",
        )
    if visible and ptype is not None and ptype.lower() != known.type.lower():
        raise ArmError(
            400, "UnmatchedPrincipalType",
            f"The PrincipalId '{dashless(principal)}' has type '{known.type}' , which is different from specified "
            f"PrinciaplType '{ptype}'.",
        )
    stored_type = ptype if ptype is not None else known.type
    description = _opt_str(props, "description")
    condition = _opt_str(props, "condition")
    condition_version = _opt_str(props, "conditionVersion") or ("2.0" if condition else None)
    identity = (principal.lower(), role.guid.lower(), scope.lower())
    stamp = arm_timestamp(now)
    old = st.assignments.get(name.lower())
    if old is not None:
        if old.identity != identity:
            raise ArmError(409, "RoleAssignmentUpdateNotPermitted",
                           "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.")
        rec = dataclasses.replace(old, description=description, condition=condition,
                                  condition_version=condition_version, updated_on=stamp, updated_by=call.caller)
        st.put_assignment(rec)
        return Response(200, render(rec, call))
    if identity in st.assignment_index:
        raise ArmError(409, "RoleAssignmentExists", "The role assignment already exists.")
    if call.scope.subscription:
        sub = call.scope.subscription.lower()
        count = len(st.assignment_buckets.get(sub, ()))
        if count >= cfg.max_assignments_per_subscription:
            raise ArmError(400, "RoleAssignmentLimitExceeded", "No more role assignments can be created.")
    rec = RoleAssignmentRecord(
        name=name, scope=scope, role_definition_guid=role.guid, principal_id=principal,
        principal_type=stored_type, description=description, condition=condition,
        condition_version=condition_version,
        delegated_managed_identity_resource_id=_opt_str(props, "delegatedManagedIdentityResourceId"),
        created_on=stamp, updated_on=stamp, created_by=None, updated_by=call.caller,
        listed_at=now + cfg.assignment_list_delay_s,
    )
    st.put_assignment(rec)
    if call.scope.resource_group:  # Resource Graph's resourcecontainers lists the group
        rg = f"/subscriptions/{call.scope.subscription}/resourceGroups/{call.scope.resource_group}"
        st.resource_groups.setdefault(rg.lower(), rg)
    logger.info("role assignment created %s", name)
    return Response(201, render(rec, call))
