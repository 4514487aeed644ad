"""Resource Graph through the real SDK (azure-mgmt-resourcegraph), when it is installed: it is the
snapshot's dependency, not the emulator's, so this is skipped without it."""

from __future__ import annotations

import time

import pytest

from .estate import SUB_L, estate

rg = pytest.importorskip("azure.mgmt.resourcegraph")
models = pytest.importorskip("azure.mgmt.resourcegraph.models")


class _Token:
    def __init__(self, token):
        self.token = token

    def get_token(self, *scopes, **kwargs):
        from azure.core.credentials import AccessToken

        return AccessToken(self.token, int(time.time()) + 3600)


@pytest.fixture
def arg_client(emulator):
    emulator.load_seed(estate())
    c = rg.ResourceGraphClient(_Token(emulator.token), base_url=emulator.base_url, connection_verify=emulator.ca_path,
                               retry_total=0)
    yield c
    c.close()


def test_sdk_pages_by_skip_token(arg_client):
    q = "authorizationresources | where type =~ 'microsoft.authorization/roleassignments'"
    rows, token, pages = [], None, 0
    while True:
        r = arg_client.resources(models.QueryRequest(query=q, options=models.QueryRequestOptions(
            top=2, skip_token=token, result_format="objectArray")))
        assert r.total_records == 5 and r.result_truncated == "false"
        rows += r.data
        pages += 1
        token = r.skip_token
        if not token:
            break
    assert pages == 3 and len({x["id"] for x in rows}) == 5


def test_sdk_table_format_and_scoping(arg_client):
    r = arg_client.resources(models.QueryRequest(
        query="resourcecontainers | where type =~ 'microsoft.resources/subscriptions'", management_groups=["mg-landing"],
        options=models.QueryRequestOptions(result_format="table")))
    assert [c["name"] for c in r.data["columns"]][:3] == ["id", "name", "type"]
    assert [row[0] for row in r.data["rows"]] == [f"/subscriptions/{SUB_L}"]


def test_sdk_sees_invalid_query(arg_client):
    from azure.core.exceptions import HttpResponseError

    with pytest.raises(HttpResponseError) as e:
        arg_client.resources(models.QueryRequest(query="resources | take 1"))
    assert e.value.status_code == 400 and e.value.error.details[0].code == "InvalidQuery"
