"""The read APIs a snapshot needs, against the hand-built estate: deny assignments, PIM instances,
management groups, role assignments through the hierarchy and groups, subscriptions. Through the
real SDK where it has the operation, plain HTTPS otherwise."""

from __future__ import annotations

import pytest
import requests
from azure.core.exceptions import ResourceNotFoundError

from .conftest import make_client
from .estate import (
    ALICE,
    BOB,
    DENY_L,
    DENY_RG,
    DS,
    ELIGIBLE_BOB,
    EVERYONE,
    INTERNS,
    MG_LANDING,
    MG_PLATFORM,
    RA_DS_READER,
    RG_DATA,
    RG_ML,
    SCORER,
    SUB_L,
    SUB_P,
    TENANT,
    WORKSPACE,
    L,
    P,
    estate,
)


@pytest.fixture
def seeded(emulator):
    emulator.load_seed(estate())
    return emulator


@pytest.fixture
def sdk(seeded):
    c = make_client(seeded)
    yield c
    c.close()


def get(emu, path, **params):
    r = requests.get(f"{emu.base_url}{path}", params=params, verify=emu.ca_path,
                     headers={"Authorization": f"Bearer {emu.token}"})
    return r.status_code, r.json()


def names(items):
    return sorted(i.name for i in items)


# ------------------------------------------------------------------------ deny assignments


def test_deny_assignment_shape_through_the_sdk(sdk):
    d = sdk.deny_assignments.get(RG_ML, DENY_RG)
    assert d.deny_assignment_name == "stack deny" and d.scope == RG_ML and d.is_system_protected
    assert d.type == "Microsoft.Authorization/denyAssignments"
    assert d.id == f"{RG_ML}/providers/Microsoft.Authorization/denyAssignments/{DENY_RG}"
    assert [(p.id, p.type) for p in d.principals] == [(EVERYONE, "SystemDefined")]
    assert [(p.id, p.type, p.display_name) for p in d.exclude_principals] == [(SCORER, "ServicePrincipal", "ml-scorer")]
    perm = d.permissions[0]
    assert perm.actions == ["*/delete"] and perm.not_actions == ["Microsoft.Authorization/locks/delete"]
    assert d.do_not_apply_to_child_scopes is False
    assert sdk.deny_assignments.get_by_id(d.id).name == DENY_RG
    other = sdk.deny_assignments.get(L, DENY_L)
    assert other.do_not_apply_to_child_scopes is True and other.principals[0].type == "Group"


def test_deny_assignment_unknown_or_other_scope_is_404(sdk):
    with pytest.raises(ResourceNotFoundError):
        sdk.deny_assignments.get(L, DENY_RG)  # it lives at the resource group


@pytest.mark.parametrize(("scope", "flt", "expected"), [
    (L, None, [DENY_RG, DENY_L]),                 # at and below
    (L, "atScope()", [DENY_L]),                    # at and above only
    (RG_ML, "atScope()", [DENY_RG, DENY_L]),       # above: the subscription's too
    (WORKSPACE, None, [DENY_RG, DENY_L]),
    (P, None, []),
    (MG_PLATFORM, None, [DENY_RG, DENY_L]),        # below a management group, through the hierarchy
    (L, f"principalId eq '{INTERNS}'", [DENY_L]),
    (L, f"principalId eq '{BOB}'", []),            # direct only
    (L, f"assignedTo('{BOB}')", [DENY_RG, DENY_L]),  # bob is in interns; everyone
    (L, f"assignedTo('{SCORER}')", [DENY_RG]),      # listed (as everyone), its exclusion is in the item
    (L, "denyAssignmentName eq 'stack deny'", [DENY_RG]),
    (RG_ML, f"atScope() and assignedTo('{ALICE}')", [DENY_RG]),
])
def test_deny_assignment_filters(sdk, scope, flt, expected):
    assert names(sdk.deny_assignments.list_for_scope(scope, filter=flt)) == sorted(expected)


def test_deny_gdpr_filter_and_root_needs_a_filter(seeded):
    status, body = get(seeded, f"{L}/providers/Microsoft.Authorization/denyAssignments",
                       **{"api-version": "2022-04-01", "$filter": f"gdprExportPrincipalId eq '{SCORER}'"})
    assert status == 200 and [d["name"] for d in body["value"]] == [DENY_RG]
    assert set(body["value"][0]["properties"]) == {"denyAssignmentName", "description"}
    status, body = get(seeded, "/providers/Microsoft.Authorization/denyAssignments", **{"api-version": "2022-04-01"})
    assert status == 400 and body["error"]["code"] == "InvalidFilter"
    status, body = get(seeded, "/providers/Microsoft.Authorization/denyAssignments",
                       **{"api-version": "2022-04-01", "$filter": f"assignedTo('{BOB}')"})
    assert status == 200 and sorted(d["name"] for d in body["value"]) == sorted([DENY_RG, DENY_L])
    status, body = get(seeded, f"{L}/providers/Microsoft.Authorization/denyAssignments",
                       **{"api-version": "2022-04-01", "$filter": "roleName eq 'x'"})
    assert status == 400 and body["error"]["code"] == "InvalidFilter"


def test_deny_assignments_page_by_nextlink(seeded, sdk):
    seeded.configure(page_size=1)
    assert names(sdk.deny_assignments.list_for_scope(L)) == sorted([DENY_RG, DENY_L])
    pages = seeded.requests(path_contains="denyAssignments")
    assert len(pages) == 2 and "$skipToken=1" in pages[1]["query"]


# ------------------------------------------------------------------------ PIM


def test_eligibility_instances_shape(sdk):
    items = list(sdk.role_eligibility_schedule_instances.list_for_scope(L, filter="atScope()"))
    assert names(items) == [ELIGIBLE_BOB]
    e = items[0]
    assert e.principal_id == BOB and e.principal_type == "User" and e.status == "Provisioned"
    assert e.scope == L and e.member_type == "Direct"
    assert e.role_definition_id == f"{L}/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
    assert e.role_eligibility_schedule_id.startswith(f"{L}/providers/Microsoft.Authorization/RoleEligibilitySchedules/")
    assert e.expanded_properties.principal.display_name == "bob"
    assert e.expanded_properties.role_definition.display_name == "Owner"
    assert e.expanded_properties.scope.type == "subscription"
    assert e.expanded_properties.scope.display_name == "Landing one"
    assert e.type == "Microsoft.Authorization/RoleEligibilityScheduleInstances"
    one = sdk.role_eligibility_schedule_instances.get(L, ELIGIBLE_BOB)
    assert one.id == e.id


def test_eligibility_filters(sdk):
    def listed(scope, flt=None):
        return sorted((i.principal_id, i.scope, i.member_type)
                      for i in sdk.role_eligibility_schedule_instances.list_for_scope(scope, filter=flt))
    assert listed(L) == sorted([(BOB, L, "Direct"), (DS, RG_ML, "Direct")])       # at and below
    assert listed(RG_ML, "atScope()") == sorted([(BOB, L, "Inherited"), (DS, RG_ML, "Direct")])
    assert listed(L, f"principalId eq '{DS}'") == [(DS, RG_ML, "Direct")]
    assert listed(L, f"assignedTo('{BOB}')") == sorted([(BOB, L, "Direct"), (DS, RG_ML, "Group")])  # nested group
    assert listed(L, f"assignedTo('{ALICE}')") == [(DS, RG_ML, "Group")]
    assert listed(P) == []
    conditional = [i for i in sdk.role_eligibility_schedule_instances.list_for_scope(RG_ML) if i.principal_id == DS]
    assert conditional[0].condition == "true" and conditional[0].condition_version == "2.0"


def test_assignment_schedule_instances_mirror_role_assignments(sdk):
    items = list(sdk.role_assignment_schedule_instances.list_for_scope(L))
    ras = list(sdk.role_assignments.list_for_scope(L))
    assert sorted(i.origin_role_assignment_id for i in items) == sorted(a.id for a in ras)
    assert all(i.assignment_type == "Assigned" and i.status == "Provisioned" for i in items)
    via = {i.principal_id: i.member_type for i in
           sdk.role_assignment_schedule_instances.list_for_scope(L, filter=f"assignedTo('{BOB}')")}
    assert via == {DS: "Group", BOB: "Direct"}


def test_pim_api_versions(seeded):
    path = f"{L}/providers/Microsoft.Authorization/roleEligibilityScheduleInstances"
    assert get(seeded, path, **{"api-version": "2020-10-01"})[0] == 200
    status, body = get(seeded, path, **{"api-version": "2022-04-01"})
    assert status == 400 and body["error"]["code"] == "InvalidApiVersionParameter"


# ------------------------------------------------------------------------ role assignments and the hierarchy


def test_assignments_inherit_through_two_management_group_levels(sdk):
    at = names(sdk.role_assignments.list_for_scope(WORKSPACE, filter="atScope()"))
    assert RA_DS_READER in at  # Reader at mg-platform reaches a resource in a subscription under mg-landing
    p_only = [a for a in sdk.role_assignments.list_for_scope(P, filter="atScope()")]
    assert {a.scope for a in p_only} == {MG_PLATFORM, P}


def test_assignments_at_management_group_scope_list_below(sdk):
    below = {a.scope for a in sdk.role_assignments.list_for_scope(MG_LANDING)}
    assert below == {MG_PLATFORM, L, WORKSPACE, RG_DATA}  # above (platform) and below (the landing subscription)
    at = {a.scope for a in sdk.role_assignments.list_for_scope(MG_LANDING, filter="atScope()")}
    assert at == {MG_PLATFORM}


def test_assigned_to_expands_nested_groups(sdk):
    got = {(a.principal_id, a.scope) for a in sdk.role_assignments.list_for_scope(L, filter=f"assignedTo('{BOB}')")}
    assert got == {(DS, MG_PLATFORM), (BOB, RG_DATA)}
    direct = {a.principal_id for a in sdk.role_assignments.list_for_scope(L, filter=f"principalId eq '{BOB}'")}
    assert direct == {BOB}


def test_root_scope_assignments(seeded, sdk):
    status, body = get(seeded, "/providers/Microsoft.Authorization/roleAssignments", **{"api-version": "2022-04-01"})
    assert status == 200 and len(body["value"]) == 5


# ------------------------------------------------------------------------ management groups


MGV = {"api-version": "2023-04-01"}


def test_management_group_list(seeded):
    status, body = get(seeded, "/providers/Microsoft.Management/managementGroups", **MGV)
    assert status == 200
    assert [(g["name"], g["properties"]["displayName"]) for g in body["value"]] == [
        (TENANT, "Contoso root"), ("mg-platform", "Platform"), ("mg-landing", "Landing zones")]
    assert all(g["type"] == "Microsoft.Management/managementGroups" and g["properties"]["tenantId"] == TENANT
               for g in body["value"])
    seeded.configure(page_size=2)
    status, body = get(seeded, "/providers/Microsoft.Management/managementGroups", **MGV)
    assert len(body["value"]) == 2 and "skipToken=2" in body["nextLink"]
    r = requests.get(body["nextLink"], verify=seeded.ca_path, headers={"Authorization": f"Bearer {seeded.token}"})
    assert [g["name"] for g in r.json()["value"]] == ["mg-landing"] and "nextLink" not in r.json()


def test_management_group_expand_children_recurse(seeded):
    status, body = get(seeded, f"/providers/Microsoft.Management/managementGroups/{TENANT}",
                       **MGV, **{"$expand": "children", "$recurse": "true"})
    assert status == 200 and body["properties"]["details"]["parent"] is None
    [platform] = body["properties"]["children"]
    assert platform["name"] == "mg-platform" and platform["type"] == "Microsoft.Management/managementGroups"
    kids = {(c["type"], c["name"]) for c in platform["children"]}
    assert kids == {("Microsoft.Management/managementGroups", "mg-landing"), ("/subscriptions", SUB_P)}
    landing = next(c for c in platform["children"] if c["name"] == "mg-landing")
    assert landing["children"] == [{"id": f"/subscriptions/{SUB_L}", "type": "/subscriptions", "name": SUB_L,
                                    "displayName": "Landing one"}]
    status, body = get(seeded, "/providers/Microsoft.Management/managementGroups/mg-platform", **MGV,
                       **{"$expand": "children", "$filter": "children.childType ne Subscription"})
    assert [c["name"] for c in body["properties"]["children"]] == ["mg-landing"]
    assert "children" not in body["properties"]["children"][0]  # not recursive


def test_management_group_path_and_ancestors(seeded):
    status, body = get(seeded, "/providers/Microsoft.Management/managementGroups/mg-landing", **MGV,
                       **{"$expand": "path,ancestors"})
    d = body["properties"]["details"]
    assert d["parent"] == {"id": MG_PLATFORM, "name": "mg-platform", "displayName": "Platform"}
    assert [p["name"] for p in d["path"]] == [TENANT, "mg-platform"]
    assert [p["name"] for p in d["managementGroupAncestors"]] == ["mg-platform", TENANT]
    assert "children" not in body["properties"]


def test_management_group_descendants_paged(seeded):
    path = f"/providers/Microsoft.Management/managementGroups/{TENANT}/descendants"
    status, body = get(seeded, path, **MGV)
    got = [(d["type"], d["name"], d["properties"]["parent"]["id"].rsplit("/", 1)[-1]) for d in body["value"]]
    assert got == [("Microsoft.Management/managementGroups", "mg-platform", TENANT),
                   ("Microsoft.Management/managementGroups", "mg-landing", "mg-platform"),
                   ("Microsoft.Management/managementGroups/subscriptions", SUB_P, "mg-platform"),
                   ("Microsoft.Management/managementGroups/subscriptions", SUB_L, "mg-landing")]
    status, body = get(seeded, path, **MGV, **{"$top": "3"})
    assert len(body["value"]) == 3 and body["nextLink"]
    r = requests.get(body["nextLink"], verify=seeded.ca_path, headers={"Authorization": f"Bearer {seeded.token}"})
    assert [d["name"] for d in r.json()["value"]] == [SUB_L] and r.json()["nextLink"] is None
    assert seeded.requests(path_contains="descendants")[-1]["query"].count("top=3") == 1


def test_management_group_subscriptions_and_entities(seeded):
    status, body = get(seeded, "/providers/Microsoft.Management/managementGroups/mg-landing/subscriptions", **MGV)
    assert [s["name"] for s in body["value"]] == [SUB_L]
    assert body["value"][0]["properties"]["parent"]["id"] == MG_LANDING
    r = requests.post(f"{seeded.base_url}/providers/Microsoft.Management/getEntities", params=MGV,
                      verify=seeded.ca_path, headers={"Authorization": f"Bearer {seeded.token}"})
    ents = {e["name"]: e for e in r.json()["value"]}
    assert set(ents) == {TENANT, "mg-platform", "mg-landing", SUB_P, SUB_L} and r.json()["count"] == 5
    assert ents[SUB_L]["type"] == "/subscriptions"
    assert ents[SUB_L]["properties"]["parentNameChain"] == [TENANT, "mg-platform", "mg-landing"]
    assert ents["mg-platform"]["properties"]["numberOfDescendants"] == 3
    assert ents["mg-platform"]["properties"]["numberOfChildGroups"] == 1


@pytest.mark.parametrize(("path", "params", "status", "code"), [
    ("/providers/Microsoft.Management/managementGroups/nope", MGV, 403, "AuthorizationFailed"),
    ("/providers/Microsoft.Management/managementGroups/mg-platform", {**MGV, "$expand": "everything"}, 400,
     "InvalidRequest"),
    ("/providers/Microsoft.Management/managementGroups/mg-platform", {**MGV, "$recurse": "true"}, 400,
     "InvalidRequest"),
    ("/providers/Microsoft.Management/managementGroups", {"api-version": "2022-04-01"}, 400,
     "InvalidApiVersionParameter"),
    ("/providers/Microsoft.Management/managementGroups", {}, 400, "MissingApiVersionParameter"),
])
def test_management_group_errors(seeded, path, params, status, code):
    got, body = get(seeded, path, **params)
    assert got == status and body["error"]["code"] == code


def test_without_a_seed_there_is_the_root_group(emulator):
    status, body = get(emulator, f"/providers/Microsoft.Management/managementGroups/{emulator.tenant_id}", **MGV,
                       **{"$expand": "children"})
    assert status == 200
    assert [c["name"] for c in body["properties"]["children"]] == [emulator.subscription_id]


def test_a_refused_read_is_a_fault_rule(seeded):
    seeded.add_fault(path_contains="/managementGroups/mg-landing", status=403, code="AuthorizationFailed", times=0)
    status, body = get(seeded, "/providers/Microsoft.Management/managementGroups/mg-landing/descendants", **MGV)
    assert status == 403 and body["error"]["code"] == "AuthorizationFailed"
    assert get(seeded, "/providers/Microsoft.Management/managementGroups/mg-platform", **MGV)[0] == 200


def test_deny_and_pim_reads_follow_the_permission_table(seeded):
    seeded.configure(enforce_permissions=True)
    other = "99999999-0000-4000-8000-0000000000cc"
    seeded.grant(other, [("Reader", L)])
    c = make_client(seeded, token=seeded.token_for(other))
    try:
        assert names(c.deny_assignments.list_for_scope(L, filter="atScope()")) == [DENY_L]
        with pytest.raises(Exception) as e:
            list(c.deny_assignments.list_for_scope(P))
        assert getattr(e.value, "status_code", None) == 403
        with pytest.raises(Exception) as e:
            list(c.role_eligibility_schedule_instances.list_for_scope(P))
        assert getattr(e.value, "status_code", None) == 403
    finally:
        c.close()


def test_seeded_custom_role_is_served(sdk):
    from .estate import SCORE_ROLE

    got = list(sdk.role_definitions.list(L, filter="roleName eq 'ML endpoint scorer'"))
    assert [r.name for r in got] == [SCORE_ROLE] and got[0].role_type == "CustomRole"
    assert got[0].permissions[0].data_actions == [
        "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/score/action"]
