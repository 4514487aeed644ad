"""`rbactool report` in a real browser: Debian's chromium, driven by Playwright, from file://.
The page's who-can and access answers are compared with rbactool.who_can / principal_access for
the known-answers estate; screenshots of every view go to tests-output/report/ (git-ignored)."""

from __future__ import annotations

import sqlite3

import pytest
import yaml
from report_browser import Browser

import rbactool
from conftest import ROOT

try:  # without playwright the Browser fixture fails with the install command (or skips on request)
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None

SEED = ROOT / "tests" / "data" / "estates" / "known-answers.yaml"
SHOTS = ROOT / "tests-output" / "report"
S1 = "/subscriptions/11111111-1111-1111-1111-111111111111"
WS = f"{S1}/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/ws"
EP = f"{WS}/onlineEndpoints/ep"
STORE = f"{S1}/resourceGroups/rg-ml/providers/Microsoft.Storage/storageAccounts/mlstore"
ML = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"
ALICE, BOB, DAVE, ERIN = ("a0000000-0000-0000-0000-000000000001", "b0000000-0000-0000-0000-000000000002",
                          "d0000000-0000-0000-0000-000000000004", "e0000000-0000-0000-0000-000000000005")
DS, INTERNS = "60000000-0000-0000-0000-0000000000d5", "60000000-0000-0000-0000-0000000000e1"
VIEWS = ("summary", "risks", "scopes", "who-can", "principals", "roles", "charts")
EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def browser():
    b = Browser()
    yield b
    b.close()


@pytest.fixture(scope="module")
def estate(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    db = tmp / "estate.db"
    rbactool.write_snapshot(rbactool.load_seed(SEED), db)
    html = tmp / "report.html"
    html.write_text(rbactool.report(snapshot=db).html, encoding="utf-8")
    return db, html


def _rows(page, table_id, attr="data-principal-id"):
    return page.eval_on_selector_all(f"#{table_id} tbody tr[{attr}]", f"rows => rows.map(r => r.getAttribute('{attr}'))")


def test_the_page_loads_from_file_with_no_console_error_and_no_request_but_its_own(browser, estate):
    _, html = estate
    page = browser.page(html.as_uri())
    SHOTS.mkdir(parents=True, exist_ok=True)
    for view in VIEWS:
        page.click(f"#tab-{view}")
        assert page.is_visible(f"#view-{view}")
        page.screenshot(path=str(SHOTS / f"{view}.png"), full_page=True)
    assert page.errors == []
    assert page.requests and all(u.startswith("file://") for u in page.requests), page.requests
    assert page.dialogs == []
    page.close()


def test_the_summary_numbers_are_the_snapshots(browser, estate):
    db, html = estate
    page = browser.page(html.as_uri())
    shown = dict(page.eval_on_selector_all("[data-summary]", "cards => cards.map(c => [c.dataset.summary, "
                                           "c.querySelector('.n').textContent])"))
    con = sqlite3.connect(db)
    one = lambda sql: str(con.execute(sql).fetchone()[0])  # noqa: E731
    assert shown["role_assignments"] == one("SELECT count(*) FROM role_assignments WHERE eligible = 0") == "11"
    assert shown["eligible_assignments"] == one("SELECT count(*) FROM role_assignments WHERE eligible = 1") == "1"
    assert shown["principals"] == one("SELECT count(*) FROM principals")
    assert shown["groups"] == one("SELECT count(*) FROM principals WHERE type = 'Group'") == "2"
    assert shown["custom_roles"] == one("SELECT count(*) FROM role_definitions WHERE type = 'CustomRole'") == "5"
    assert shown["deny_assignments"] == one("SELECT count(*) FROM deny_assignments") == "1"
    assert shown["gaps"] == one("SELECT count(*) FROM gaps") == "0"
    escalations = rbactool.find_escalations(db)
    assert shown["escalation_paths"] == str(len(escalations.found)) == "6"
    assert shown["escalation_principals"] == str(len(escalations.principals())) == "4"
    page.close()


def test_the_who_can_box_answers_a_known_query_with_the_known_principals(browser, estate):
    _, html = estate
    page = browser.page(html.as_uri() + "#who-can")
    page.fill("#who-op", f"{ML}/score/action")
    page.fill("#who-scope", EP)
    page.press("#who-scope", "Enter")
    page.wait_for_selector("#who-answers")
    assert set(_rows(page, "who-answers")) == {DS, INTERNS, ALICE, BOB, DAVE}
    assert _rows(page, "who-eligible") == [ERIN]
    page.fill("#who-op", f"{ML}/listKeys/action")
    page.click("#who-form button[type=submit]")
    page.wait_for_selector("#who-denied")
    assert _rows(page, "who-answers") == [DAVE]
    assert sorted(_rows(page, "who-denied")) == sorted([BOB, ERIN])
    page.screenshot(path=str(SHOTS / "who-can-answer.png"), full_page=True)
    page.fill("#who-op", "Microsoft.Storage/*")
    page.click("#who-form button[type=submit]")
    assert "no wildcards" in page.text_content("#who-result [role=alert]")
    assert page.errors == []
    page.close()


QUERIES = [f"{ML}/score/action", f"{ML}/listKeys/action", f"{ML}/read",
           "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
           "Microsoft.Storage/storageAccounts/listKeys/action", "Microsoft.Authorization/roleAssignments/write",
           "Microsoft.Authorization/roleDefinitions/write", "Microsoft.Compute/virtualMachines/runCommand/action",
           "Contoso.Unknown/things/read"]


def test_the_pages_answers_equal_who_can_and_access_for_the_known_answers_estate(browser, estate):
    db, html = estate
    page = browser.page(html.as_uri())
    con = sqlite3.connect(db)
    scopes = sorted({s for (s,) in con.execute("SELECT id FROM scopes UNION SELECT scope FROM role_assignments "
                                               "UNION SELECT scope FROM deny_assignments")}
                    | {f"{STORE}/blobServices/default/containers/reports", f"{EP}/deployments/blue", "/"})
    compared = 0
    for op in QUERIES:
        for scope in scopes:
            want = rbactool.who_can(db, op, scope).to_dict()
            got = page.evaluate("([o, s]) => window.rbactool.whoCan(o, s)", [op, scope])
            for key in ("operation", "scope", "isDataAction", "answers", "eligible", "denied"):
                assert got[key] == want[key], (op, scope, key)
            assert got["notes"] == want["notes"], (op, scope)
            compared += 1
    assert compared == len(QUERIES) * len(scopes)
    for (pid,) in con.execute("SELECT DISTINCT principal_id FROM role_assignments UNION SELECT id FROM principals"):
        want = rbactool.principal_access(db, pid).to_dict()
        got = page.evaluate("p => window.rbactool.access(p)", pid)
        assert got["groups"] == want["groups"], pid
        keys = ("role", "assignmentId", "assignmentScope", "via", "viaNames", "condition", "eligible",
                "effectiveActions", "effectiveDataActions", "riskClasses")
        assert [{k: a[k] for k in keys} for a in got["assignments"]] == \
               [{k: a[k] for k in keys} for a in want["assignments"]], pid
        assert [d["id"] for d in got["denyAssignments"]] == [d["id"] for d in want["denyAssignments"]], pid
    assert page.errors == []
    page.close()


def test_filters_sorting_and_collapsing_work(browser, estate):
    _, html = estate
    page = browser.page(html.as_uri() + "#principals")
    table = "#principals tbody tr"
    before = page.locator(table).count()
    page.fill("#view-principals .table-block input[type=search]", "bob")
    assert page.locator(table).count() == 1 < before
    assert "bob" in page.text_content(table)
    page.fill("#view-principals .table-block input[type=search]", "")
    page.click("#principals th:nth-child(4) button")  # direct assignments, most first
    assert page.get_attribute("#principals th:nth-child(4)", "aria-sort") == "descending"
    counts = [int(x) for x in page.eval_on_selector_all(f"{table} td:nth-child(4)", "c => c.map(x => x.textContent)")]
    assert counts == sorted(counts, reverse=True) and counts[0] > 0
    # the scope tree: subscriptions start collapsed, a click opens one, "Collapse all" closes all
    page.click("#tab-scopes")
    sub = f"#scope-tree details[data-scope='{S1}']"
    assert page.get_attribute(sub, "open") is None
    page.click(f"{sub} > summary")
    assert page.get_attribute(sub, "open") == ""
    at_s1 = sqlite3.connect(estate[0]).execute("SELECT count(*) FROM role_assignments WHERE scope_key = ?",
                                               (S1.lower(),)).fetchone()[0]
    rows = page.locator(f"{sub} > .here tbody tr")
    rows.first.wait_for()  # the rows of a scope are built when it is first opened
    assert rows.count() == at_s1 == 5  # dave, carol, frank, ivan, erin (eligible)
    page.click("text=Collapse all")
    expect(page.locator("#scope-tree details[open]")).to_have_count(0)
    page.click("text=Expand all")
    expect(page.locator("#scope-tree details:not([open])")).to_have_count(0)
    assert page.errors == []
    page.close()


def test_keyboard_moves_between_views(browser, estate):
    _, html = estate
    page = browser.page(html.as_uri())
    page.focus("#tab-summary")
    page.keyboard.press("ArrowRight")
    assert page.get_attribute("#tab-risks", "aria-selected") == "true"
    assert page.evaluate("document.activeElement.id") == "tab-risks"
    page.keyboard.press("End")
    assert page.get_attribute("#tab-charts", "aria-selected") == "true"
    expect(page.locator("#view-charts figure svg[role=img]")).to_have_count(2)
    assert page.locator("#view-charts figure details table").count() == 2  # text equivalents
    page.close()


def test_usable_at_a_phone_width_and_in_print(browser, estate):
    _, html = estate
    page = browser.page(html.as_uri(), width=390, height=844)
    for view in VIEWS:
        page.click(f"#tab-{view}")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (view, overflow)
        page.screenshot(path=str(SHOTS / f"phone-{view}.png"), full_page=True)
    page.emulate_media(media="print")
    assert page.evaluate("getComputedStyle(document.getElementById('tabs')).display") == "none"
    assert page.evaluate("getComputedStyle(document.getElementById('view-summary')).display") == "block"
    page.close()


def test_a_hostile_role_name_shows_as_text_and_runs_nothing(browser, tmp_path, run):
    doc = yaml.safe_load(SEED.read_text())
    doc["role_definitions"].append({
        "Name": EVIL, "Id": "0a000000-0000-4000-8000-0000000000ee", "IsCustom": True,
        "Description": "</script><img src=x onerror=alert(2)>", "Actions": ["Microsoft.Storage/storageAccounts/read"],
        "AssignableScopes": [S1]})
    doc["principals"].append({"id": "ee000000-0000-0000-0000-0000000000ee", "type": "User",
                              "name": "<img src=x onerror=alert(3)>"})
    doc["role_assignments"].append({"principal": "ee000000-0000-0000-0000-0000000000ee", "role": EVIL, "scope": S1})
    seed = tmp_path / "evil.yaml"
    seed.write_text(yaml.safe_dump(doc))
    db = tmp_path / "evil.db"
    rbactool.write_snapshot(rbactool.load_seed(seed), db)
    html = tmp_path / "evil.html"
    r = run("report", "--snapshot", db, "-o", html)
    assert r.exit_code == 0, r.stderr
    text = html.read_text()
    assert text.count("</script>") == 2 and "alert(" not in text  # the data is base64: no markup at all
    page = browser.page(html.as_uri() + "#roles")
    expect(page.locator("#roles td", has_text=EVIL)).to_have_count(1)
    page.click(f"#roles button:text-is('{EVIL}')")
    assert page.text_content("#role-detail h3") == EVIL
    page.click("#tab-principals")
    expect(page.locator("#principals td", has_text="<img src=x onerror=alert(3)>")).to_have_count(1)
    for view in VIEWS:
        page.click(f"#tab-{view}")
    assert page.dialogs == [] and page.errors == []
    assert page.evaluate("document.querySelectorAll('script').length") == 2
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    page.close()


def test_the_report_of_role_files_opens_and_lists_their_findings(browser, tmp_path, run):
    roles = tmp_path / "roles"
    roles.mkdir()
    (roles / "ok.json").write_text('{"Name": "Scoring", "IsCustom": true, "Actions": '
                                   f'["{ML}/score/action"], "AssignableScopes": ["{S1}"]}}')
    (roles / "bad.json").write_text('{"Name": "Keys <b>x</b>", "IsCustom": true, "Actions": '
                                    f'["{ML}/*/action", "Microsoft.Strage/storageAccounts/read"], '
                                    f'"AssignableScopes": ["{S1}"]}}')
    html = tmp_path / "roles.html"
    r = run("report", str(roles), "-o", html)
    assert r.exit_code == 0, r.stderr
    validated = run("validate", str(roles), "--format", "json").json()
    errors = sum(1 for f in validated["findings"] if f["type"] == "ERROR")
    page = browser.page(html.as_uri())
    assert page.text_content("[data-summary=roles] .n") == "2"
    assert page.text_content("[data-summary=errors] .n") == str(errors) and errors > 0
    page.click("#tab-risks")
    expect(page.locator("#errors tbody tr")).to_have_count(errors)
    expect(page.locator("#risky-roles td", has_text="Keys <b>x</b>")).to_have_count(1)
    page.click("#tab-roles")
    page.click("#roles button:text-is('Keys <b>x</b>')")
    expect(page.locator("#role-ops tbody tr", has_text="listKeys/action")).to_have_count(1)
    for view in ("summary", "risks", "roles", "charts"):
        page.click(f"#tab-{view}")
        page.screenshot(path=str(SHOTS / f"roles-{view}.png"), full_page=True)
    assert page.errors == [] and all(u.startswith("file://") for u in page.requests)
    page.close()


def test_used_vs_granted_from_activity_logs_in_the_page(browser, estate, run, tmp_path):
    """With --activity-log the page has a "Used vs granted" view whose numbers are `rbactool usage`'s."""
    import json

    db, _ = estate
    log = tmp_path / "activity.json"
    log.write_text(json.dumps([{
        "authorization": {"action": f"{ML}/write", "scope": EP},
        "claims": {"http://schemas.microsoft.com/identity/claims/objectidentifier": DAVE},
        "eventTimestamp": "2026-11-02T10:00:00Z", "status": {"value": "Succeeded"},
        "category": {"value": "Administrative"}}]))
    html = tmp_path / "report.html"
    r = run("report", "--snapshot", db, "--activity-log", log, "-o", html)
    assert r.exit_code == 0, r.stderr
    used = rbactool.usage(db, [log]).identity(DAVE)
    page = browser.page(html.as_uri())
    page.click("#tab-usage")
    row = page.locator("#view-usage tbody tr", has_text="dave")
    expect(row).to_have_count(1)
    cells = row.locator("td").all_text_contents()
    assert cells[0] == "dave" and int(cells[4]) == used.used_observable == 1
    assert cells[5] == f"{100 * used.ratio:.1f} %" and f"{ML}/write" in cells[6]
    assert page.errors == [] and all(u.startswith("file://") for u in page.requests)
    page.close()


def test_activity_logs_need_a_snapshot(run, tmp_path):
    r = run("report", "roles/", "--activity-log", tmp_path / "a.json", "-o", tmp_path / "r.html")
    assert r.exit_code == 2 and "--activity-log needs --snapshot" in r.stderr
