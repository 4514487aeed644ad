"""Replay the 2022-04-01 REST API examples (tests/emulator/rest_examples, from Azure/azure-rest-api-specs):
the emulator's responses have the example's status and shape (every key of the example, same JSON types).

The examples use placeholders ("scope", "action", "roleDefinitionId"); they are replaced by real values.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

EXAMPLES = Path(__file__).parent / "rest_examples"
EX_SUB = "a925f2f7-5c63-4b7b-8799-25a5f97bc3b2"
EX_ROLE = "0b5fe924-9a61-425c-96af-cfe6e287ca2d"
ROLE_GUID = "5b0c1d5e-1111-4a4a-8b8b-00000000e7a1"
ACTION = "Microsoft.Storage/storageAccounts/read"
DATA_ACTION = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"


def load(name):
    return json.loads((EXAMPLES / name).read_text())


def assert_same_shape(example, actual, where="$"):
    if isinstance(example, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {type(actual).__name__}"
        for key, value in example.items():
            assert key in actual, f"{where}: key {key!r} missing"
            assert_same_shape(value, actual[key], f"{where}.{key}")
    elif isinstance(example, list):
        assert isinstance(actual, list), f"{where}: expected a list"
        if example and actual:
            assert_same_shape(example[0], actual[0], f"{where}[0]")
    elif isinstance(example, bool):
        assert isinstance(actual, bool), where
    elif isinstance(example, (int, float)):
        assert isinstance(actual, (int, float)), where
    elif isinstance(example, str):
        assert isinstance(actual, str), f"{where}: expected a string, got {actual!r}"


class Rest:
    def __init__(self, emulator):
        self.emulator = emulator
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {emulator.token}"

    def __call__(self, method, path, api_version, body=None):
        url = f"{self.emulator.base_url}/{path.lstrip('/')}"
        # verify= per request: a session-level verify loses to $REQUESTS_CA_BUNDLE in requests
        return self.session.request(method, url, params={"api-version": api_version},
                                    json=body, timeout=10, verify=self.emulator.ca_path)


@pytest.fixture
def rest(emulator):
    r = Rest(emulator)
    yield r
    r.session.close()


def role_body(example_role, sub):
    perms = [{"actions": [ACTION], "notActions": [], "dataActions": [DATA_ACTION], "notDataActions": []}
             for _ in example_role["permissions"]]
    return {"properties": {"roleName": example_role["roleName"], "description": example_role["description"],
                           "assignableScopes": [sub], "permissions": perms}}


def check(resp, example, status):
    assert resp.status_code == int(status)
    expected = example["responses"][status]
    if "body" in expected:
        assert_same_shape(expected["body"], resp.json())
    else:
        assert resp.content == b""


def test_put_get_delete_role_definition(rest, sub):
    put = load("PutRoleDefinition.json")
    example_role = put["parameters"]["body"]["roleDefinition"]
    api = put["parameters"]["api-version"]
    path = f"{sub}/providers/Microsoft.Authorization/roleDefinitions/{ROLE_GUID}"
    check(rest("PUT", path, api, role_body(example_role, sub)), put, "201")
    by_id = load("GetRoleDefinitionById.json")
    check(rest("GET", path, by_id["parameters"]["api-version"]), by_id, "200")
    by_name = load("GetRoleDefinitionByName.json")
    check(rest("GET", path, by_name["parameters"]["api-version"]), by_name, "200")
    delete = load("DeleteRoleDefinition.json")
    check(rest("DELETE", path, delete["parameters"]["api-version"]), delete, "200")
    check(rest("DELETE", path, delete["parameters"]["api-version"]), delete, "204")


def test_role_assignment_examples(rest):
    sub = f"/subscriptions/{EX_SUB}"
    role = {"roleName": "example role", "description": "", "permissions": [{}]}
    created = rest("PUT", f"{sub}/providers/Microsoft.Authorization/roleDefinitions/{EX_ROLE}", "2022-04-01",
                   role_body(role, sub))
    assert created.status_code == 201
    create = load("RoleAssignments_CreateForSubscription.json")
    p = create["parameters"]
    path = f"{p['scope']}/providers/Microsoft.Authorization/roleAssignments/{p['roleAssignmentName']}"
    check(rest("PUT", path, p["api-version"], p["parameters"]), create, "201")
    check(rest("PUT", path, p["api-version"], p["parameters"]), create, "200")

    get = load("RoleAssignments_Get.json")
    g = get["parameters"]
    name = g["roleAssignmentName"]
    body = {"properties": {**p["parameters"]["properties"], "principalId": "ce2ce14e-85d7-4629-bdbc-454d0519d988"}}
    gpath = f"{g['scope']}/providers/Microsoft.Authorization/roleAssignments/{name}"
    assert rest("PUT", gpath, "2022-04-01", body).status_code == 201
    check(rest("GET", gpath, g["api-version"]), get, "200")

    listed = load("RoleAssignments_ListForScope.json")
    lp = listed["parameters"]
    check(rest("GET", f"{lp['scope']}/providers/Microsoft.Authorization/roleAssignments", lp["api-version"]),
          listed, "200")

    delete = load("RoleAssignments_Delete.json")
    d = delete["parameters"]
    dpath = f"{d['scope']}/providers/Microsoft.Authorization/roleAssignments/{d['roleAssignmentName']}"
    check(rest("DELETE", dpath, d["api-version"]), delete, "200")
    check(rest("DELETE", dpath, d["api-version"]), delete, "204")


def test_provider_operations_example(rest):
    ex = load("GetProviderOperationsRP.json")
    resp = rest("GET", "/providers/Microsoft.Authorization/providerOperations/Microsoft.Storage",
                ex["parameters"]["api-version"])
    check(resp, ex, "200")
    with_types = rest.session.get(
        f"{rest.emulator.base_url}/providers/Microsoft.Authorization/providerOperations/microsoft.storage",
        params={"api-version": "2022-04-01", "$expand": "resourceTypes"}, timeout=10,
        verify=rest.emulator.ca_path).json()
    assert with_types["name"] == "Microsoft.Storage"
    ops = [o for rt in with_types["resourceTypes"] for o in rt["operations"]]
    assert any(o["isDataAction"] for o in ops) and any(not o["isDataAction"] for o in ops)
    assert rest("GET", "/providers/Microsoft.Authorization/providerOperations/Contoso.Nothing",
                "2022-04-01").status_code == 404


def test_extra_operations_are_listed(rest, emulator, client):
    emulator.add_operations([{"name": "Contoso.Widgets/widgets/read", "isDataAction": False,
                              "displayName": "Read widgets", "description": "Reads a widget."},
                             {"name": "Microsoft.Storage/storageAccounts/frobnicate/action", "isDataAction": False}])
    contoso = client.provider_operations_metadata.get("contoso.widgets")
    assert contoso.name == "Contoso.Widgets"
    assert [o.name for rt in contoso.resource_types for o in rt.operations] == ["Contoso.Widgets/widgets/read"]
    assert contoso.resource_types[0].operations[0].display_name == "Read widgets"
    storage = client.provider_operations_metadata.get("Microsoft.Storage")
    names = {o.name for rt in storage.resource_types for o in rt.operations}
    assert "Microsoft.Storage/storageAccounts/frobnicate/action" in names
    assert "Contoso.Widgets" in {p.name for p in client.provider_operations_metadata.list()}
