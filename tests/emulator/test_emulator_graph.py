"""The Microsoft Graph stand-in under /msgraph: the requests az's role commands send, group
membership (direct, transitive, cycles), Graph's error shape, hostile filters and bodies."""

from __future__ import annotations

import json

import pytest
import requests

from rbactool.emulator.persist import PersistError
from rbactool.emulator.testing import start_emulator

ADA = "11111111-1111-4111-8111-111111111111"
BOT = "22222222-2222-4222-8222-222222222222"
BOT_APP = "33333333-3333-4333-8333-333333333333"
TEAM = "44444444-4444-4444-8444-444444444444"
ALL = "55555555-5555-4555-8555-555555555555"
DEV = "66666666-6666-4666-8666-666666666666"
MISSING = "77777777-7777-4777-8777-777777777777"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


def graph(emu, method, path, *, body=None, token=True, raw_body=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {emu.token if token is True else token}"
    data = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    return requests.request(method, f"{emu.graph_url}/v1.0{path}", data=data, headers=headers,
                            verify=emu.ca_path, timeout=10)


def ok(r) -> dict:
    assert r.status_code == 200, r.text[:400]
    return r.json()


def ids(doc) -> list[str]:
    return sorted(o["id"] for o in doc["value"])


def error(r, status: int) -> str:
    assert r.status_code == status, r.text[:400]
    err = r.json()["error"]
    assert set(err) == {"code", "message", "innerError"} and err["message"]
    assert set(err["innerError"]) == {"date", "request-id", "client-request-id"}
    return err["code"]


@pytest.fixture
def directory(emulator):
    emulator.add_principal(ADA, "User", "Ada Lovelace", user_principal_name="ada@contoso.example")
    emulator.add_principal(BOT, "ServicePrincipal", "deploy-bot", app_id=BOT_APP,
                           service_principal_names=["api://deploy-bot"])
    emulator.add_principal(TEAM, "Group", "Platform team", members=[ADA, BOT, MISSING])
    emulator.add_principal(ALL, "Group", "Everyone", members=[TEAM])
    emulator.add_principal(DEV, "Device", "laptop")
    return emulator


# ------------------------------------------------------------------ what az asks


def test_get_by_ids_returns_known_objects_with_their_odata_type(directory):
    body = {"ids": [ADA, BOT, TEAM, MISSING, ADA.upper()],
            "types": ["user", "group", "servicePrincipal", "directoryObjectPartnerReference"]}
    doc = ok(graph(directory, "POST", "/directoryObjects/getByIds", body=body))
    assert doc["@odata.context"].endswith("/msgraph/v1.0/$metadata#directoryObjects")
    by_id = {o["id"]: o for o in doc["value"]}
    assert list(by_id) == [ADA, BOT, TEAM]  # the unknown id is left out, the repeated one given once
    assert by_id[ADA]["@odata.type"] == "#microsoft.graph.user"
    assert by_id[ADA]["userPrincipalName"] == "ada@contoso.example"
    assert by_id[BOT]["@odata.type"] == "#microsoft.graph.servicePrincipal"
    assert by_id[BOT]["servicePrincipalNames"] == [BOT_APP, "api://deploy-bot"]
    assert by_id[BOT]["appId"] == BOT_APP
    assert by_id[TEAM]["@odata.type"] == "#microsoft.graph.group" and by_id[TEAM]["displayName"] == "Platform team"
    only_users = ok(graph(directory, "POST", "/directoryObjects/getByIds", body={"ids": [ADA, BOT], "types": ["user"]}))
    assert ids(only_users) == [ADA]
    assert ids(ok(graph(directory, "POST", "/directoryObjects/getByIds", body={"ids": [DEV]}))) == [DEV]


@pytest.mark.parametrize("path, expected", [
    ("/servicePrincipals?$filter=servicePrincipalNames/any(c:c eq '33333333-3333-4333-8333-333333333333')", [BOT]),
    ("/servicePrincipals?$filter=servicePrincipalNames/any(x:x eq 'API://DEPLOY-BOT')", [BOT]),
    (f"/servicePrincipals?$filter=servicePrincipalNames/any(c:c eq '{BOT}')", []),  # an object id is not a name
    (f"/servicePrincipals?$filter=appId eq '{BOT_APP}'", [BOT]),
    ("/servicePrincipals?$filter=startswith(displayName,'deploy')", [BOT]),
    ("/users?$filter=userPrincipalName eq 'ADA@contoso.example'", [ADA]),
    ("/users?$filter=displayName eq 'Ada Lovelace' and userPrincipalName eq 'ada@contoso.example'", [ADA]),
    ("/users?$filter=displayName eq 'Ada Lovelace' and userPrincipalName eq 'someone@else'", []),
    ("/groups?$filter=displayName eq 'Platform team'", [TEAM]),
    ("/groups?$filter=displayName eq 'Ada Lovelace'", []),  # users are not groups
    ("/groups", [TEAM, ALL]),
    ("/users", [ADA]),
    ("/devices", [DEV]),
])
def test_lists_and_the_filters_az_sends(directory, path, expected):
    assert ids(ok(graph(directory, "GET", path))) == sorted(expected)


def test_get_by_id_and_by_user_principal_name(directory):
    assert ok(graph(directory, "GET", f"/users/{ADA}"))["displayName"] == "Ada Lovelace"
    assert ok(graph(directory, "GET", "/users/ada@contoso.example"))["id"] == ADA
    assert ok(graph(directory, "GET", "/users('ada@contoso.example')"))["id"] == ADA
    sp = ok(graph(directory, "GET", f"/servicePrincipals/{BOT}"))
    assert sp["@odata.context"].endswith("$metadata#servicePrincipals/$entity") and sp["appId"] == BOT_APP
    assert ok(graph(directory, "GET", f"/groups/{TEAM}"))["securityEnabled"] is True
    assert ok(graph(directory, "GET", f"/directoryObjects/{BOT}"))["@odata.type"] == "#microsoft.graph.servicePrincipal"
    selected = ok(graph(directory, "GET", f"/users/{ADA}?$select=displayName"))
    assert set(selected) - {"@odata.context"} == {"@odata.type", "displayName"}


@pytest.mark.parametrize("path", [f"/groups/{MISSING}", f"/users/{BOT}", f"/servicePrincipals/{ADA}",
                                  "/users/nobody@contoso.example", f"/directoryObjects/{MISSING}",
                                  f"/groups/{MISSING}/transitiveMembers"])
def test_unknown_or_wrong_type_ids_are_request_resource_not_found(directory, path):
    r = graph(directory, "GET", path)
    assert error(r, 404) == "Request_ResourceNotFound"
    assert path.split("/")[2] in r.json()["error"]["message"]


def test_defaults_for_principals_seeded_without_graph_fields(emulator):
    emulator.add_principal(ADA, "User")
    emulator.add_principal(BOT, "ServicePrincipal", "bot")
    user = ok(graph(emulator, "GET", f"/users/{ADA}"))
    assert user["userPrincipalName"] == f"{ADA}@emulator.invalid"
    sp = ok(graph(emulator, "GET", f"/servicePrincipals/{BOT}"))
    assert sp["servicePrincipalNames"] == [sp["appId"]] and sp["appId"] not in (BOT, "")
    again = ok(graph(emulator, "GET", f"/servicePrincipals?$filter=appId eq '{sp['appId']}'"))
    assert ids(again) == [BOT]  # the derived app id is stable


def test_graph_sees_principals_before_arm_does(emulator):
    """Directory replication: Graph knows a new principal at once, ARM only after visible_after_s."""
    emulator.add_principal(BOT, "ServicePrincipal", "new", visible_after_s=60)
    assert ids(ok(graph(emulator, "POST", "/directoryObjects/getByIds", body={"ids": [BOT]}))) == [BOT]


# ------------------------------------------------------------------ membership


def test_members_transitive_members_and_member_of(directory):
    assert ids(ok(graph(directory, "GET", f"/groups/{TEAM}/members"))) == sorted([ADA, BOT])  # MISSING skipped
    assert ids(ok(graph(directory, "GET", f"/groups/{ALL}/members"))) == [TEAM]
    assert ids(ok(graph(directory, "GET", f"/groups/{ALL}/transitiveMembers"))) == sorted([TEAM, ADA, BOT])
    users_only = f"/groups/{ALL}/transitiveMembers?$filter=startswith(displayName,'Ada')"
    assert ids(ok(graph(directory, "GET", users_only))) == [ADA]
    assert ids(ok(graph(directory, "GET", f"/users/{ADA}/memberOf"))) == [TEAM]
    assert ids(ok(graph(directory, "GET", f"/users/{ADA}/transitiveMemberOf"))) == sorted([TEAM, ALL])
    assert ids(ok(graph(directory, "GET", f"/servicePrincipals/{BOT}/transitiveMemberOf"))) == sorted([TEAM, ALL])
    assert ids(ok(graph(directory, "GET", f"/groups/{ALL}/transitiveMemberOf"))) == []
    got = ok(graph(directory, "POST", f"/users/{ADA}/getMemberGroups", body={"securityEnabledOnly": True}))
    assert sorted(got["value"]) == sorted([TEAM, ALL])
    got = ok(graph(directory, "POST", f"/directoryObjects/{BOT}/checkMemberGroups", body={"groupIds": [ALL, MISSING]}))
    assert got["value"] == [ALL]
    assert error(graph(directory, "GET", f"/users/{ADA}/members"), 400) == "BadRequest"


def test_membership_cycles_end(emulator):
    emulator.add_principal(TEAM, "Group", "a", members=[ALL, ADA])
    emulator.add_principal(ALL, "Group", "b", members=[TEAM])
    emulator.add_principal(ADA, "User", "Ada")
    assert ids(ok(graph(emulator, "GET", f"/groups/{TEAM}/transitiveMembers"))) == sorted([ALL, ADA])
    assert ids(ok(graph(emulator, "GET", f"/users/{ADA}/transitiveMemberOf"))) == sorted([TEAM, ALL])


def test_membership_through_the_control_api_and_assigned_to(emulator, sub):
    ctl = emulator.base_url + "/__emulator/principals/"

    def put(path, body=None):
        return requests.put(ctl + path, json=body, verify=emulator.ca_path, timeout=10)

    assert put(ADA, {"type": "User", "userPrincipalName": "ada@contoso.example"}).status_code == 200
    r = put(TEAM, {"type": "Group", "displayName": "team", "members": [ADA]})
    assert r.status_code == 200 and r.json()["members"] == [ADA]
    assert put(ALL, {"type": "Group", "displayName": "all"}).status_code == 200
    r = put(f"{ALL}/members/{TEAM}")
    assert r.status_code == 200 and r.json()["members"] == [TEAM]
    assert ids(ok(graph(emulator, "GET", f"/users/{ADA}/transitiveMemberOf"))) == sorted([TEAM, ALL])
    # ARM's assignedTo() follows the same membership; principalId eq does not
    base = f"{emulator.base_url}{sub}/providers/Microsoft.Authorization/roleAssignments"
    role = f"{sub}/providers/Microsoft.Authorization/roleDefinitions/{READER}"
    name = "4444aaaa-0000-4000-8000-0000000000b1"
    headers = {"Authorization": f"Bearer {emulator.token}"}
    body = {"properties": {"roleDefinitionId": role, "principalId": ALL, "principalType": "Group"}}
    r = requests.put(f"{base}/{name}?api-version=2022-04-01", json=body, headers=headers, verify=emulator.ca_path,
                     timeout=10)
    assert r.status_code == 201, r.text

    def listed(flt):
        r = requests.get(base, params={"api-version": "2022-04-01", "$filter": flt}, headers=headers,
                         verify=emulator.ca_path, timeout=10)
        return [a["name"] for a in r.json()["value"]]

    assert listed(f"assignedTo('{ADA}')") == [name]
    assert listed(f"principalId eq '{ADA}'") == []
    assert requests.delete(ctl + f"{ALL}/members/{TEAM}", verify=emulator.ca_path, timeout=10).status_code == 200
    assert listed(f"assignedTo('{ADA}')") == []


@pytest.mark.parametrize("oid, body, phrase", [
    (ADA, {"type": "User", "members": [BOT]}, "only for principals of type Group"),
    (BOT, {"type": "User", "appId": "x"}, "only for principals of type ServicePrincipal"),
    (ADA, {"type": "ServicePrincipal", "userPrincipalName": "a@b"}, "only for principals of type User"),
    (TEAM, {"type": "Group", "members": ["not-a-guid"]}, "must be an object id"),
    (TEAM, {"type": "Group", "members": [TEAM]}, "cannot be a member of itself"),
    (TEAM, {"type": "Group", "members": "x"}, "must be a list"),
    (BOT, {"type": "ServicePrincipal", "servicePrincipalNames": ["x" * 2000]}, "at most 1024"),
    (ADA, {"type": "User", "upn": "a@b"}, "unknown principal field 'upn'"),
    (ADA, {"type": "Robot"}, "principal type must be one of"),
])
def test_bad_seed_bodies_are_400(emulator, oid, body, phrase):
    r = requests.put(f"{emulator.base_url}/__emulator/principals/{oid}", json=body, verify=emulator.ca_path,
                     timeout=10)
    assert r.status_code == 400, r.text
    assert phrase in r.json()["error"]["message"]
    assert emulator.state()["principals"] == []


def test_membership_is_persisted(tmp_path):
    state = tmp_path / "state.json"
    emu = start_emulator(tmp_path / "certs", persist=state)
    try:
        emu.add_principal(ADA, "User", "Ada", user_principal_name="ada@contoso.example")
        emu.add_principal(TEAM, "Group", "team", members=[ADA])
        emu.add_principal(ALL, "Group", "all")
        emu.add_member(ALL, TEAM)
    finally:
        emu.stop()
    again = start_emulator(tmp_path / "certs", persist=state)
    try:
        assert ids(ok(graph(again, "GET", f"/groups/{ALL}/transitiveMembers"))) == sorted([TEAM, ADA])
        assert ok(graph(again, "GET", f"/users/{ADA}"))["userPrincipalName"] == "ada@contoso.example"
    finally:
        again.stop()


# ------------------------------------------------------------------ errors, paging, hostile input


def test_graph_needs_a_bearer_token_and_answers_in_graph_shape(directory):
    r = graph(directory, "GET", "/users", token=False)
    assert error(r, 401) == "InvalidAuthenticationToken" and "WWW-Authenticate" in r.headers
    requests_without_token = [e for e in directory.requests(path_contains="/msgraph/") if e["status"] == 401]
    assert len(requests_without_token) == 1  # logged like every other request


@pytest.mark.parametrize("method, path, status, code", [
    ("POST", "/users", 405, "Request_BadRequest"),
    ("DELETE", f"/groups/{TEAM}", 405, "Request_BadRequest"),
    ("GET", "/directoryObjects/getByIds", 405, "Request_BadRequest"),
    ("GET", "/applications", 400, "BadRequest"),
    ("GET", "/users?$orderby=displayName", 400, "Request_UnsupportedQuery"),
    ("GET", "/users?$filter=shoeSize eq '42'", 400, "Request_UnsupportedQuery"),
    ("GET", "/users?$filter=displayName/any(c:c eq 'x')", 400, "Request_UnsupportedQuery"),
    ("GET", "/servicePrincipals?$filter=servicePrincipalNames eq 'x'", 400, "Request_UnsupportedQuery"),
    ("GET", "/users?$filter=displayName eq 'x' or displayName eq 'y'", 400, "BadRequest"),
    ("GET", "/servicePrincipals?$filter=servicePrincipalNames/any(c:d eq 'x')", 400, "BadRequest"),
    ("GET", "/users?$top=0", 400, "BadRequest"),
    ("GET", "/users?$skiptoken=abc", 400, "Request_BadRequest"),
    ("GET", "/users?$skiptoken=\u00b2", 400, "Request_BadRequest"),  # a digit to str.isdigit, not to int()
    ("GET", "/users?$top=\u00b2", 400, "BadRequest"),
    ("GET", "/users?$top=99999999999999999999", 400, "BadRequest"),
])
def test_unsupported_requests_get_graph_errors(directory, method, path, status, code):
    assert error(graph(directory, method, path), status) == code


@pytest.mark.parametrize("flt", [
    "displayName eq '" + "'" * 2000,  # an unterminated run of quotes
    " and ".join(["displayName eq 'x'"] * 17),  # more terms than allowed
    "displayName eq '" + "a" * 3000 + "'",  # longer than 2048 characters
    "startswith(" * 150,
    "servicePrincipalNames/any(c:c eq '" + "''" * 900,
])
def test_hostile_filters_are_400_not_500(directory, flt):
    r = requests.get(f"{directory.graph_url}/v1.0/servicePrincipals", params={"$filter": flt},
                     headers={"Authorization": f"Bearer {directory.token}"}, verify=directory.ca_path, timeout=10)
    assert error(r, 400) in ("BadRequest", "Request_UnsupportedQuery")
    assert len(r.json()["error"]["message"]) < 400


@pytest.mark.parametrize("body, code", [
    (b'{"ids": ' + b"[" * 1000 + b"]" * 1000 + b"}", "BadRequest"),
    (b"{not json", "BadRequest"),
    (json.dumps({"ids": [ADA] * 1001}).encode(), "Request_BadRequest"),
    (json.dumps({"ids": ["nope"]}).encode(), "Request_BadRequest"),
    (json.dumps({"ids": ADA}).encode(), "Request_BadRequest"),
    (json.dumps({"ids": []}).encode(), "Request_BadRequest"),
    (json.dumps({"ids": [ADA], "types": "user"}).encode(), "Request_BadRequest"),
    (json.dumps([1, 2]).encode(), "Request_BadRequest"),
])
def test_hostile_get_by_ids_bodies_are_400(directory, body, code):
    assert error(graph(directory, "POST", "/directoryObjects/getByIds", raw_body=body), 400) == code


def test_pages_follow_odata_next_link(emulator):
    for i in range(5):
        emulator.add_principal(f"11111111-1111-4111-8111-00000000000{i}", "User", f"user {i}")
    emulator.configure(page_size=2)
    url, seen, pages = f"{emulator.graph_url}/v1.0/users?$filter=startswith(displayName,'user')", [], 0
    while url:
        doc = ok(requests.get(url, headers={"Authorization": f"Bearer {emulator.token}"}, verify=emulator.ca_path,
                              timeout=10))
        seen += [o["id"] for o in doc["value"]]
        url, pages = doc.get("@odata.nextLink"), pages + 1
    assert pages == 3 and len(set(seen)) == 5
    doc = ok(graph(emulator, "GET", "/users?$top=4&$count=true"))
    assert len(doc["value"]) == 4 and doc["@odata.count"] == 5 and "$top=4" in doc["@odata.nextLink"]


def test_me_is_the_calling_user(directory):
    assert ok(graph(directory, "GET", "/me", token=directory.token_for(ADA)))["id"] == ADA
    assert ids(ok(graph(directory, "GET", "/me/transitiveMemberOf", token=directory.token_for(ADA)))) == sorted(
        [TEAM, ALL])
    assert error(graph(directory, "GET", "/me", token=directory.token_for(BOT)), 400) == "BadRequest"
    assert error(graph(directory, "GET", "/me"), 404) == "Request_ResourceNotFound"


def test_faults_apply_to_graph(directory):
    directory.add_fault(path_contains="/msgraph/", status=403, code="Authorization_RequestDenied",
                        message="Insufficient privileges to complete the operation.")
    r = graph(directory, "POST", "/directoryObjects/getByIds", body={"ids": [ADA]})
    assert r.status_code == 403 and r.json()["error"]["code"] == "Authorization_RequestDenied"
    assert ok(graph(directory, "POST", "/directoryObjects/getByIds", body={"ids": [ADA]}))["value"]


def test_a_persisted_group_with_bad_members_is_refused(tmp_path):
    state = tmp_path / "state.json"
    emu = start_emulator(tmp_path / "certs", persist=state)
    emu.add_principal(TEAM, "Group", "team")
    emu.stop()
    doc = json.loads(state.read_text())
    doc["principals"][0]["members"] = ["nope"]
    state.write_text(json.dumps(doc))
    with pytest.raises(PersistError, match="must be an object id"):
        start_emulator(tmp_path / "certs", persist=state)
    assert json.loads(state.read_text())["principals"][0]["members"] == ["nope"]  # never silently reset
