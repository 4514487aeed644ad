"""rbactool.effective: a role's effective operations, block by block (Actions minus NotActions)."""

from __future__ import annotations

import pytest

from conftest import DATA
from rbactool.catalog import load_catalog
from rbactool.effective import effective_operations
from rbactool.model import Permission, RoleDefinition

ST = "Microsoft.Storage/storageAccounts"
BLOBS = f"{ST}/blobServices/containers/blobs"


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(DATA / "validate" / "catalog.json")


def role(*blocks: Permission) -> RoleDefinition:
    return RoleDefinition(name="r", permissions=blocks)


def names(ops) -> list[str]:
    return [o.name for o in ops]


def test_wildcard_expands_to_every_matching_operation_of_its_kind(catalog):
    eff = effective_operations(role(Permission(actions=(f"{ST}/*",))), catalog)
    assert names(eff.actions) == [f"{ST}/listkeys/action", f"{ST}/read"]
    assert eff.data_actions == ()  # a wildcard in Actions grants no data action
    [grant] = eff.grants
    assert (grant.block, grant.attr, grant.index, grant.pattern, grant.is_data) == (0, "actions", 0, f"{ST}/*", False)


def test_not_actions_subtract_within_their_block_only(catalog):
    eff = effective_operations(role(
        Permission(actions=(f"{ST}/*",), not_actions=(f"{ST}/listKeys/action",)),
        Permission(actions=(f"{ST}/listkeys/action",)),
    ), catalog)
    first, second = eff.grants
    assert names(first.removed) == [f"{ST}/listkeys/action"] and names(first.effective) == [f"{ST}/read"]
    assert second.removed == ()
    assert names(eff.actions) == [f"{ST}/listkeys/action", f"{ST}/read"]  # the second block grants it back
    [not_grant] = eff.not_grants
    assert (not_grant.attr, not_grant.covered, names(not_grant.removed)) == (
        "not_actions", True, [f"{ST}/listkeys/action"])


def test_data_actions_and_not_data_actions(catalog):
    eff = effective_operations(role(Permission(data_actions=(f"{BLOBS}/*",), not_data_actions=(f"{BLOBS}/write",))),
                               catalog)
    assert names(eff.data_actions) == [f"{BLOBS}/read"]
    assert eff.actions == ()
    assert eff.names(data=True) == frozenset({f"{BLOBS}/read".lower()})


def test_a_not_action_that_covers_nothing_granted(catalog):
    eff = effective_operations(role(Permission(actions=(f"{ST}/read",), not_actions=("Microsoft.Compute/*",))), catalog)
    [n] = eff.not_grants
    assert n.removed == () and n.covered is False


def test_unknown_strings_are_kept_unresolved_and_unknown_wildcards_grant_nothing(catalog):
    eff = effective_operations(role(Permission(actions=("Contoso.Foo/bars/read", "Contoso.Foo/*"),
                                               data_actions=("Contoso.Foo/bars/data/read",))), catalog)
    assert eff.actions == () and eff.data_actions == ()
    assert eff.unresolved_actions == ("Contoso.Foo/bars/read",)
    assert eff.unresolved_data_actions == ("Contoso.Foo/bars/data/read",)
    assert "contoso.foo/bars/read" in eff.names()


def test_an_unknown_string_removed_by_not_actions_is_not_unresolved(catalog):
    eff = effective_operations(role(Permission(actions=("Contoso.Foo/bars/read",), not_actions=("Contoso.Foo/*",))),
                               catalog)
    assert eff.unresolved_actions == ()


def test_blank_strings_are_ignored_and_conditions_kept(catalog):
    eff = effective_operations(role(Permission(data_actions=(" ", f"{BLOBS}/read"), condition="@x == 'y'",
                                               condition_version="2.0")), catalog)
    [grant] = eff.grants
    assert grant.index == 1 and grant.condition == "@x == 'y'"


def test_risky_groups_effective_operations_by_risk_class(catalog):
    eff = effective_operations(role(Permission(actions=(f"{ST}/*", "Microsoft.Compute/virtualMachines/*"))), catalog)
    risky = eff.risky()
    assert list(risky) == ["credential-exposure", "remote-execution", "destructive"]  # RISK_CLASSES order
    assert names(risky["credential-exposure"]) == [f"{ST}/listkeys/action"]
    assert names(risky["destructive"]) == ["Microsoft.Compute/virtualMachines/delete"]


def test_the_check_context_shares_one_expansion(catalog):
    from rbactool.checks import CheckContext

    ctx = CheckContext(role(Permission(actions=(f"{ST}/*",))), catalog)
    assert ctx.effective is ctx.effective
    assert names(ctx.effective.actions) == [f"{ST}/listkeys/action", f"{ST}/read"]
