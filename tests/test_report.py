"""`rbactool report` without a browser: the command, the page's structure (CSP, no markup from the
data, the embedded data decodes to the snapshot's figures), and its errors."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import sqlite3

import pytest

import rbactool
from conftest import ROOT

SEED = ROOT / "tests" / "data" / "estates" / "known-answers.yaml"


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    db = tmp_path_factory.mktemp("report") / "estate.db"
    rbactool.write_snapshot(rbactool.load_seed(SEED), db)
    return db


def _data(html: str) -> dict:
    payload = re.search(r'<script type="application/gzip\+base64" id="rbactool-data">([A-Za-z0-9+/=]*)</script>',
                        html).group(1)
    return json.loads(gzip.decompress(base64.b64decode(payload)))


def test_report_of_a_snapshot_writes_one_self_contained_page(run, snapshot, tmp_path):
    out = tmp_path / "report.html"
    r = run("report", "--snapshot", snapshot, "-o", out)
    assert r.exit_code == 0, r.stderr
    assert r.stderr.startswith(f"wrote {out}") and "11 role assignments, 6 escalation paths" in r.stderr
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>")
    # no URL to fetch anything: no src=, no href= but the skip link, no @import or url() in the CSS
    assert not re.search(r"\ssrc=", html) and re.findall(r'href="([^"]*)"', html) == ["#main"]
    assert "@import" not in html and "url(" not in html
    data = _data(html)
    con = sqlite3.connect(snapshot)
    assert data["summary"]["role_assignments"] == con.execute(
        "SELECT count(*) FROM role_assignments WHERE eligible = 0").fetchone()[0]
    assert len(data["assignments"]) == con.execute("SELECT count(*) FROM role_assignments").fetchone()[0]
    assert data["summary"]["escalation_paths"] == len(rbactool.find_escalations(snapshot).found)
    # no string of the estate is in the HTML itself: only in the compressed data
    assert "alice" not in html and "data-scientists" not in html


def test_the_content_security_policy_allows_only_the_pages_own_script_and_style(snapshot):
    html = rbactool.report(snapshot=snapshot).html
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    assert "default-src 'none'" in csp and "connect-src" not in csp  # default-src 'none' covers fetches
    script = re.search(r"<script>(.*)</script>", html, re.S).group(1)
    style = re.search(r"<style>(.*)</style>", html, re.S).group(1)
    digest = lambda t: base64.b64encode(hashlib.sha256(t.encode()).digest()).decode()  # noqa: E731
    assert f"script-src 'sha256-{digest(script)}'" in csp and f"style-src 'sha256-{digest(style)}'" in csp
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script and "eval(" not in script


def test_report_of_role_files_and_a_spec_without_azure(run, tmp_path):
    role = tmp_path / "role.json"
    role.write_text(json.dumps({"Name": "Storage keys", "IsCustom": True,
                                "Actions": ["Microsoft.Storage/storageAccounts/listKeys/action"],
                                "AssignableScopes": ["/subscriptions/11111111-1111-1111-1111-111111111111"]}))
    out = tmp_path / "roles.html"
    r = run("report", role, "--roles", ROOT / "roles" / "online-endpoints.yaml", "-o", out)
    assert r.exit_code == 0, r.stderr
    data = _data(out.read_text())
    assert data["kind"] == "roles" and data["summary"]["roles"] == 3
    keys = next(e for e in data["roles"] if e["name"] == "Storage keys")
    assert keys["risks"] == {"credential-exposure": 1}
    assert [data["catalog"]["names"][i].lower() for i in keys["ops"]] == ["microsoft.storage/storageaccounts/listkeys/action"]
    assert {f["code"] for f in keys["findings"]} >= {"CREDENTIAL_EXPOSURE"}


def test_report_to_standard_output(run, snapshot):
    r = run("report", "--snapshot", snapshot, "-o", "-")
    assert r.exit_code == 0 and r.stdout.startswith("<!DOCTYPE html>") and r.stderr == ""


@pytest.mark.parametrize(("argv", "code", "needle"), [
    (["report", "-o", "x.html"], 2, "give --snapshot FILE, or FILE|DIR"),
    (["report", "--snapshot", "a.db", "role.json", "-o", "x.html"], 2, "not both"),
    (["report", "--snapshot", "missing.db", "-o", "x.html"], 3, "no such snapshot file"),
    (["report", "missing.json", "-o", "x.html"], 3, "missing.json"),
])
def test_bad_arguments_are_one_line_errors(run, tmp_path, monkeypatch, argv, code, needle):
    monkeypatch.chdir(tmp_path)
    r = run(*argv)
    assert r.exit_code == code and needle in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert not (tmp_path / "x.html").exists()


def test_an_unwritable_output_is_one_line_exit_3(run, snapshot, tmp_path):
    r = run("report", "--snapshot", snapshot, "-o", tmp_path / "no" / "such" / "dir" / "r.html")
    assert r.exit_code == 3 and r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1


def test_browser_tests_fail_without_chromium_unless_skipped_explicitly(monkeypatch):
    import report_browser

    monkeypatch.setattr(report_browser, "chromium_path", lambda: None)
    monkeypatch.delenv("RBACTOOL_SKIP_BROWSER", raising=False)
    with pytest.raises(pytest.fail.Exception, match="chromium is not installed.*apt-get install"):
        report_browser.Browser()
    monkeypatch.setenv("RBACTOOL_SKIP_BROWSER", "1")
    with pytest.raises(pytest.skip.Exception, match="RBACTOOL_SKIP_BROWSER=1"):
        report_browser.Browser()


def test_gaps_and_validator_errors_of_a_snapshot_are_in_the_summary(tmp_path):
    from dataclasses import replace

    from rbactool.estate import Gap
    from rbactool.model import role_from_dict

    estate = rbactool.load_seed(SEED)
    estate.gaps.append(Gap("/subscriptions/33333333-3333-3333-3333-333333333333", "roleAssignments", 403,
                           "AuthorizationFailed", "no access"))
    bad = role_from_dict({"Name": "Typo role", "IsCustom": True, "Actions": ["Microsoft.Strage/storageAccounts/read"],
                          "AssignableScopes": ["/subscriptions/11111111-1111-1111-1111-111111111111"]})
    estate.roles.append(replace(bad, role_id="0a000000-0000-4000-8000-0000000000bb"))
    db = rbactool.write_snapshot(estate, tmp_path / "gaps.db")
    data = _data(rbactool.report(snapshot=db).html)
    assert data["summary"]["gaps"] == 1 and data["gaps"][0]["code"] == "AuthorizationFailed"
    typo = next(r for r in data["roles"] if r["name"] == "Typo role")
    assert typo["used"] is False and "NAMESPACE_TYPO" in {f["code"] for f in typo["findings"]}
    assert data["summary"]["errors"] == sum(f["type"] == "ERROR" for r in data["roles"] for f in r.get("findings", []))
    assert data["summary"]["errors"] >= 1
