"""Issue 13 item 6: the risk classes are reviewed data (rbactool/data/risk-classes.json), loaded once, tested."""

from __future__ import annotations

import re

import pytest
from test_validate_helpers import SUB, az_role, report_for

from rbactool.catalog import compile_pattern, load_packaged_catalog
from rbactool.findings import SECURITY_WARNING, WARNING
from rbactool.risk import (
    CREDENTIAL_EXPOSURE,
    DESTRUCTIVE,
    PRIVILEGE_ESCALATION,
    REMOTE_EXECUTION,
    RISK_CLASSES,
    load_entries,
    risk_classes,
    risk_entries,
)

_KIND = {"action": False, "data": True, "any": None}


@pytest.fixture(scope="module")
def catalog():
    return load_packaged_catalog()


def test_the_file_is_loaded_once_and_every_entry_is_reviewable():
    entries = risk_entries()
    assert entries is risk_entries()
    assert len(entries) > 100
    seen = set()
    for e in entries:
        assert e.cls in RISK_CLASSES and e.kind in _KIND, e.pattern
        assert e.source.startswith("https://"), e.pattern
        assert e.why.strip() and "\n" not in e.why and len(e.why) <= 200, e.pattern
        assert e.pattern.count("*") <= 1, e.pattern
        key = (e.pattern.lower(), e.cls, e.kind)
        assert key not in seen, f"{e.pattern} listed twice"
        seen.add(key)
    assert {e.cls for e in entries} == set(RISK_CLASSES)  # every class has entries, none is unknown


def test_every_pattern_matches_a_catalog_operation_or_is_marked_forward_looking(catalog):
    for e in risk_entries():
        matched = catalog.expand(e.pattern, data_action=_KIND[e.kind])
        if e.forward_looking:
            assert not matched, f"{e.pattern} is in the catalog now: drop forward_looking"
        else:
            assert matched, f"{e.pattern} ({e.kind}) matches no catalog operation: fix it or mark it forward_looking"


def test_a_malformed_entry_is_refused_naming_it():
    row = {"pattern": "*/listKeys/action", "class": "credential-exposure", "kind": "action", "why": "w",
           "source": "https://x"}
    assert load_entries({"schema_version": 1, "entries": [row]})[0].cls == CREDENTIAL_EXPOSURE
    for bad in ({"class": "scary"}, {"kind": "both"}, {"pattern": "*/*/action"}):
        with pytest.raises(ValueError, match="entry 0"):
            load_entries({"schema_version": 1, "entries": [{**row, **bad}]})
    with pytest.raises(ValueError):
        load_entries({"schema_version": 2, "entries": []})


def test_the_index_agrees_with_plain_arm_matching_on_every_catalog_operation(catalog):
    by_kind = {}
    for data in (False, True):
        rxs = {}
        for cls in RISK_CLASSES:
            bodies = [compile_pattern(e.pattern).pattern[2:-2] for e in risk_entries()
                      if e.cls == cls and _KIND[e.kind] in (None, data)]
            rxs[cls] = re.compile("\\A(?:" + "|".join(bodies) + ")\\Z", re.DOTALL)
        by_kind[data] = rxs
    ops = catalog.expand("*", data_action=None)
    assert len(ops) > 15000
    for op in ops:
        low = op.name.lower()
        want = tuple(c for c in RISK_CLASSES if by_kind[op.is_data_action][c].match(low))
        assert risk_classes(op.name, op.is_data_action) == want, op.name


def _real(catalog, name, data=False):
    [op] = [o for o in catalog.get(name) if o.is_data_action == data]  # a real operation, not a guess
    return risk_classes(op.name, op.is_data_action)


@pytest.mark.parametrize("name", [
    "Microsoft.Authorization/roleAssignments/write",
    "Microsoft.Authorization/roleDefinitions/write",
    "Microsoft.Authorization/elevateAccess/action",
    "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action",
    "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write",
    "Microsoft.Authorization/policyExemptions/write",
])
def test_privilege_escalation(catalog, name):
    assert PRIVILEGE_ESCALATION in _real(catalog, name)


@pytest.mark.parametrize("name, data", [
    ("Microsoft.Storage/storageAccounts/listkeys/action", False),
    ("Microsoft.Storage/storageAccounts/listAccountSas/action", False),
    ("Microsoft.Network/connections/sharedKey/read", False),
    ("Microsoft.Network/connections/sharedkey/action", False),
    ("microsoft.network/virtualnetworkgateways/resetvpnclientsharedkey/action", False),
    ("Microsoft.Web/sites/config/list/Action", False),
    ("Microsoft.Web/sites/slots/config/list/Action", False),
    ("Microsoft.Web/sites/publishxml/Action", False),
    ("microsoft.web/sites/functions/listkeys/action", False),
    ("Microsoft.DocumentDB/databaseAccounts/listKeys/action", False),
    ("Microsoft.DocumentDB/databaseAccounts/listConnectionStrings/action", False),
    ("Microsoft.ServiceBus/namespaces/authorizationRules/listkeys/action", False),
    ("Microsoft.EventHub/namespaces/authorizationRules/listkeys/action", False),
    ("Microsoft.Relay/namespaces/authorizationRules/listkeys/action", False),
    ("Microsoft.Cache/redis/listKeys/action", False),
    ("Microsoft.MachineLearningServices/workspaces/listKeys/action", False),
    ("Microsoft.MachineLearningServices/workspaces/onlineEndpoints/listKeys/action", False),
    ("Microsoft.CognitiveServices/accounts/listKeys/action", False),
    ("Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action", False),
    ("Microsoft.ContainerRegistry/registries/listCredentials/action", False),
    ("Microsoft.Search/searchServices/listAdminKeys/action", False),
    ("Microsoft.Logic/workflows/triggers/listCallbackUrl/action", False),
    ("Microsoft.KeyVault/vaults/secrets/getSecret/action", True),
])
def test_credential_exposure(catalog, name, data):
    assert CREDENTIAL_EXPOSURE in _real(catalog, name, data)


@pytest.mark.parametrize("name, data", [
    ("Microsoft.Web/sites/publish/Action", False),
    ("Microsoft.Web/sites/slots/publish/Action", False),
    ("microsoft.web/sites/extensions/write", False),
    ("Microsoft.Compute/virtualMachines/runCommand/action", False),
    ("Microsoft.Compute/virtualMachines/runCommands/write", False),
    ("Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommand/action", False),
    ("Microsoft.ContainerService/managedClusters/runCommand/action", False),
    ("Microsoft.HybridCompute/machines/runcommands/write", False),
    ("Microsoft.HybridCompute/machines/extensions/write", False),
    ("Microsoft.ContainerInstance/containerGroups/containers/exec/action", False),
    ("Microsoft.Automation/automationAccounts/jobs/write", False),
    ("Microsoft.Resources/deploymentScripts/write", False),
    ("Microsoft.ContainerService/managedClusters/pods/exec/action", True),
    ("Microsoft.App/containerApps/exec/action", True),
])
def test_remote_execution(catalog, name, data):
    assert REMOTE_EXECUTION in _real(catalog, name, data)


def test_destructive_and_harmless(catalog):
    assert _real(catalog, "Microsoft.Compute/virtualMachines/delete") == (DESTRUCTIVE,)
    assert _real(catalog, "Microsoft.Compute/virtualMachines/read") == ()
    assert _real(catalog, "Microsoft.Web/sites/read") == ()
    assert _real(catalog, "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read", True) == ()


# ------------------------------------------------------------------ the */read calibration

SCOPE = [f"/subscriptions/{SUB}"]


def _findings(catalog, **fields):
    return report_for(az_role(AssignableScopes=SCOPE, **fields), catalog).findings


def test_a_copy_of_reader_gets_only_a_warning_naming_the_secret_reads(catalog):
    found = _findings(catalog, Actions=["*/read"])
    assert {f.type for f in found} == {WARNING}
    [f] = found
    assert f.code == "READS_SECRETS_LIKE_READER" and f.location.pointer == "/Actions/0"
    assert "Microsoft.Network/connections/sharedKey/read" in f.operations
    assert all(n.lower().endswith("/read") for n in f.operations)


def test_reader_plus_list_keys_is_a_security_warning(catalog):
    found = _findings(catalog, Actions=["*/read", "Microsoft.Storage/storageAccounts/listkeys/action"])
    [sec] = [f for f in found if f.type == SECURITY_WARNING]
    assert sec.code == "CREDENTIAL_EXPOSURE" and sec.location.pointer == "/Actions/1"
    assert "READS_SECRETS_LIKE_READER" in {f.code for f in found}


def test_an_explicit_secret_read_that_reader_has_is_a_warning(catalog):
    found = _findings(catalog, Actions=["Microsoft.Network/connections/sharedKey/read"])
    assert [(f.code, f.type) for f in found] == [("READS_SECRETS_LIKE_READER", WARNING)]


def test_connection_wildcard_reaches_beyond_reader(catalog):
    # sharedkey/action and sharedKey/write are not reads: beyond what Reader gives
    found = _findings(catalog, Actions=["Microsoft.Network/connections/*"])
    [sec] = [f for f in found if f.code == "CREDENTIAL_EXPOSURE"]
    assert sec.type == SECURITY_WARNING
    assert "Microsoft.Network/connections/sharedkey/action" in sec.operations
    assert "Microsoft.Network/connections/sharedKey/read" not in sec.operations
    [warn] = [f for f in found if f.code == "READS_SECRETS_LIKE_READER"]
    assert warn.operations == ("Microsoft.Network/connections/sharedKey/read",)


def test_web_app_publishing_is_remote_execution(catalog):
    found = _findings(catalog, Actions=["Microsoft.Web/sites/publish/Action"])
    assert [(f.code, f.type) for f in found] == [("REMOTE_EXECUTION", SECURITY_WARNING)]
