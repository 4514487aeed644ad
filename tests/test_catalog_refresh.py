"""`rbactool catalog refresh` against the emulator; `catalog info`; the refreshed cache wins."""

from rbactool.emulator.testing import emulator, emulator_server  # noqa: F401 (fixtures)

NEW_OP = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/brandNewThing/action"


def test_refresh_writes_a_cache_that_validate_and_info_then_use(run, emulator, tmp_path, monkeypatch):  # noqa: F811
    cache = tmp_path / "cache"
    monkeypatch.setenv("RBACTOOL_CACHE_DIR", str(cache))
    emulator.add_operations([{"name": NEW_OP, "isDataAction": False, "displayName": "Brand new",
                              "description": "Brand new"}])
    r = run("catalog", "refresh", env=emulator.env())
    assert r.exit_code == 0, r.stderr
    assert (cache / "operations.json.gz").is_file() and (cache / "builtin-roles.json.gz").is_file()

    info = run("catalog", "info", "--namespace", "Microsoft.Compute", "--format", "json").json()
    assert info["catalog"] == str(cache / "operations.json.gz")
    assert info["builtin_roles"] == 928
    (compute,) = info["namespace_details"]
    assert compute["fresh"] is True  # refreshed from the tenant

    from rbactool.catalog import load_catalog

    assert load_catalog().get(NEW_OP)


def test_info_of_the_packaged_catalog(run):
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
