"""``GET /metadata/endpoints`` (anonymous, every api-version shape the clients read) and MSAL's
instance discovery, pointing at the emulator only."""

from __future__ import annotations

import pytest
import requests


def get(emu, path, **params):
    return requests.get(emu.base_url + path, params=params, verify=emu.ca_path, timeout=10)


@pytest.mark.parametrize("version", ["2022-09-01", "2020-06-01", None, "1999-01-01"])
def test_metadata_is_anonymous_and_points_at_the_emulator(emulator, version):
    r = get(emulator, "/metadata/endpoints", **({"api-version": version} if version else {}))
    assert r.status_code == 200, r.text
    doc = r.json()
    base = emulator.base_url + "/"
    assert doc["name"] == "RbactoolEmulator"
    # what azure-cli's _arm_to_cli_mapper reads (KeyError there if missing)
    assert doc["authentication"]["loginEndpoint"] == base
    assert doc["authentication"]["audiences"][0] == base
    assert doc["resourceManager"] == base
    assert doc["microsoftGraphResourceId"] == doc["graph"] == emulator.graph_url + "/"
    assert isinstance(doc["suffixes"], dict) and doc["suffixes"]["storage"].endswith(".invalid")
    hosts = {v.split("/")[2] for k, v in doc.items() if isinstance(v, str) and v.startswith("https://")}
    assert all(h == base.split("/")[2] or h.endswith(".invalid") for h in hosts), hosts
    assert all(v.endswith(".invalid") for v in doc["suffixes"].values())


def test_metadata_shapes_for_older_clients(emulator):
    listed = get(emulator, "/metadata/endpoints", **{"api-version": "2019-05-01"}).json()  # ARM_CLOUD_METADATA_URL
    assert isinstance(listed, list) and [c["name"] for c in listed] == ["RbactoolEmulator"]
    legacy = get(emulator, "/metadata/endpoints", **{"api-version": "2015-01-01"}).json()  # msrestazure
    assert legacy["authentication"]["loginEndpoint"] == emulator.base_url + "/"
    assert legacy["graphEndpoint"] == emulator.graph_url + "/"
    assert set(legacy) == {"galleryEndpoint", "graphEndpoint", "portalEndpoint", "authentication"}


def test_metadata_is_logged_and_post_is_not_served(emulator):
    get(emulator, "//metadata/endpoints", **{"api-version": "2022-09-01"})  # az appends to a URL ending in /
    assert [(e["method"], e["path"], e["status"]) for e in emulator.requests()] == [
        ("GET", "/metadata/endpoints", 200)]
    r = requests.post(emulator.base_url + "/metadata/endpoints", verify=emulator.ca_path, timeout=10)
    assert r.status_code == 401  # not an anonymous route: ARM's authentication answers


def test_instance_discovery_and_openid_configuration(emulator):
    tenant = emulator.tenant_id
    doc = get(emulator, "/common/discovery/instance", **{
        "api-version": "1.1", "authorization_endpoint": f"{emulator.base_url}/{tenant}/oauth2/v2.0/authorize"}).json()
    oidc_url = doc["tenant_discovery_endpoint"]
    assert oidc_url == f"{emulator.base_url}/{tenant}/v2.0/.well-known/openid-configuration"
    oidc = requests.get(oidc_url, verify=emulator.ca_path, timeout=10).json()
    assert oidc["token_endpoint"] == f"{emulator.base_url}/{tenant}/oauth2/v2.0/token"
    r = requests.post(oidc["token_endpoint"], data={"grant_type": "client_credentials", "client_id": "my-client",
                                                    "client_secret": "s", "scope": emulator.graph_url + "/.default"},
                      verify=emulator.ca_path, timeout=10)
    assert r.status_code == 200 and r.json()["token_type"] == "Bearer"
    token = r.json()["access_token"]
    graph = requests.get(f"{emulator.graph_url}/v1.0/users", headers={"Authorization": f"Bearer {token}"},
                         verify=emulator.ca_path, timeout=10)
    assert graph.status_code == 200 and graph.json()["value"] == []
