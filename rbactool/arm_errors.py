"""ARM error codes -> what they mean and what to do (pure data; the adapter and commands use it).

Codes come from ../shared/research/arm-emulator-spec.md and landscape.md section 5.6.
"""

from __future__ import annotations

# code -> plain explanation with the next step
EXPLANATIONS: dict[str, str] = {
    "AuthenticationFailed": "Azure did not accept the credential: run `az login`, or set AZURE_CLIENT_ID/"
    "AZURE_TENANT_ID/AZURE_CLIENT_SECRET, or RBACTOOL_ACCESS_TOKEN for a static token.",
    "InvalidAuthenticationToken": "the access token is invalid: sign in again (`az login`) or refresh "
    "RBACTOOL_ACCESS_TOKEN.",
    "ExpiredAuthenticationToken": "the access token has expired: sign in again (`az login`) or refresh "
    "RBACTOOL_ACCESS_TOKEN.",
    "AuthorizationFailed": "you lack a permission at this scope: ask for a role with the action named above "
    "(Owner, User Access Administrator or Role Based Access Control Administrator include it); if access was "
    "just granted, sign in again to refresh your token.",
    "LinkedAuthorizationFailed": "creating or updating a custom role needs "
    "Microsoft.Authorization/roleDefinitions/write on every assignable scope: get that permission on each "
    "scope, or remove the scopes you cannot manage.",
    "InvalidActionOrNotAction": "an action string is unknown to Azure and the whole role was rejected: run "
    "`rbactool validate` on the role and fix the action it reports.",
    "InvalidDataActionOrNotDataAction": "a DataActions entry is not a data action (or is unknown): run "
    "`rbactool validate`; control-plane operations belong under Actions.",
    "RoleDefinitionWithSameNameExists": "a role with this name already exists in the tenant (role names are unique "
    "per tenant), outside the scopes rbactool looked at: rename the role, or create it where the existing one is "
    "visible so rbactool can update it.",
    "RoleDefinitionExists": "that role definition id belongs to another role (a built-in role): choose another id.",
    "RoleDefinitionLimitExceeded": "the tenant has reached 5,000 custom roles: delete unused custom roles first.",
    "RoleDefinitionHasAssignments": "the role is still assigned: remove its assignments first "
    "(`rbactool delete --with-assignments`).",
    "RoleScopeBeingRemovedContainsAssignments": "the new assignable scopes would leave existing assignments of the "
    "role outside them: remove those assignments first (`rbactool unassign`), or keep the scope.",
    "RoleDefinitionDoesNotExist": "the role definition does not exist (or has not replicated yet): check the name "
    "or id, or wait and re-run.",
    "RoleDefinitionNameNullOrEmpty": "the role has no name.",
    "InvalidRoleDefinitionType": "only custom roles (type CustomRole) can be created or changed.",
    "MissingAssignableScopes": "the role has no assignable scopes.",
    "LinkedInvalidPropertyId": "an assignable scope is not a valid ARM id: use /subscriptions/{id}, "
    "/subscriptions/{id}/resourceGroups/{name} or /providers/Microsoft.Management/managementGroups/{id}.",
    "InvalidRoleDefinitionId": "the role definition id is malformed: use a GUID or "
    "/subscriptions/{id}/providers/Microsoft.Authorization/roleDefinitions/{guid}.",
    "RoleAssignmentExists": "the principal already has this role at this scope.",
    "RoleAssignmentUpdateNotPermitted": "an assignment with this name exists for another principal, role or scope "
    "(principal, role and scope cannot change): delete it and assign again.",
    "RoleAssignmentScopeNotAssignableToRoleDefinition": "the role cannot be assigned at this scope: the scope must be "
    "at or below one of the role's assignable scopes (or a recent change has not replicated yet).",
    "RoleAssignmentLimitExceeded": "the subscription has reached its limit of 4,000 role assignments: remove unused "
    "assignments, or assign to groups instead of individuals.",
    "PrincipalNotFound": "the principal does not exist in the directory (or was created moments ago): check that "
    "--identity is an object id, not an application (client) id, and pass --principal-type for new identities.",
    "UnmatchedPrincipalType": "--principal-type does not match the principal's real type: use the type the "
    "directory has (service principals and managed identities are ServicePrincipal).",
    "InvalidPrincipalId": "the principal id is not a valid object id (GUID).",
    "InvalidRoleAssignmentId": "the role assignment name must be a GUID.",
    "InvalidCreateRoleAssignmentRequest": "the request is not allowed; a role with DataActions cannot be assigned "
    "at a management group.",
    "RoleAssignmentNotFound": "the role assignment does not exist.",
    "TooManyRequests": "Azure is throttling requests: wait a minute and re-run (rbactool re-runs are safe).",
    "SubscriptionRequestsThrottled": "Azure is throttling requests: wait a minute and re-run.",
    "SubscriptionNotFound": "the subscription was not found: check --subscription and that you are signed in to "
    "its tenant.",
    "ResourceGroupNotFound": "the resource group was not found: check --resource-group.",
    "InvalidApiVersionParameter": "the endpoint does not support this API version.",
    "MissingSubscriptionRegistration": "the subscription is not registered for the resource provider.",
    "InvalidFilter": "the endpoint rejected the list filter.",
}

# Conditions that mean "not replicated yet": retried with backoff, never shown unless retries run out.
TRANSIENT_ASSIGN_CODES = frozenset(
    {"PrincipalNotFound", "RoleDefinitionDoesNotExist", "RoleAssignmentScopeNotAssignableToRoleDefinition"}
)


def explain(code: str | None) -> str | None:
    return EXPLANATIONS.get(code or "")
