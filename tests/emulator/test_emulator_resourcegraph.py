"""Azure Resource Graph (``POST /providers/Microsoft.ResourceGraph/resources``): the recognised
queries, row shapes, paging by $skipToken, result formats, scoping, and refusal of the rest."""

from __future__ import annotations

import pytest
import requests

from rbactool.emulator.resourcegraph import parse_query

from .estate import (
    DS,
    MG_PLATFORM,
    RA_DS_READER,
    RG_DATA,
    RG_ML,
    SCORE_ROLE,
    SUB_L,
    SUB_P,
    TENANT,
    WORKSPACE,
    L,
    P,
    estate,
)

RA_Q = "authorizationresources | where type =~ 'microsoft.authorization/roleassignments'"
RD_Q = "authorizationresources | where type =~ 'microsoft.authorization/roledefinitions'"
MG_Q = "resourcecontainers | where type =~ 'microsoft.management/managementgroups'"
SUB_Q = "resourcecontainers | where type =~ 'microsoft.resources/subscriptions'"
RG_Q = "resourcecontainers | where type =~ 'microsoft.resources/subscriptions/resourcegroups'"


@pytest.fixture
def seeded(emulator):
    emulator.load_seed(estate())
    return emulator


def arg(emu, query, version="2022-10-01", **body):
    r = requests.post(f"{emu.base_url}/providers/Microsoft.ResourceGraph/resources", params={"api-version": version},
                      json={"query": query, **body}, verify=emu.ca_path,
                      headers={"Authorization": f"Bearer {emu.token}"})
    return r.status_code, r.json()


@pytest.mark.parametrize("version", ["2021-03-01", "2022-10-01", "2024-04-01"])
def test_role_assignment_rows(seeded, version):
    status, body = arg(seeded, RA_Q, version)
    assert status == 200
    assert body["totalRecords"] == 5 and body["count"] == 5 and body["resultTruncated"] == "false"
    assert body["facets"] == [] and "$skipToken" not in body
    rows = {r["name"]: r for r in body["data"]}
    r = rows[RA_DS_READER]
    assert r["type"] == "microsoft.authorization/roleassignments"
    assert r["id"] == f"{MG_PLATFORM}/providers/Microsoft.Authorization/roleAssignments/{RA_DS_READER}"
    assert r["subscriptionId"] == "" and r["tenantId"] == TENANT
    assert r["properties"]["principalId"] == DS and r["properties"]["principalType"] == "Group"
    assert r["properties"]["scope"] == MG_PLATFORM
    assert r["properties"]["roleDefinitionId"] == \
        "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
    at_rg = next(x for x in body["data"] if x["properties"]["scope"] == RG_DATA)
    assert at_rg["subscriptionId"] == SUB_L and at_rg["resourceGroup"] == "rg-data"
    assert at_rg["properties"]["roleDefinitionId"].startswith(f"{L}/providers/Microsoft.Authorization/")
    cond = next(x for x in body["data"] if x["properties"]["condition"])
    assert cond["properties"]["conditionVersion"] == "2.0"


def test_role_definition_rows(seeded):
    status, body = arg(seeded, RD_Q + " | project id, name, properties")
    assert status == 200 and body["totalRecords"] > 900  # the custom role and every built-in
    rows = {r["name"]: r for r in body["data"]}
    custom = rows.get(SCORE_ROLE)
    if custom is None:  # the first page holds 1000 rows: the custom role comes first
        pytest.fail("the custom role is not on the first page")
    assert set(custom) == {"id", "name", "properties"}
    p = custom["properties"]
    assert p["type"] == "CustomRole" and p["roleName"] == "ML endpoint scorer" and p["assignableScopes"] == [L]
    assert p["permissions"][0]["dataActions"] == [
        "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/score/action"]
    reader = rows["acdd72a7-3385-48ef-bd42-f606fba81ae7"]["properties"]
    assert reader["type"] == "BuiltInRole" and reader["assignableScopes"] == ["/"]


def test_container_rows(seeded):
    _, mgs = arg(seeded, MG_Q)
    by = {r["name"]: r for r in mgs["data"]}
    assert set(by) == {TENANT, "mg-platform", "mg-landing"}
    landing = by["mg-landing"]
    assert landing["type"] == "microsoft.management/managementgroups"
    assert landing["id"] == "/providers/Microsoft.Management/managementGroups/mg-landing"
    assert landing["properties"]["displayName"] == "Landing zones"
    assert [a["name"] for a in landing["properties"]["details"]["managementGroupAncestorsChain"]] == [
        "mg-platform", TENANT]
    assert by[TENANT]["properties"]["details"]["managementGroupAncestorsChain"] == []
    _, subs = arg(seeded, SUB_Q)
    s = {r["subscriptionId"]: r for r in subs["data"]}
    assert s[SUB_L]["name"] == "Landing one" and s[SUB_L]["type"] == "microsoft.resources/subscriptions"
    assert s[SUB_L]["id"] == L
    assert [a["name"] for a in s[SUB_L]["properties"]["managementGroupAncestorsChain"]] == [
        "mg-landing", "mg-platform", TENANT]
    _, rgs = arg(seeded, RG_Q)
    assert sorted(r["id"] for r in rgs["data"]) == sorted([RG_ML, RG_DATA])
    assert all(r["type"] == "microsoft.resources/subscriptions/resourcegroups" for r in rgs["data"])
    _, everything = arg(seeded, "resourcecontainers")
    assert everything["totalRecords"] == 3 + 2 + 2


def test_paging_with_skip_token(seeded):
    seen, token, pages = [], None, 0
    while True:
        status, body = arg(seeded, RA_Q, options={"$top": 2, **({"$skipToken": token} if token else {})})
        assert status == 200 and body["totalRecords"] == 5
        seen += [r["id"] for r in body["data"]]
        pages += 1
        token = body.get("$skipToken")
        if not token:
            break
        assert body["count"] == 2
    assert pages == 3 and len(seen) == len(set(seen)) == 5


def test_skip_and_top(seeded):
    _, all_rows = arg(seeded, RA_Q)
    _, body = arg(seeded, RA_Q, options={"$skip": 3, "$top": 1})
    assert [r["id"] for r in body["data"]] == [all_rows["data"][3]["id"]] and body["$skipToken"]
    _, nxt = arg(seeded, RA_Q, options={"$skip": 3, "$top": 1, "$skipToken": body["$skipToken"]})
    assert [r["id"] for r in nxt["data"]] == [all_rows["data"][4]["id"]] and "$skipToken" not in nxt


def test_projection_without_id_truncates_instead_of_paging(seeded):
    status, body = arg(seeded, RA_Q + " | project name, properties", options={"$top": 2})
    assert status == 200 and body["resultTruncated"] == "true" and "$skipToken" not in body
    assert all(set(r) == {"name", "properties"} for r in body["data"])


def test_table_format(seeded):
    status, body = arg(seeded, SUB_Q + " | project id, name, properties", options={"resultFormat": "table"})
    assert status == 200
    assert body["data"]["columns"] == [{"name": "id", "type": "string"}, {"name": "name", "type": "string"},
                                       {"name": "properties", "type": "object"}]
    assert sorted(row[0] for row in body["data"]["rows"]) == sorted([P, L])


def test_subscription_and_management_group_scoping(seeded):
    _, body = arg(seeded, RA_Q, subscriptions=[SUB_P])
    assert {r["properties"]["scope"] for r in body["data"]} == {P}
    _, body = arg(seeded, RA_Q, subscriptions=[SUB_P], options={"authorizationScopeFilter": "AtScopeAndAbove"})
    assert {r["properties"]["scope"] for r in body["data"]} == {P, MG_PLATFORM}
    _, body = arg(seeded, RA_Q, subscriptions=[SUB_L], options={"authorizationScopeFilter": "AtScopeExact"})
    assert {r["properties"]["scope"] for r in body["data"]} == {L}
    _, body = arg(seeded, RA_Q, managementGroups=["mg-landing"])
    assert {r["properties"]["scope"] for r in body["data"]} == {L, RG_DATA, WORKSPACE}
    _, body = arg(seeded, RA_Q, managementGroups=["mg-platform"])
    assert len(body["data"]) == 5
    _, body = arg(seeded, SUB_Q, managementGroups=["mg-landing"])
    assert [r["subscriptionId"] for r in body["data"]] == [SUB_L]
    _, body = arg(seeded, MG_Q, managementGroups=["mg-platform"])
    assert {r["name"] for r in body["data"]} == {"mg-platform", "mg-landing"}
    _, body = arg(seeded, RD_Q, subscriptions=[SUB_P], options={"$top": 5})
    assert body["totalRecords"] > 900  # definitions are tenant-wide


@pytest.mark.parametrize("query", [
    "resources | take 1",
    "authorizationresources | where type =~ 'microsoft.authorization/denyassignments'",
    "authorizationresources | where name == 'x'",
    "authorizationresources | where type =~ 'microsoft.authorization/roleassignments' | extend p = properties",
    "authorizationresources | where type =~ 'microsoft.authorization/roleassignments' | project x = name",
    "resourcecontainers | where type =~ 'microsoft.resources/subscriptions' | join (resources) on id",
    "authorizationresources |",
])
def test_unknown_queries_are_refused(seeded, query):
    status, body = arg(seeded, query)
    assert status == 400 and body["error"]["code"] == "BadRequest"
    assert body["error"]["details"][0]["code"] == "InvalidQuery"


@pytest.mark.parametrize(("body", "fragment"), [
    ({"subscriptions": [SUB_P], "managementGroups": ["mg-platform"]}, "cannot both"),
    ({"options": {"$top": 1001}}, "$top"),
    ({"options": {"$top": 0}}, "$top"),
    ({"options": {"$skip": -1}}, "$skip"),
    ({"options": {"resultFormat": "csv"}}, "resultFormat"),
    ({"options": {"$skipToken": "not-a-token"}}, "$skipToken"),
    ({"options": {"authorizationScopeFilter": "Everywhere"}}, "authorizationScopeFilter"),
])
def test_bad_requests(seeded, body, fragment):
    status, out = arg(seeded, RA_Q, **body)
    assert status == 400 and fragment in out["error"]["message"]


def test_token_of_another_query_is_refused(seeded):
    _, body = arg(seeded, RA_Q, options={"$top": 1})
    status, out = arg(seeded, SUB_Q, options={"$top": 1, "$skipToken": body["$skipToken"]})
    assert status == 400 and "$skipToken" in out["error"]["message"]


def test_api_version_method_and_body(seeded):
    assert arg(seeded, RA_Q, version="2022-04-01")[0] == 400
    r = requests.get(f"{seeded.base_url}/providers/Microsoft.ResourceGraph/resources?api-version=2022-10-01",
                     verify=seeded.ca_path, headers={"Authorization": f"Bearer {seeded.token}"})
    assert r.status_code == 405
    r = requests.post(f"{seeded.base_url}/providers/Microsoft.ResourceGraph/resources?api-version=2022-10-01",
                      data=b"{not json", verify=seeded.ca_path, headers={"Authorization": f"Bearer {seeded.token}"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidRequestContent"
    r = requests.post(f"{seeded.base_url}/providers/Microsoft.ResourceGraph/resources?api-version=2022-10-01",
                      json={"query": RA_Q}, verify=seeded.ca_path)
    assert r.status_code == 401


def test_query_recogniser():
    assert parse_query("AuthorizationResources|where type=~\"microsoft.authorization/roleassignments\"") == (
        "authorizationresources", "microsoft.authorization/roleassignments", False, None)
    assert parse_query(SUB_Q + " | project id,name") == (
        "resourcecontainers", "microsoft.resources/subscriptions", False, ("id", "name"))
    assert parse_query("resourcecontainers | where type == 'Microsoft.Resources/subscriptions'") is not None
    assert parse_query("resourcecontainers | project id | where type =~ 'microsoft.resources/subscriptions'") is None


def test_case_sensitive_equals(seeded):
    _, body = arg(seeded, "resourcecontainers | where type == 'Microsoft.Resources/subscriptions'")
    assert body["totalRecords"] == 0
    _, body = arg(seeded, "resourcecontainers | where type == 'microsoft.resources/subscriptions'")
    assert body["totalRecords"] == 2


def test_rows_follow_writes(seeded):
    from .conftest import make_client

    c = make_client(seeded)
    try:
        from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

        c.role_assignments.create(RG_ML, "99999999-0000-4000-8000-0000000000a1", RoleAssignmentCreateParameters(
            role_definition_id="/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7",
            principal_id=DS, principal_type="Group"))
        c.role_assignments.create(f"{P}/resourceGroups/rg-new", "99999999-0000-4000-8000-0000000000a2",
                                  RoleAssignmentCreateParameters(
            role_definition_id="/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7",
            principal_id=DS, principal_type="Group"))
    finally:
        c.close()
    _, body = arg(seeded, RA_Q)
    assert body["totalRecords"] == 7
    _, body = arg(seeded, RG_Q)
    assert f"{P}/resourceGroups/rg-new" in {r["id"] for r in body["data"]}
