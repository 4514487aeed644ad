"""Hostile request bodies get ARM's 400 InvalidRequestContent, never a 500: the emulator reads
JSON with rbactool's one reader (depth, number and size limits)."""

from __future__ import annotations

import base64

import pytest
import requests

NAME = "4444aaaa-0000-4000-8000-0000000000aa"
ROLE = "5b0c1d5e-1111-4a4a-8b8b-0000000000aa"
DEEP = b'{"properties": ' + b"[" * 1000 + b"]" * 1000 + b"}"  # 2 KB


def send(emulator, method, path, body, *, token=None):
    headers = {"Authorization": f"Bearer {token or emulator.token}", "Content-Type": "application/json"}
    return requests.request(method, emulator.base_url + path, data=body, headers=headers,
                            verify=emulator.ca_path, timeout=10)


@pytest.mark.parametrize("body, phrase", [
    (DEEP, "nested deeper than 200 levels"),
    (b'{"properties": ' + b"[" * 201 + b"]" * 201 + b"}", "nested deeper than 200 levels"),
    (b'{"properties": {"principalId": ' + b"9" * 5000 + b"}}", "integer of 5,000 digits"),
    (b'{"properties": {"x": 1e999}}', "too large"),
    (b'{"properties": {"x": NaN}}', "not JSON"),
    (b'{"properties": "\xff"}', "not UTF-8"),
], ids=["deep-1000", "deep-201", "int-5000", "inf", "nan", "not-utf8"])
@pytest.mark.parametrize("kind", ["roleAssignments", "roleDefinitions"])
def test_hostile_put_bodies_are_400_invalid_request_content(emulator, sub, body, phrase, kind):
    name = NAME if kind == "roleAssignments" else ROLE
    r = send(emulator, "PUT", f"{sub}/providers/Microsoft.Authorization/{kind}/{name}?api-version=2022-04-01", body)
    assert r.status_code == 400, r.text[:300]
    error = r.json()["error"]
    assert error["code"] == "InvalidRequestContent"
    assert error["message"].startswith("The request content was invalid and could not be deserialized: ")
    assert phrase in error["message"] and len(error["message"]) < 300
    assert emulator.state()["assignments" if kind == "roleAssignments" else "customRoles"] == []


def test_hostile_control_bodies_are_400(emulator):
    for method, path in (("POST", "/__emulator/clock"), ("PUT", "/__emulator/operations")):
        r = send(emulator, method, path, DEEP)
        assert r.status_code == 400, r.text[:300]
        assert r.json()["error"]["code"] == "InvalidRequestContent"


def test_duplicate_keys_are_read_last_wins_like_arm(emulator, sub):
    """ARM's JSON reader keeps the last of two equal keys; so does the emulator (it is no validator)."""
    reader = f"{sub}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
    body = ('{"properties": {"roleDefinitionId": "' + reader + '", "principalId": "not-this-one", '
            '"principalId": "3333aaaa-0000-4000-8000-000000000001", "principalType": "User"}}')
    r = send(emulator, "PUT", f"{sub}/providers/Microsoft.Authorization/roleAssignments/{NAME}?api-version=2022-04-01",
             body.encode())
    assert r.status_code == 201, r.text[:300]
    assert r.json()["properties"]["principalId"] == "3333aaaa-0000-4000-8000-000000000001"


def test_a_token_with_a_hostile_payload_is_not_a_500(emulator, sub):
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    token = f"{b64(b'{}')}.{b64(b'[' * 1000 + b']' * 1000)}.x"
    r = requests.get(f"{emulator.base_url}{sub}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01",
                     headers={"Authorization": f"Bearer {token}"}, verify=emulator.ca_path, timeout=10)
    assert r.status_code == 200, r.text[:300]  # an unreadable payload is the default caller, as before
