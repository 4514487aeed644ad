"""Facts of the Azure ML online-endpoint seed roles, against the packaged catalog."""

from __future__ import annotations

import datetime as dt

from test_validate_helpers import VDATA

from rbactool.catalog import load_catalog
from rbactool.model import load_role
from rbactool.validate import validate, validate_roles

SEEDS = VDATA / "seeds"
ML = "microsoft.machinelearningservices/workspaces/onlineendpoints"


def _report(name):
    return validate_roles([load_role(SEEDS / name)], load_catalog(None), today=dt.date(2026, 9, 1))


def test_control_plane_role_has_credential_warnings_and_no_errors():
    report = _report("custom-role-for-control-plane.json")
    assert not [f for f in report.findings if f.type == "ERROR"]
    exposed = {op.lower() for f in report.findings if f.code == "CREDENTIAL_EXPOSURE" for op in f.operations}
    assert exposed == {f"{ML}/token/action", f"{ML}/listkeys/action", f"{ML}/regeneratekeys/action"}
    assert all(f.type == "SECURITY_WARNING" for f in report.findings if f.code == "CREDENTIAL_EXPOSURE")


def test_scoring_wildcard_role_warns_about_keys_and_suggests_score_action():
    report = _report("custom-role-for-scoring.json")
    assert not [f for f in report.findings if f.type == "ERROR"]
    [cred] = [f for f in report.findings if f.code == "CREDENTIAL_EXPOSURE"]
    assert cred.type == "SECURITY_WARNING"
    ops = {o.lower() for o in cred.operations}
    assert {f"{ML}/regeneratekeys/action", f"{ML}/listkeys/action"} <= ops
    assert cred.location.pointer == "/Actions/0"
    [suggestion] = [f for f in report.findings if f.code == "NARROWER_THAN_WILDCARD"]
    assert suggestion.type == "SUGGESTION"
    assert f"{ML}/score/action" in {o.lower() for o in suggestion.operations}
    assert report.failed("SECURITY_WARNING")
    assert not report.failed("ERROR")


def test_scoring_wildcard_grants_five_operations():
    from rbactool.effective import effective_operations

    eff = effective_operations(load_role(SEEDS / "custom-role-for-scoring.json"), load_catalog(None))
    assert {o.name.lower() for o in eff.actions} == {
        f"{ML}/score/action", f"{ML}/listkeys/action", f"{ML}/regeneratekeys/action", f"{ML}/token/action",
        f"{ML}/deployments/getlogs/action",
    }


def test_strict_scoring_role_is_clean():
    report = validate(load_role(SEEDS / "strict-scoring.json"), load_catalog(None))
    assert report.findings == ()


def test_score_action_under_data_actions_is_an_error():
    report = _report("scoring-in-dataactions.json")
    [f] = [f for f in report.findings if f.code == "ACTION_IN_DATA_ACTIONS"]
    assert f.type == "ERROR"
    assert f.location.pointer == "/DataActions/0"
