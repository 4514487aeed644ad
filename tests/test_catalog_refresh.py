"""`rbactool catalog refresh` against the emulator; `catalog info`; caches keyed by where they came from.

A cache refreshed from the emulator (or any endpoint that is not a public Azure cloud's ARM
endpoint) is used only by commands talking to that endpoint, never by offline commands.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rbactool.emulator.testing import emulator, emulator_server  # noqa: F401 (fixtures)

NEW_OP = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/brandNewThing/action"
STALE_OP = "Microsoft.Compute/virtualMachines/brandNewThing/action"  # Compute is stale in the packaged catalog


@pytest.fixture
def cache(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("RBACTOOL_CACHE_DIR", str(d))
    monkeypatch.delenv("RBACTOOL_ARM_ENDPOINT", raising=False)
    monkeypatch.delenv("AZURE_TENANT_ID", raising=False)
    return d


def role_file(tmp_path, sub, *actions, name="Catalog test role"):
    p = tmp_path / f"role-{abs(hash(actions))}.json"
    p.write_text(json.dumps({"Name": name, "IsCustom": True, "Description": "d", "Actions": list(actions),
                             "NotActions": [], "DataActions": [], "NotDataActions": [],
                             "AssignableScopes": [f"/subscriptions/{sub}"]}))
    return p


def codes(r):
    return {f["code"]: f["type"] for f in r.json()["findings"]}


#: (endpoint, tenant) -> (the refresh's Run, {path under the cache folder: bytes}): one refresh of a
#: few seconds per emulator (per pytest-xdist worker) instead of one per test.
_REFRESHED: dict[tuple[str, str], tuple[object, dict[str, bytes]]] = {}


def refresh(run, emulator):  # noqa: F811
    """`catalog refresh` into this test's cache, with NEW_OP added to the emulator's operations.

    The first call runs the command; later calls against the same emulator get the files it wrote
    and its result (what a refresh of the same emulator writes), so each test still starts from an
    empty cache of its own."""
    emulator.add_operations([{"name": NEW_OP, "isDataAction": False, "displayName": "Brand new",
                              "description": "Brand new"}])
    cache = Path(os.environ["RBACTOOL_CACHE_DIR"])
    key = (emulator.base_url, emulator.tenant_id)
    if key in _REFRESHED and not cache.exists():
        r, files = _REFRESHED[key]
        for rel, data in files.items():
            (cache / rel).parent.mkdir(parents=True, exist_ok=True)
            (cache / rel).write_bytes(data)
        return r
    r = run("catalog", "refresh", env=emulator.env())
    assert r.exit_code == 0, r.stderr
    _REFRESHED[key] = r, {p.relative_to(cache).as_posix(): p.read_bytes() for p in cache.rglob("*") if p.is_file()}
    return r


def test_refresh_records_its_source_and_an_emulator_cache_never_becomes_the_offline_catalog(
        run, emulator, cache, tmp_path):  # noqa: F811
    from rbactool.catalog import cache_folder

    r = refresh(run, emulator)
    folder = cache_folder(emulator.base_url, emulator.tenant_id)
    assert folder.parent == cache / "sources"
    assert {p.name for p in folder.iterdir()} == {"operations.json.gz", "builtin-roles.json.gz", "source.json"}
    record = json.loads((folder / "source.json").read_text())
    assert record["endpoint"] == emulator.base_url.rstrip("/").lower()
    assert record["tenant"] == emulator.tenant_id.lower() and record["cloud"] == "AzureCloud"
    assert record["refreshed_at"].endswith("Z")
    assert not (cache / "operations.json.gz").exists()  # nothing at the old, source-less place
    assert "not a public Azure endpoint" in r.stderr

    # offline commands keep the packaged catalog
    role = role_file(tmp_path, emulator.subscription_id, "Microsoft.Compute/virtualMachines/read", STALE_OP)
    # even in a shell that exported the emulator's settings: validate is offline
    r = run("validate", role, "--format", "json", env=emulator.env())
    assert r.exit_code == 0, r.stdout
    assert codes(r)["UNVERIFIED_OPERATION"] == "WARNING" and "UNKNOWN_OPERATION" not in codes(r)
    assert r.json()["catalog"]["origin"] == "<packaged>"
    assert "catalog packaged" in r.stderr

    info = run("catalog", "info", "--namespace", "Microsoft.Compute", "--format", "json", env=emulator.env()).json()
    assert info["catalog"] == "packaged" and info["source"]["kind"] == "packaged"
    assert info["source"]["used_by"].startswith("offline commands")
    assert info["namespace_details"][0]["fresh"] is False
    assert info["builtin_roles_source"] == "packaged"
    (cached,) = info["caches"]
    assert cached["endpoint"] == emulator.base_url.rstrip("/").lower() and cached["public"] is False
    assert cached["tenant"] == emulator.tenant_id.lower()
    assert cached["used_by"] == f"commands against {cached['endpoint']}"
    text = run("catalog", "info").stdout
    assert "catalog:        packaged" in text
    assert f"cache from {cached['endpoint']} (not a public Azure endpoint) tenant" in text

    from rbactool.catalog import load_catalog

    assert not load_catalog().get(NEW_OP)


def test_commands_against_the_same_endpoint_use_its_cache(run, emulator, cache, tmp_path):  # noqa: F811
    refresh(run, emulator)
    endpoint = emulator.base_url.rstrip("/").lower()
    info = run("catalog", "info", "--arm-endpoint", emulator.base_url, "--namespace", "Microsoft.Compute",
               "--format", "json").json()
    assert info["source"]["kind"] == "cache" and info["source"]["endpoint"] == endpoint
    assert info["source"]["used_by"].startswith(f"commands against {endpoint}")
    assert info["namespace_details"][0]["fresh"] is True  # the emulator's list is complete

    # NEW_OP exists only in the emulator: offline it is unknown (MachineLearningServices is fresh) ...
    role = role_file(tmp_path, emulator.subscription_id, NEW_OP)
    offline = run("validate", role, "--format", "json")
    assert offline.exit_code == 1 and codes(offline)["UNKNOWN_OPERATION"] == "ERROR"
    # ... and create against the emulator validates with the emulator's catalog, and says so
    r = run("create", role, "--no-wait", env=emulator.env())
    assert r.exit_code == 0, r.stderr
    assert f"catalog cache from {endpoint} (not a public Azure endpoint)" in r.stderr
    # another endpoint does not get it
    other = run("catalog", "info", "--arm-endpoint", "https://127.0.0.1:1", "--format", "json").json()
    assert other["source"]["kind"] == "packaged"


def test_an_old_format_cache_is_ignored_with_a_warning(run, cache, tmp_path):
    from rbactool.catalog import packaged_data_path

    cache.mkdir()
    (cache / "operations.json.gz").write_bytes(packaged_data_path("operations.json.gz").read_bytes())
    role = role_file(tmp_path, "11111111-2222-3333-4444-555555555555", "Microsoft.Compute/virtualMachines/read")
    r = run("validate", role, "--format", "json")
    assert r.exit_code == 0 and r.json()["catalog"]["origin"] == "<packaged>"
    warnings = [x for x in r.stderr.splitlines() if "ignoring the catalog cache" in x]
    assert len(warnings) == 1 and "records no source" in warnings[0]
    info = run("catalog", "info", "--format", "json").json()
    assert info["catalog"] == "packaged"
    assert info["ignored_caches"][0]["path"] == str(cache / "operations.json.gz")


def _fake_public_cache(cache, tenant="72f988bf-0000-0000-0000-000000000001", *, record_endpoint=None,
                       folder_endpoint="https://management.azure.com"):
    """A cache as `catalog refresh` against public Azure would write it (no public Azure in tests)."""
    from rbactool.catalog import CACHED_OPERATIONS, CACHED_SOURCE, cache_folder, source_record
    from rbactool.catalog_build import build_operations, write_gz

    record = source_record(cloud="AzureCloud", endpoint=record_endpoint or folder_endpoint, tenant=tenant,
                           refreshed_at="2026-12-01T10:00:00Z")
    ops = [{"name": "Microsoft.Compute/virtualMachines/read", "isDataAction": False, "displayName": "Read",
            "description": "Read", "provider": "Microsoft.Compute", "source": "tenant-2026-12-01"}]
    doc = build_operations(ops, [], {"tenant-2026-12-01": {"date": "2026-12-01", "fresh": True, "what": "test"}})
    doc["refreshed_from"] = record
    folder = cache_folder(folder_endpoint, tenant, cache)
    write_gz(folder / CACHED_OPERATIONS, doc)
    (folder / CACHED_SOURCE).write_text(json.dumps(record))
    return folder


def test_a_cache_from_public_azure_is_what_offline_commands_use(run, cache, tmp_path):
    folder = _fake_public_cache(cache)
    info = run("catalog", "info", "--format", "json").json()
    assert info["source"]["kind"] == "cache" and info["source"]["public"] is True
    assert info["catalog"] == str(folder / "operations.json.gz")
    assert info["source"]["description"] == ("cache from AzureCloud https://management.azure.com tenant "
                                             "72f988bf-0000-0000-0000-000000000001 at 2026-12-01T10:00:00Z")
    role = role_file(tmp_path, "11111111-2222-3333-4444-555555555555", STALE_OP)
    r = run("validate", role, "--format", "json")
    assert codes(r)["UNKNOWN_OPERATION"] == "ERROR"  # fresh in the tenant's own list
    assert "catalog cache from AzureCloud https://management.azure.com tenant" in r.stderr


def test_a_cache_whose_record_does_not_match_its_folder_is_ignored(run, cache):
    # a folder of the emulator's endpoint claiming to be public Azure, and a record naming another tenant
    _fake_public_cache(cache, record_endpoint="https://management.azure.com", folder_endpoint="https://127.0.0.1:9")
    info = run("catalog", "info", "--format", "json").json()
    assert info["catalog"] == "packaged" and info["caches"] == []
    assert "another endpoint or tenant" in info["ignored_caches"][0]["reason"]


def test_explicit_catalog_still_wins(run, cache, tmp_path, monkeypatch):
    from rbactool.catalog import packaged_data_path

    _fake_public_cache(cache)
    mine = tmp_path / "mine.json.gz"
    mine.write_bytes(packaged_data_path("operations.json.gz").read_bytes())
    assert run("catalog", "info", "--catalog", mine, "--format", "json").json()["source"]["kind"] == "option"
    monkeypatch.setenv("RBACTOOL_CATALOG", str(mine))
    doc = run("catalog", "info", "--format", "json", env={"RBACTOOL_CATALOG": str(mine)}).json()
    assert doc["source"]["kind"] == "env" and doc["catalog"] == str(mine)
    assert doc["source"]["used_by"].startswith("every command")


def test_public_endpoints_are_those_of_the_adapter():
    from rbactool.azure_adapter import CLOUDS
    from rbactool.catalog import PUBLIC_ARM_ENDPOINTS

    assert {c.arm_endpoint: name for name, c in CLOUDS.items()} == PUBLIC_ARM_ENDPOINTS


def test_info_of_the_packaged_catalog(run, cache):
    doc = run("catalog", "info", "--namespace", "Microsoft.Compute", "--format", "json").json()
    assert doc["catalog"] == "packaged"
    assert doc["operations"] == 18976 and doc["fresh_namespaces"] == 2
    assert doc["namespace_details"][0]["as_of"] == "2023-08-12"


def test_refresh_into_an_unwritable_place_is_a_clear_error(run, emulator, tmp_path):  # noqa: F811
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run("catalog", "refresh", "--output-dir", blocker / "sub", env=emulator.env())
    assert r.exit_code == 3
    assert r.stderr.splitlines()[-1].startswith("Error: cannot write the catalog")
    assert not (blocker.parent / "sub").exists()


def test_refresh_to_an_output_dir_writes_files_for_dash_dash_catalog(run, emulator, tmp_path):  # noqa: F811
    out = tmp_path / "out"
    assert run("catalog", "refresh", "--output-dir", out, env=emulator.env()).exit_code == 0
    info = run("catalog", "info", "--catalog", out / "operations.json.gz", "--format", "json").json()
    assert info["source"]["kind"] == "option" and info["fresh_namespaces"] > 2
