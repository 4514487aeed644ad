import pytest

from rbactool import scopes
from rbactool.errors import ParameterError, ScopeError

SUB = "11111111-2222-3333-4444-555555555555"
WS = f"/subscriptions/{SUB}/resourceGroups/ml-rg/providers/Microsoft.MachineLearningServices/workspaces/ws1"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("/", scopes.ROOT),
        ("/providers/Microsoft.Management/managementGroups/mg-1", scopes.MANAGEMENT_GROUP),
        (f"/subscriptions/{SUB}", scopes.SUBSCRIPTION),
        (f"/subscriptions/{SUB}/resourceGroups/ml-rg", scopes.RESOURCE_GROUP),
        (f"/subscriptions/{SUB}/resourcegroups/ml.rg(1)", scopes.RESOURCE_GROUP),
        (WS, scopes.RESOURCE),
        (WS + "/onlineEndpoints/ep1", scopes.RESOURCE),
        (f"/subscriptions/{SUB}/providers/Microsoft.Web/sites/s/providers/Microsoft.Foo/bar/b", scopes.RESOURCE),
    ],
)
def test_parse_valid_scopes(text, kind):
    s = scopes.parse_scope(text)
    assert s.kind == kind
    assert str(s) == text


def test_resource_scope_details_and_case_insensitive_equality():
    s = scopes.parse_scope(WS + "/onlineEndpoints/ep1")
    assert s.subscription == SUB and s.resource_group == "ml-rg"
    assert s.resource_type == "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"
    assert s == scopes.parse_scope((WS + "/onlineEndpoints/ep1").upper().replace(SUB.upper(), SUB))
    assert len({s, scopes.parse_scope(str(s).lower())}) == 1


def test_at_or_below():
    sub = scopes.parse_scope(f"/subscriptions/{SUB}")
    rg = scopes.parse_scope(f"/subscriptions/{SUB}/resourcegroups/ML-RG")
    ws = scopes.parse_scope(WS)
    other_rg = scopes.parse_scope(f"/subscriptions/{SUB}/resourceGroups/ml-rg2")
    root = scopes.parse_scope("/")
    assert ws.is_at_or_below(rg) and ws.is_at_or_below(sub) and ws.is_at_or_below(root)
    assert rg.is_at_or_below(rg) and not rg.is_below(rg)
    assert not other_rg.is_at_or_below(rg)
    assert not sub.is_at_or_below(rg)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "subscriptions/x",
        "/subscriptions/not-a-guid",
        f"/subscriptions/{SUB}/resourceGroups/bad'name",
        f"/subscriptions/{SUB}/resourceGroups/" + "a" * 91,
        f"/subscriptions/{SUB}/resourceGroups/ends.",
        f"/subscriptions/{SUB}/resourceGroups",
        f"/subscriptions/{SUB}//resourceGroups/x",
        f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute",
        f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines",
        f"/subscriptions/{SUB}/resourceGroups/rg/foo/bar",
        "/providers/Microsoft.Management/managementGroups",
        "/providers/Microsoft.Other/x/y",
        f"/subscriptions/{SUB}/resourceGroups/*",
    ],
)
def test_bad_scopes(text):
    with pytest.raises(ScopeError):
        scopes.parse_scope(text)


def test_resource_group_name_rule():
    assert scopes.check_resource_group_name("a" * 90)
    assert scopes.check_resource_group_name("Grüße-(1)_x.y")
    for bad in ("", "a" * 91, "a/b", 'a"b', "a'b", "x.", "a b"):
        with pytest.raises(ParameterError):
            scopes.check_resource_group_name(bad)


def test_management_group_hierarchy_is_unknown_offline():
    mg = scopes.parse_scope("/providers/Microsoft.Management/managementGroups/mg1")
    sub = scopes.parse_scope(f"/subscriptions/{SUB}")
    assert not sub.is_at_or_below(mg)
    assert sub.may_be_at_or_below(mg)
    assert scopes.parse_scope(WS).may_be_at_or_below(mg)
    assert not scopes.parse_scope("/").may_be_at_or_below(mg)
    assert not scopes.parse_scope(f"/subscriptions/{SUB}/resourceGroups/a").may_be_at_or_below(
        scopes.parse_scope(f"/subscriptions/{SUB}/resourceGroups/b"))
