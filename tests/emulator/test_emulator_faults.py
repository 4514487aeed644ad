"""Authentication, caller permissions, fault rules, throttling, eventual consistency, robustness."""

from __future__ import annotations

import contextlib
import json

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from azure.mgmt.authorization.models import Permission, RoleAssignmentCreateParameters, RoleDefinition

from .conftest import make_client

READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
ROLE_ID = "5b0c1d5e-1111-4a4a-8b8b-000000000001"
USER = "3333aaaa-0000-4000-8000-000000000001"
NAME = "4444aaaa-0000-4000-8000-000000000001"
NAME2 = "4444aaaa-0000-4000-8000-000000000002"
OTHER_CALLER = "9999aaaa-0000-4000-8000-000000000009"


def reader_params(sub, principal=USER, **kw):
    kw.setdefault("principal_type", "User")
    return RoleAssignmentCreateParameters(
        role_definition_id=f"{sub}/providers/Microsoft.Authorization/roleDefinitions/{READER}", principal_id=principal, **kw)


def custom_role(sub, name="ec-role", scopes=None):
    return RoleDefinition(role_name=name, permissions=[Permission(actions=["Microsoft.Storage/storageAccounts/read"])],
                          assignable_scopes=scopes or [sub])


def raw(emulator, method, path, *, token=True, body=None, headers=None):
    h = dict(headers or {})
    if token:
        h["Authorization"] = f"Bearer {emulator.token}"
    return requests.request(method, emulator.base_url + path, data=body, headers=h, verify=emulator.ca_path, timeout=10)


# ------------------------------------------------------------------ authentication


def test_missing_authorization_is_401_json(emulator, sub):
    r = raw(emulator, "GET", f"{sub}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01",
            token=False)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "AuthenticationFailed"
    assert "WWW-Authenticate" in r.headers
    r = raw(emulator, "GET", f"{sub}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01",
            token=False, headers={"Authorization": "Basic abc"})
    assert r.json()["error"]["code"] == "InvalidAuthenticationToken"
    r = raw(emulator, "GET", f"{sub}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01",
            token=False, headers={"Authorization": "Bearer "})
    assert r.status_code == 401 and r.json()["error"]["code"] == "AuthenticationFailed"


def test_required_token_gives_client_authentication_error(emulator, sub):
    emulator.configure(required_token="the-only-good-token")
    c = make_client(emulator, token="another-token")
    with pytest.raises(ClientAuthenticationError) as e:
        c.role_definitions.get(sub, READER)
    assert e.value.status_code == 401 and e.value.error.code == "InvalidAuthenticationToken"
    good = make_client(emulator, token="the-only-good-token")
    assert good.role_definitions.get(sub, READER).role_name == "Reader"


def test_token_is_never_logged(emulator, client, sub):
    client.role_definitions.get(sub, READER)
    dumped = json.dumps(emulator.requests())
    assert emulator.token not in dumped
    assert all("authorization" not in entry["headers"] for entry in emulator.requests())


def test_fake_entra_token_endpoint_with_azure_identity(emulator, sub, monkeypatch):
    from azure.identity import ClientSecretCredential
    from azure.mgmt.authorization import AuthorizationManagementClient

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", emulator.ca_path)
    cred = ClientSecretCredential(emulator.tenant_id, "my-client-id", "not-a-secret",
                                  authority=emulator.base_url, disable_instance_discovery=True)
    c = AuthorizationManagementClient(cred, emulator.subscription_id, base_url=emulator.base_url)
    rd = c.role_definitions.create_or_update(sub, ROLE_ID, custom_role(sub))
    assert rd.updated_by not in (None, "00000000-0000-0000-0000-0000000000cc")  # the oid of my-client-id
    token_requests = [r for r in emulator.requests(method="POST") if "/oauth2/v2.0/token" in r["path"]]
    assert token_requests
    assert "not-a-secret" not in json.dumps(emulator.requests())


# ------------------------------------------------------------------ caller permissions


def test_authorization_failed_and_linked(emulator, sub):
    emulator.configure(enforce_permissions=True)
    emulator.grant(OTHER_CALLER, [("Reader", sub)])
    c = make_client(emulator, token=emulator.token_for(OTHER_CALLER))
    assert c.role_definitions.get(sub, READER).role_name == "Reader"
    with pytest.raises(HttpResponseError) as e:
        c.role_assignments.create(sub, NAME, reader_params(sub))
    assert type(e.value) is HttpResponseError
    assert e.value.status_code == 403 and e.value.error.code == "AuthorizationFailed"
    rg = f"{sub}/resourceGroups/rg1"
    emulator.grant(OTHER_CALLER, [("User Access Administrator", rg)])
    other_rg = f"{sub}/resourceGroups/rg2"
    with pytest.raises(HttpResponseError) as e:
        c.role_definitions.create_or_update(rg, ROLE_ID, custom_role(sub, scopes=[rg, other_rg]))
    assert e.value.status_code == 403 and e.value.error.code == "LinkedAuthorizationFailed"
    assert c.role_assignments.create(rg, NAME, reader_params(sub)).name == NAME
    perms = list(c.permissions.list_for_resource_group("rg1"))
    assert any("Microsoft.Authorization/*" in p.actions for p in perms)


# ------------------------------------------------------------------ faults and throttling


def test_fault_429_is_retried_transparently(emulator, sub):
    emulator.add_fault(method="PUT", path_contains="roleAssignments", times=2, status=429,
                       headers={"Retry-After": "0"})
    c = make_client(emulator)
    assert c.role_assignments.create(sub, NAME, reader_params(sub)).name == NAME
    assert [r["status"] for r in emulator.requests(method="PUT")] == [429, 429, 201]


def test_fault_429_exhausted(emulator, sub):
    emulator.add_fault(method="GET", path_regex=r"roleDefinitions/[0-9a-f-]+$", times=0, status=429,
                       headers={"Retry-After": "1"})
    c = make_client(emulator, retry_total=0)
    with pytest.raises(HttpResponseError) as e:
        c.role_definitions.get(sub, READER)
    assert e.value.status_code == 429 and e.value.error.code == "TooManyRequests"
    assert e.value.response.headers["Retry-After"] == "1"


def test_fault_500_on_put_is_retried(emulator, sub):
    emulator.add_fault(method="PUT", status=500, times=1)
    c = make_client(emulator)
    assert c.role_assignments.create(sub, NAME, reader_params(sub)).name == NAME


def test_custom_fault_code(emulator, sub, client):
    emulator.add_fault(method="PUT", status=400, code="PrincipalNotFound", message="injected")
    with pytest.raises(HttpResponseError) as e:
        client.role_assignments.create(sub, NAME, reader_params(sub))
    assert e.value.error.code == "PrincipalNotFound"


def test_no_retry_after_on_ordinary_errors(emulator, sub):
    r = raw(emulator, "GET", f"{sub}/providers/Microsoft.Authorization/roleDefinitions/{ROLE_ID}?api-version=2022-04-01")
    assert r.status_code == 404 and "Retry-After" not in r.headers
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers["x-ms-request-id"] and r.headers["x-ms-ratelimit-remaining-subscription-reads"]


def test_token_bucket_throttle(emulator, sub):
    emulator.configure(throttle=True, throttle_writes_per_hour=2)
    c = make_client(emulator, retry_total=0)
    c.role_assignments.create(sub, NAME, reader_params(sub))
    c.role_assignments.create(sub, NAME, reader_params(sub))
    with pytest.raises(HttpResponseError) as e:
        c.role_assignments.create(sub, NAME2, reader_params(sub))
    assert e.value.status_code == 429 and e.value.error.code == "TooManyRequests"
    assert int(e.value.response.headers["Retry-After"]) >= 1
    assert c.role_definitions.get(sub, READER).role_name == "Reader"  # reads have their own bucket


# ------------------------------------------------------------------ eventual consistency


def test_role_definition_replication_delay(emulator, sub, client):
    emulator.configure(role_definition_replication_delay_s=60)
    rd = client.role_definitions.create_or_update(sub, ROLE_ID, custom_role(sub))
    with pytest.raises(ResourceNotFoundError):
        client.role_definitions.get(sub, ROLE_ID)
    assert list(client.role_definitions.list(sub, filter="roleName eq 'ec-role'")) == []
    with pytest.raises(HttpResponseError) as e:
        client.role_assignments.create(sub, NAME, RoleAssignmentCreateParameters(
            role_definition_id=rd.id, principal_id=USER, principal_type="User"))
    assert e.value.status_code == 400 and e.value.error.code == "RoleDefinitionDoesNotExist"
    emulator.advance_clock(61)
    assert client.role_definitions.get(sub, ROLE_ID).name == ROLE_ID


def test_assignable_scope_delay(emulator, sub, client):
    rg1, rg2 = f"{sub}/resourceGroups/rg1", f"{sub}/resourceGroups/rg2"
    emulator.configure(assignable_scope_replication_delay_s=60)
    rd = client.role_definitions.create_or_update(sub, ROLE_ID, custom_role(sub, scopes=[rg1]))
    client.role_definitions.create_or_update(sub, ROLE_ID, custom_role(sub, scopes=[rg1, rg2]))
    p = RoleAssignmentCreateParameters(role_definition_id=rd.id, principal_id=USER, principal_type="User")
    with pytest.raises(HttpResponseError) as e:
        client.role_assignments.create(rg2, NAME, p)
    assert e.value.error.code == "RoleAssignmentScopeNotAssignableToRoleDefinition"
    assert client.role_assignments.create(rg1, NAME2, p).name == NAME2
    emulator.advance_clock(61)
    assert client.role_assignments.create(rg2, NAME, p).name == NAME


def test_principal_visibility(emulator, sub, client):
    emulator.add_principal(USER, "ServicePrincipal", visible_after_s=60)
    with pytest.raises(HttpResponseError) as e:
        client.role_assignments.create(sub, NAME, reader_params(sub, principal_type=None))
    assert e.value.error.code == "PrincipalNotFound"
    # with principalType set ARM skips the directory lookup
    assert client.role_assignments.create(sub, NAME, reader_params(sub, principal_type="ServicePrincipal")).name
    emulator.advance_clock(61)
    contributor = RoleAssignmentCreateParameters(
        role_definition_id="/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c",
        principal_id=USER, principal_type=None)
    assert client.role_assignments.create(sub, NAME2, contributor).principal_type == "ServicePrincipal"


def test_name_tombstone_and_delete_propagation(emulator, sub, client):
    emulator.configure(deleted_role_name_tombstone_s=60, assignment_delete_propagation_s=60,
                       assignment_list_delay_s=60)
    rd = client.role_definitions.create_or_update(sub, ROLE_ID, custom_role(sub))
    client.role_assignments.create(sub, NAME, RoleAssignmentCreateParameters(
        role_definition_id=rd.id, principal_id=USER, principal_type="User"))
    assert list(client.role_assignments.list_for_subscription()) == []
    client.role_assignments.delete(sub, NAME)
    with pytest.raises(HttpResponseError) as e:
        client.role_definitions.delete(sub, ROLE_ID)
    assert e.value.error.code == "RoleDefinitionHasAssignments"
    emulator.advance_clock(61)
    client.role_definitions.delete(sub, ROLE_ID)
    with pytest.raises(HttpResponseError) as e:
        client.role_definitions.create_or_update(sub, "5b0c1d5e-1111-4a4a-8b8b-000000000002", custom_role(sub))
    assert e.value.error.code == "RoleDefinitionWithSameNameExists"
    emulator.advance_clock(61)
    assert client.role_definitions.create_or_update(sub, "5b0c1d5e-1111-4a4a-8b8b-000000000002", custom_role(sub))


def test_realistic_preset_via_control_api(emulator):
    r = raw(emulator, "PUT", "/__emulator/config", body=json.dumps({"delay_preset": "realistic"}), token=False)
    assert r.status_code == 200 and r.json()["role_definition_replication_delay_s"] > 0
    r = raw(emulator, "PUT", "/__emulator/config", body=json.dumps({"no_such_knob": 1}), token=False)
    assert r.status_code == 400


# ------------------------------------------------------------------ robustness and request-level errors


def test_api_version_checks(emulator, sub):
    base = f"{sub}/providers/Microsoft.Authorization/roleDefinitions/{READER}"
    assert raw(emulator, "GET", base).json()["error"]["code"] == "MissingApiVersionParameter"
    r = raw(emulator, "GET", base + "?api-version=1999-01-01")
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidApiVersionParameter"
    assert raw(emulator, "GET", base + "?api-version=2022-05-01-preview").status_code == 200


def test_double_slashes_and_case(emulator, sub):
    path = f"/{sub}//PROVIDERS/microsoft.authorization/ROLEDEFINITIONS/{READER}?api-version=2022-04-01"
    assert raw(emulator, "GET", path).json()["name"] == READER


def test_malformed_json_unknown_path_and_big_body(emulator, sub):
    put = f"{sub}/providers/Microsoft.Authorization/roleAssignments/{NAME}?api-version=2022-04-01"
    r = raw(emulator, "PUT", put, body=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidRequestContent"
    r = raw(emulator, "GET", f"{sub}/providers/Microsoft.Compute/virtualMachines?api-version=2022-04-01")
    assert r.status_code == 404 and r.json()["error"]["code"]
    r = raw(emulator, "PATCH", put, body=b"{}")
    assert r.status_code == 405 and r.json()["error"]["code"]
    r = raw(emulator, "PUT", put, body=b"x" * (4 * 1024 * 1024 + 1))
    assert r.status_code == 413 and r.json()["error"]["code"]
    assert raw(emulator, "GET", f"{sub}/providers/Microsoft.Authorization/roleDefinitions/{READER}"
                                "?api-version=2022-04-01").status_code == 200


def test_internal_error_is_500_json(emulator, sub, monkeypatch):
    from rbactool.emulator import app

    def boom(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setitem(app._HANDLERS, ("roleDefinitions", "GET", True), boom)
    r = raw(emulator, "GET", f"{sub}/providers/Microsoft.Authorization/roleDefinitions/{READER}?api-version=2022-04-01")
    assert r.status_code == 500 and r.json()["error"]["code"] == "InternalServerError"


def test_control_api_over_http(emulator, sub, client):
    r = raw(emulator, "PUT", f"/__emulator/principals/{USER}", body=json.dumps({"type": "Group"}), token=False)
    assert r.status_code == 200
    a = client.role_assignments.create(sub, NAME, reader_params(sub, principal_type=None))
    assert a.principal_type == "Group"
    r = raw(emulator, "POST", "/__emulator/faults", body=json.dumps({"status": 503, "times": 1}), token=False)
    assert r.status_code == 201
    log = raw(emulator, "GET", "/__emulator/requests", token=False).json()["value"]
    assert [e["status"] for e in log] == [201]
    state = raw(emulator, "GET", "/__emulator/state", token=False).json()
    assert len(state["assignments"]) == 1 and state["faults"][0]["status"] == 503
    r = raw(emulator, "POST", "/__emulator/clock", body=json.dumps({"advance_s": 5}), token=False)
    assert r.status_code == 200 and r.json()["offset_s"] == 5
    assert raw(emulator, "POST", "/__emulator/clock", body=json.dumps({"advance_s": -1}), token=False).status_code == 400
    assert raw(emulator, "POST", "/__emulator/reset", token=False).status_code == 200
    assert list(client.role_assignments.list_for_subscription()) == []


def test_subscriptions_and_tenants(emulator):
    subs = raw(emulator, "GET", "/subscriptions?api-version=2022-12-01").json()["value"]
    assert [s["subscriptionId"] for s in subs] == [emulator.subscription_id]
    assert subs[0]["tenantId"] == emulator.tenant_id
    one = raw(emulator, "GET", f"/subscriptions/{emulator.subscription_id}?api-version=2022-12-01")
    assert one.status_code == 200
    missing = raw(emulator, "GET", "/subscriptions/99999999-9999-4999-8999-999999999999?api-version=2022-12-01")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "SubscriptionNotFound"
    tenants = raw(emulator, "GET", "/tenants?api-version=2022-12-01").json()["value"]
    assert tenants[0]["tenantId"] == emulator.tenant_id


def test_chunked_request_body(emulator, sub):
    def chunks():
        yield b'{"properties": {"roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/'
        yield (READER + f'", "principalId": "{USER}", "principalType": "User"}}}}').encode()

    r = requests.put(f"{emulator.base_url}{sub}/providers/Microsoft.Authorization/roleAssignments/{NAME}",
                     params={"api-version": "2022-04-01"}, data=chunks(), verify=emulator.ca_path, timeout=10,
                     headers={"Authorization": f"Bearer {emulator.token}", "Content-Type": "application/json"})
    assert r.status_code == 201 and r.json()["name"] == NAME


def test_http_level_errors_are_json(emulator):
    r = requests.request("OPTIONS", emulator.base_url + "/", verify=emulator.ca_path, timeout=10)
    assert r.status_code == 501 and r.json()["error"]["code"]
    assert raw(emulator, "GET", f"/providers/Microsoft.Authorization/roleDefinitions/{READER}"
                                "?api-version=2022-04-01").status_code == 200


def test_server_survives_garbage(emulator):
    import socket
    import ssl

    host, port = "127.0.0.1", emulator.port
    with socket.create_connection((host, port), timeout=5) as plain:  # no TLS at all
        plain.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        with contextlib.suppress(OSError):
            plain.recv(100)
    ctx = ssl.create_default_context(cafile=emulator.ca_path)
    with socket.create_connection((host, port), timeout=5) as s, ctx.wrap_socket(s, server_hostname=host) as tls:
        tls.sendall(b"\x00\x01garbage garbage\r\n\r\n")
        reply = tls.recv(4096)
    assert b'"error"' in reply  # (an HTTP/0.9-style line gets a bare body, as http.server answers 0.9)
    assert raw(emulator, "GET", f"/providers/Microsoft.Authorization/roleDefinitions/{READER}"
                                "?api-version=2022-04-01").status_code == 200


def test_default_azure_credential_through_environment(emulator, sub, monkeypatch):
    from azure.identity import DefaultAzureCredential
    from azure.mgmt.authorization import AuthorizationManagementClient

    for key, value in {"REQUESTS_CA_BUNDLE": emulator.ca_path, "AZURE_AUTHORITY_HOST": emulator.base_url,
                       "AZURE_TENANT_ID": emulator.tenant_id, "AZURE_CLIENT_ID": "ci-client",
                       "AZURE_CLIENT_SECRET": "not-a-secret"}.items():
        monkeypatch.setenv(key, value)
    cred = DefaultAzureCredential(disable_instance_discovery=True)
    c = AuthorizationManagementClient(cred, emulator.subscription_id, base_url=emulator.base_url)
    assert c.role_definitions.get(sub, READER).role_name == "Reader"


def test_fault_skip_fails_the_third_put(emulator, sub):
    emulator.add_fault(method="PUT", skip=2, status=500, code="InternalServerError")
    c = make_client(emulator, retry_total=0)
    for i in range(2):
        c.role_assignments.create(sub, f"4444aaaa-0000-4000-8000-00000000000{i + 3}",
                                  reader_params(sub, principal=f"3333aaaa-0000-4000-8000-00000000000{i + 3}"))
    with pytest.raises(HttpResponseError) as e:
        c.role_assignments.create(sub, NAME, reader_params(sub))
    assert e.value.status_code == 500
    assert c.role_assignments.create(sub, NAME, reader_params(sub)).name == NAME
    assert [r["status"] for r in emulator.requests(method="PUT")] == [201, 201, 500, 201]


def test_fault_every_nth_matching_request(emulator, sub):
    emulator.add_fault(method="PUT", every=3, times=0, status=429, code="TooManyRequests",
                       headers={"Retry-After": "0"})
    c = make_client(emulator, retry_total=0)
    statuses = []
    for i in range(7):
        try:
            c.role_assignments.create(sub, f"5555aaaa-0000-4000-8000-00000000000{i}",
                                      reader_params(sub, principal=f"6666aaaa-0000-4000-8000-00000000000{i}"))
            statuses.append(201)
        except HttpResponseError as e:
            statuses.append(e.status_code)
    assert statuses == [201, 201, 429, 201, 201, 429, 201]


def test_fault_every_must_be_positive(emulator):
    with pytest.raises(ValueError, match="every"):
        emulator.add_fault(status=500, every=0)


def test_response_delay_is_logged_with_start_times(emulator, sub):
    emulator.configure(response_delay_s=0.05)
    make_client(emulator).role_definitions.get(sub, READER)
    (entry,) = emulator.requests(method="GET")
    assert entry["time"] - entry["start"] >= 0.05
