"""Pinned facts about the shipped catalog: a refresh that loses them fails here."""

import gzip
import json
from pathlib import Path

import pytest

from rbactool.builtins import load_builtin_roles
from rbactool.catalog import Catalog, compile_pattern, load_catalog, packaged_data_path
from rbactool.errors import CatalogError

ML = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"


def test_catalog_metadata():
    c = load_catalog()
    assert c.schema_version == 1
    assert c.snapshot_date == "2026-08-22"
    assert len(c) == 18976
    assert len(c.providers()) == 313


def test_online_endpoint_wildcard_expands_to_exactly_five_operations():
    names = sorted(o.name.lower() for o in load_catalog().expand(f"{ML}/*/action"))
    assert names == sorted(f"{ML.lower()}/{x}/action" for x in
                           ("deployments/getlogs", "listkeys", "regeneratekeys", "score", "token"))


def test_score_action_is_an_action_not_a_data_action():
    ops = load_catalog().get(f"{ML}/score/action")
    assert [o.is_data_action for o in ops] == [False]
    assert load_catalog().get(f"{ML}/score/action", data_action=True) == ()


def test_lookup_is_case_insensitive_and_keeps_azure_spelling():
    (op,) = load_catalog().get(f"{ML}/listKeys/action")
    assert op.name == f"{ML.replace('onlineEndpoints', 'onlineendpoints')}/listkeys/action"
    assert op.display_name.startswith("Retrieve auth keys")


def test_wildcards_match_whole_names_only_and_star_crosses_slashes():
    c = load_catalog()
    names = {o.name.lower() for o in c.expand("Microsoft.MachineLearningServices/workspaces/*/write")}
    assert "microsoft.machinelearningservices/workspaces/write" not in names
    assert f"{ML.lower()}/deployments/write" in names
    assert c.expand("Microsoft.MachineLearningServices/workspaces/onlineEndpoints/score") == ()
    assert len(c.expand("*")) == len(c)
    assert all(o.is_data_action for o in c.expand("*", data_action=True))


def test_pattern_compiler_treats_only_star_as_special():
    assert compile_pattern("a.b/c?/[x]/*").match("a.b/c?/[x]/anything/else")
    assert not compile_pattern("a.b/c?").match("a.b/cd")


def test_provider_freshness():
    c = load_catalog()
    assert c.provider("microsoft.machinelearningservices").fresh
    assert c.provider("Microsoft.Authorization").fresh
    assert not c.provider("Microsoft.Compute").fresh
    assert c.provider("Microsoft.Compute").as_of == "2023-08-12"
    assert c.provider("Nope.Nothing") is None
    assert c.is_known_namespace("Microsoft.Scheduler")  # named only by a built-in role
    assert not c.is_known_namespace("Microsoft.Nothing")


def test_both_kinds_are_kept_for_names_listed_twice():
    kinds = sorted(o.is_data_action for o in load_catalog().get("Microsoft.KeyVault/vaults/keys/read"))
    assert kinds == [False, True]


def test_every_builtin_pattern_expands_without_error():
    c = load_catalog()
    for role in load_builtin_roles().all():
        for p in role.permissions:
            for s in p.actions + p.not_actions:
                c.expand(s, data_action=False)
            for s in p.data_actions + p.not_data_actions:
                c.expand(s, data_action=True)


def test_builtin_roles_resolve_offline():
    roles = load_builtin_roles()
    assert len(roles) == 928
    assert roles.resolve("AzureML Data Scientist").role_id == "f6c7c914-8db3-469d-8ca1-694a8f32e121"
    assert roles.resolve("azureml data scientist").name == "AzureML Data Scientist"
    owner = roles.resolve("/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635")
    assert owner.name == "Owner"
    assert roles.closest_names("AzureML Data Scientst")[0] == "AzureML Data Scientist"


SOURCES_SAMPLE = Path(__file__).resolve().parent / "data" / "catalog-sources"


def _build(out: Path) -> dict[str, bytes]:
    """scripts/build_data.py on the committed sample of its sources (six namespaces, eight roles)."""
    import subprocess
    import sys

    from conftest import ROOT

    subprocess.run([sys.executable, str(ROOT / "scripts" / "build_data.py"), "--shared-data", str(SOURCES_SAMPLE),
                    "--out", str(out)], check=True, capture_output=True)
    return {name: (out / name).read_bytes() for name in ("operations.json.gz", "builtin-roles.json.gz")}


def _doc(data: bytes) -> dict:
    return json.loads(gzip.decompress(data))


def test_the_build_script_is_deterministic_and_agrees_with_the_packaged_files(tmp_path):
    first, second = _build(tmp_path / "a"), _build(tmp_path / "b")
    assert first == second  # same inputs, same bytes
    built, packaged = _doc(first["operations.json.gz"]), _doc(packaged_data_path("operations.json.gz").read_bytes())
    for key in ("schema_version", "snapshot_date", "generated_from", "sources", "row_format"):
        assert built[key] == packaged[key], key
    # The sample holds every source row of its namespaces: each namespace must come out exactly as packaged
    # (canonical spelling, other spellings, rows, source tags, altNames).
    packaged_by_name = {p["name"]: p for p in packaged["providers"]}
    assert len(built["providers"]) == 6
    for p in built["providers"]:
        assert p == packaged_by_name[p["name"]], p["name"]
    assert any(p["spellings"] for p in built["providers"])
    assert any(len(row) == 6 for p in built["providers"] for row in p["ops"])  # an altNames row
    assert {row[4] for p in built["providers"] for row in p["ops"]} == set(range(len(built["sources"])))

    roles = _doc(first["builtin-roles.json.gz"])
    everything = _doc(packaged_data_path("builtin-roles.json.gz").read_bytes())
    assert {k: v for k, v in roles.items() if k != "roles"} == {k: v for k, v in everything.items() if k != "roles"}
    by_name = {r["roleName"]: r for r in everything["roles"]}
    assert len(roles["roles"]) == 8 and all(r == by_name[r["roleName"]] for r in roles["roles"])


def test_the_packaged_builtin_roles_are_the_build_of_their_own_roles(tmp_path):
    from rbactool.catalog_build import build_roles, write_gz

    packaged = packaged_data_path("builtin-roles.json.gz").read_bytes()
    roles = _doc(packaged)["roles"]
    write_gz(tmp_path / "again.json.gz", build_roles(list(reversed(roles))))
    assert (tmp_path / "again.json.gz").read_bytes() == packaged


def test_bad_catalog_files_are_clear_errors(tmp_path):
    bad = tmp_path / "c.json"
    bad.write_text("{")
    with pytest.raises(CatalogError):
        load_catalog(bad)
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"schema_version": 99}))
    with pytest.raises(CatalogError, match="schema_version"):
        load_catalog(old)
    with pytest.raises(CatalogError):
        load_catalog(tmp_path / "missing.json")
    assert isinstance(Catalog(json.loads(gzip.decompress(packaged_data_path("operations.json.gz").read_bytes()))),
                      Catalog)
