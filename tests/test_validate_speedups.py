"""The validator's speed-ups keep its answers (issue 13 performance): each cache or shortcut is
checked against the plain computation it replaces."""

from __future__ import annotations

import random

from test_validate_helpers import az_role, fixture_catalog, report_for

from rbactool import builtins as builtins_mod
from rbactool.catalog import compile_pattern, load_packaged_catalog, pattern_matcher
from rbactool.model import role_from_dict
from rbactool.validate import validate_roles


def test_the_pattern_matcher_agrees_with_arms_rule_written_as_a_regex():
    names = [o.name.lower() for o in load_packaged_catalog().expand("Microsoft.Web/*")]
    rng = random.Random(13)
    patterns = ["*", "*/read", "microsoft.web/*", "Microsoft.Web/sites/*/Action", "*/publish/action",
                "microsoft.web/sites/config/list/action", "Microsoft.Web/*/slots/*/read", "*sites*", "**"]
    for _ in range(300):
        n = rng.choice(names)
        i = rng.randrange(len(n) + 1)
        j = rng.randrange(i, len(n) + 1)
        patterns.append((n[:i] + "*" + n[j:]).upper() if rng.random() < 0.3 else n[:i] + "*" + n[j:])
    for p in patterns:
        rx, match = compile_pattern(p), pattern_matcher(p)
        for n in names[:400] + ["", "x", "microsoft.web/"]:
            assert match(n) == bool(rx.match(n)), (p, n)


def test_builtin_roles_are_indexed_without_building_them_and_built_alike():
    builtins_mod._load.cache_clear()
    try:
        roles = builtins_mod.load_builtin_roles()
        assert "reader" in roles.names() and len(roles.names()) == len(roles) == 928
        assert not roles._built  # names and ids come from the index
        assert roles.id_of("READER") == "acdd72a7-3385-48ef-bd42-f606fba81ae7"
        assert not roles._built
        import gzip
        import json

        raw = json.loads(gzip.decompress(builtins_mod.packaged_data_path("builtin-roles.json.gz").read_bytes()))
        eager = [role_from_dict(r, source="x") for r in raw["roles"]]
        for role in eager:
            assert roles.by_name(role.name) == role
            assert roles.by_id(role.role_id) == role
            assert roles.id_of(role.name) == role.role_id
        assert roles.all() == tuple(eager)
    finally:
        builtins_mod._load.cache_clear()


def test_a_validation_run_looks_for_the_builtin_roles_once(monkeypatch):
    calls = []
    real = builtins_mod.builtin_roles_source
    monkeypatch.setattr(builtins_mod, "builtin_roles_source", lambda: calls.append(1) or real())
    roles = [role_from_dict(az_role(Name=f"Reader {i}" if i % 2 else "Reader"), source=f"r{i}.json")
             for i in range(20)]
    report = validate_roles(roles, fixture_catalog())
    assert len(calls) == 1
    assert sum(f.code == "BUILTIN_NAME_CLASH" for f in report.findings) == 10
    builtins_mod.load_builtin_roles()
    assert len(calls) == 2  # outside a run: resolved each time (a refresh may have written a cache)


def test_a_cached_verdict_still_points_at_each_string():
    doc = az_role(Actions=None, NotActions=None, DataActions=None, NotDataActions=None, Permissions=[
        {"actions": ["Microsoft.Compte/virtualMachines/read"]},
        {"actions": ["Microsoft.Compute/virtualMachines/read", "Microsoft.Compte/virtualMachines/read"]},
    ])
    found = [f for f in report_for(doc).findings if f.code == "NAMESPACE_TYPO"]
    assert [f.location.pointer for f in found] == ["/Permissions/0/actions/0", "/Permissions/1/actions/1"]
    other = [f for f in report_for(az_role(Actions=["Microsoft.Compte/virtualMachines/read"])).findings
             if f.code == "NAMESPACE_TYPO"]
    assert other[0].location.pointer == "/Actions/0" and other[0].message == found[0].message


def test_catalog_operations_are_ordinary_operations():
    import dataclasses

    from rbactool.catalog import Operation

    ops = load_packaged_catalog().expand("Microsoft.Storage/*", data_action=None)
    assert ops
    for op in ops:
        same = Operation(**{f.name: getattr(op, f.name) for f in dataclasses.fields(Operation)})
        assert op == same and hash(op) == hash(same) and repr(op) == repr(same)
    try:
        ops[0].name = "x"
    except dataclasses.FrozenInstanceError:
        pass
    else:  # pragma: no cover
        raise AssertionError("catalog operations must stay frozen")


def test_risky_operations_of_a_pattern_are_its_expansion_filtered():
    """The risk check matches wildcards against the providers' risky operations only: the same
    answer as classifying every operation of the expansion, for every pattern of every built-in role."""
    from rbactool.checks import risk as R
    from rbactool.risk import risk_classes

    catalog = load_packaged_catalog()
    patterns = {"*", "*/read", "microsoft.*", "*/listkeys/action", "micro*", "microsoft.web/sites/*/action"}
    for role in builtins_mod.load_builtin_roles().all():
        for block in role.permissions:
            for attr in ("actions", "not_actions", "data_actions", "not_data_actions"):
                patterns.update(p.strip().lower() for p in getattr(block, attr) if p.strip())
    assert len(patterns) > 3000
    for p in sorted(patterns):
        for data in (False, True):
            want = [(op.name, cls) for op in catalog.expand(p, data_action=data)
                    if (cls := tuple(c for c in risk_classes(op.name, op.is_data_action) if c in R.RISK_FINDINGS))]
            assert [(op.name, cls) for op, cls in R._risky_in_expansion(catalog, p, data)] == want, (p, data)
