"""A small hand-built estate (an emulator seed) shared by the estate API tests.

    tenant root (TENANT)
    └── mg-platform  (sub P)
        └── mg-landing  (sub L)
            rg-ml in L: ML workspace; rg-data in L
    principals: alice, bob (users), scorer (service principal)
    groups: data-scientists = {alice, interns}; interns = {bob}   (nested)
"""

from __future__ import annotations

import copy

TENANT = "11111111-0000-4000-8000-000000000000"
SUB_P = "22222222-0000-4000-8000-000000000001"
SUB_L = "22222222-0000-4000-8000-000000000002"
ALICE = "33333333-0000-4000-8000-000000000001"
BOB = "33333333-0000-4000-8000-000000000002"
SCORER = "33333333-0000-4000-8000-000000000003"
DS = "44444444-0000-4000-8000-000000000001"
INTERNS = "44444444-0000-4000-8000-000000000002"
SCORE_ROLE = "55555555-0000-4000-8000-000000000001"
EVERYONE = "00000000-0000-0000-0000-000000000000"
MG_PLATFORM = "/providers/Microsoft.Management/managementGroups/mg-platform"
MG_LANDING = "/providers/Microsoft.Management/managementGroups/mg-landing"
L = f"/subscriptions/{SUB_L}"
P = f"/subscriptions/{SUB_P}"
RG_ML = f"{L}/resourceGroups/rg-ml"
RG_DATA = f"{L}/resourceGroups/rg-data"
WORKSPACE = f"{RG_ML}/providers/Microsoft.MachineLearningServices/workspaces/ws1"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
DENY_RG = "66666666-0000-4000-8000-000000000001"
DENY_L = "66666666-0000-4000-8000-000000000002"
ELIGIBLE_BOB = "77777777-0000-4000-8000-000000000001"
RA_DS_READER = "88888888-0000-4000-8000-000000000001"

_ESTATE = {
    "tenant": TENANT,
    "management_groups": [
        {"id": TENANT, "name": "Contoso root"},
        {"id": "mg-platform", "name": "Platform", "subscriptions": [{"id": SUB_P, "name": "Platform prod"}]},
        {"id": "mg-landing", "parent": "mg-platform", "name": "Landing zones",
         "subscriptions": [{"id": SUB_L, "name": "Landing one"}]},
    ],
    "principals": [
        {"id": ALICE, "type": "User", "name": "alice"},
        {"id": BOB, "type": "User", "name": "bob"},
        {"id": SCORER, "type": "ServicePrincipal", "name": "ml-scorer"},
    ],
    "groups": [
        {"id": DS, "name": "data-scientists", "members": [ALICE, INTERNS]},
        {"id": INTERNS, "name": "interns", "members": [BOB]},
    ],
    "role_definitions": [{
        "Name": "ML endpoint scorer", "Id": SCORE_ROLE, "IsCustom": True, "Description": "Score endpoints",
        "Actions": ["Microsoft.MachineLearningServices/workspaces/read"],
        "DataActions": ["Microsoft.MachineLearningServices/workspaces/onlineEndpoints/score/action"],
        "AssignableScopes": [L],
    }],
    "role_assignments": [
        {"id": RA_DS_READER, "principal": DS, "role": "Reader", "scope": MG_PLATFORM},
        {"principal": SCORER, "role": "ML endpoint scorer", "scope": WORKSPACE},
        {"principal": ALICE, "role": "Storage Blob Data Reader", "scope": L,
         "condition": "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'x'"},
        {"principal": BOB, "role": OWNER, "scope": RG_DATA},
        {"principal": ALICE, "role": "Contributor", "scope": P},
    ],
    "deny_assignments": [
        {"id": DENY_RG, "scope": RG_ML, "deny_assignment_name": "stack deny", "actions": ["*/delete"],
         "not_actions": ["Microsoft.Authorization/locks/delete"], "principals": [EVERYONE],
         "exclude_principals": [SCORER]},
        {"name": DENY_L, "scope": L, "deny_assignment_name": "no key listing", "actions": ["*/listKeys/action"],
         "principals": [INTERNS], "do_not_apply_to_child_scopes": True},
    ],
    "eligible_assignments": [
        {"id": ELIGIBLE_BOB, "principal": BOB, "role": "Owner", "scope": L},
        {"principal": DS, "role": "Contributor", "scope": RG_ML, "condition": "true", "condition_version": "2.0"},
    ],
}


def estate() -> dict:
    """A fresh copy (tests may change it)."""
    return copy.deepcopy(_ESTATE)
