"""`rbactool report`: generation for the 100,000-assignment bench estate (target <= 15 s), the
page's size for 10,000 assignments (budget 5 MB) and its time to interactive in headless Chromium
(Debian's chromium driven by Playwright; target <= 2 s). Prints figures; asserts nothing.

The estate comes from ``rbactool.emulator.synthetic.generate_estate`` when it is importable, else
from a deterministic seed built here (same shape: management groups, subscriptions, resource
groups and resources, custom and built-in roles, users, service principals, nested groups).

    python bench/bench_report.py                 # 100,000 and 10,000 assignments
    python bench/bench_report.py --small         # a quick run (10,000 and 2,000)
    python bench/bench_report.py --screenshot    # also rewrite docs/report.png (known-answers estate)
"""

from __future__ import annotations

import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import rbactool
from rbactool.builtins import load_builtin_roles
from rbactool.estate import estate_from_seed

ROOT = Path(__file__).resolve().parent.parent
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
# built-in roles and how often they are assigned (privileged ones are rare, as in a kept estate)
BUILTIN = {"Reader": 30, "Contributor": 12, "Owner": 1, "User Access Administrator": 0.5, "Storage Blob Data Reader": 10,
           "Storage Blob Data Contributor": 8, "Key Vault Secrets User": 8, "Virtual Machine Contributor": 6,
           "AzureML Data Scientist": 10, "Monitoring Reader": 14, "Role Based Access Control Administrator": 0.5}
ACTIONS = ["Microsoft.Storage/storageAccounts/read", "Microsoft.Storage/storageAccounts/listKeys/action",
           "Microsoft.Compute/virtualMachines/*", "Microsoft.Compute/virtualMachines/runCommand/action",
           "Microsoft.KeyVault/vaults/read", "Microsoft.Network/virtualNetworks/read",
           "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/*",
           "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/score/action",
           "Microsoft.Web/sites/*", "Microsoft.Resources/subscriptions/resourceGroups/read",
           "Microsoft.Authorization/roleAssignments/write", "Microsoft.Sql/servers/databases/read"]


def _id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def seed_estate(assignments: int, *, subscriptions: int, rgs: int, custom_roles: int, principals: int,
                groups: int, seed: int = 0) -> dict:
    """A deterministic seed document (the emulator's format) with *assignments* role assignments."""
    rng = random.Random(seed)
    mgs = [{"id": f"mg-{i}", "name": f"Management group {i}", **({"parent": "mg-0"} if i else {})}
           for i in range(5)]
    subs = [_id(rng) for _ in range(subscriptions)]
    for i, s in enumerate(subs):
        mgs[1 + i % 4].setdefault("subscriptions", []).append({"id": s, "name": f"subscription-{i:03d}"})
    rg_scopes = [f"/subscriptions/{subs[i % subscriptions]}/resourceGroups/rg-{i:04d}" for i in range(rgs)]
    users = [{"id": _id(rng), "type": "User" if i % 5 else "ServicePrincipal", "name": f"identity-{i:05d}"}
             for i in range(principals)]
    group_ids = [_id(rng) for _ in range(groups)]
    group_docs = []
    for i, g in enumerate(group_ids):
        members = [u["id"] for u in rng.sample(users, min(10, len(users)))]
        if i and i % 10 == 0:
            members.append(group_ids[i - 1])  # some nesting
        group_docs.append({"id": g, "name": f"group-{i:04d}", "members": members})
    roles = []
    for i in range(custom_roles):
        scope = f"/subscriptions/{subs[i % subscriptions]}"
        roles.append({"Name": f"Custom role {i:03d}", "IsCustom": True, "Description": f"Bench role {i}.",
                      "Actions": rng.sample(ACTIONS[:-2] if i % 25 else ACTIONS, 3), "AssignableScopes": [scope]})
    holders = [u["id"] for u in users] + group_ids
    out = []
    seen = set()
    while len(out) < assignments:
        r = rng.random()
        if r < 0.01:
            scope = f"/providers/Microsoft.Management/managementGroups/mg-{rng.randrange(5)}"
        elif r < 0.08:
            scope = f"/subscriptions/{rng.choice(subs)}"
        elif r < 0.7:
            scope = rng.choice(rg_scopes)
        else:
            scope = f"{rng.choice(rg_scopes)}/providers/Microsoft.Storage/storageAccounts/st{rng.randrange(10_000)}"
        if rng.random() < 0.5 and custom_roles:
            i = rng.randrange(custom_roles)
            role = roles[i]["Name"]
            sub = roles[i]["AssignableScopes"][0]
            if not scope.startswith(sub + "/"):
                scope = sub + scope[scope.index("/resourceGroups/"):] if "/resourceGroups/" in scope else sub
        else:
            role = rng.choices(list(BUILTIN), weights=list(BUILTIN.values()))[0]
        key = (scope.lower(), role)
        principal = rng.choice(holders)
        if (key, principal) in seen:
            continue
        seen.add((key, principal))
        out.append({"principal": principal, "role": role, "scope": scope})
    return {"management_groups": mgs, "principals": users, "groups": group_docs, "role_definitions": roles,
            "role_assignments": out}


def make_seed(assignments: int) -> tuple[dict, str]:
    scale = assignments / 100_000
    try:
        from rbactool.emulator.synthetic import EstateSize, generate_estate
    except ImportError:
        pass
    else:
        try:
            size = EstateSize(subscriptions=max(5, round(50 * scale)), scopes=max(200, round(2_000 * scale)),
                              role_assignments=assignments, custom_roles=max(20, round(500 * scale)),
                              principals=max(1_000, round(20_000 * scale)), groups=max(100, round(2_000 * scale)))
            return generate_estate(size, seed=0), "rbactool.emulator.synthetic"
        except TypeError:
            pass
    return seed_estate(assignments, subscriptions=max(5, round(50 * scale)), rgs=max(200, round(2_000 * scale)),
                       custom_roles=max(20, round(500 * scale)), principals=max(1_000, round(20_000 * scale)),
                       groups=max(100, round(2_000 * scale))), "bench_report.seed_estate"


def snapshot_of(seed: dict, path: Path) -> Path:
    return rbactool.write_snapshot(estate_from_seed(seed, builtin_roles=load_builtin_roles().all()), path)


def browser():
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    pw = sync_playwright().start()
    profile = tempfile.mkdtemp(prefix="rbactool-bench-chromium-")
    ctx = pw.chromium.launch_persistent_context(profile, executable_path=chromium, headless=True, args=ARGS,
                                                viewport={"width": 1280, "height": 900})
    return pw, ctx, profile


def time_to_interactive(ctx, url: str, runs: int = 5) -> tuple[float, float, list[str]]:
    """Median wall seconds from navigation to the page's ready mark, and the page's own figure
    (performance.now() at ready); the request URLs of the last run."""
    walls, marks, requests = [], [], []
    for _ in range(runs):
        page = ctx.new_page()
        requests = []
        page.on("request", lambda r, requests=requests: requests.append(r.url))
        t0 = time.perf_counter()
        page.goto(url)
        page.wait_for_function("document.body.dataset.ready === '1'", timeout=60_000)
        walls.append(time.perf_counter() - t0)
        marks.append(page.evaluate("window.rbactoolReadyAt") / 1000)
        page.close()
    return statistics.median(walls), statistics.median(marks), requests


def interactions(ctx, url: str, op: str, scope: str) -> dict[str, float]:
    page = ctx.new_page()
    page.goto(url)
    page.wait_for_function("document.body.dataset.ready === '1'", timeout=60_000)
    out = {}
    for view in ("risks", "scopes", "who-can", "principals", "roles", "charts"):
        t0 = time.perf_counter()
        page.click(f"#tab-{view}")
        page.wait_for_selector(f"#view-{view}:not([hidden])")
        out[view] = time.perf_counter() - t0
    page.click("#tab-who-can")
    page.fill("#who-op", op)
    page.fill("#who-scope", scope)
    t0 = time.perf_counter()
    page.press("#who-scope", "Enter")
    page.wait_for_selector("#who-result h3, #who-result [role=alert]")
    out["who-can query"] = time.perf_counter() - t0
    page.close()
    return out


def screenshot(ctx, tmp: Path) -> None:
    db = tmp / "known.db"
    rbactool.write_snapshot(rbactool.load_seed(ROOT / "tests" / "data" / "estates" / "known-answers.yaml"), db)
    html = tmp / "known.html"
    html.write_text(rbactool.report(snapshot=db).html, encoding="utf-8")
    page = ctx.new_page()
    page.set_viewport_size({"width": 1100, "height": 720})
    page.goto(html.as_uri() + "#risks")
    page.wait_for_function("document.body.dataset.ready === '1'")
    target = ROOT / "docs" / "report.png"
    page.screenshot(path=str(target))
    page.close()
    print(f"screenshot: {target.relative_to(ROOT)} ({target.stat().st_size / 1e3:.0f} kB)")


def main() -> None:
    small = "--small" in sys.argv
    big_n, page_n = (10_000, 2_000) if small else (100_000, 10_000)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        t0 = time.perf_counter()
        seed, source = make_seed(big_n)
        db = snapshot_of(seed, tmp / "big.db")
        print(f"estate: {len(seed['role_assignments']):,} assignments from {source} "
              f"(seed and snapshot in {time.perf_counter() - t0:.1f} s)")
        catalog = rbactool.load_catalog()
        t0 = time.perf_counter()
        page = rbactool.report(snapshot=db, catalog=catalog)
        gen = time.perf_counter() - t0
        t0 = time.perf_counter()
        found = rbactool.find_escalations(db).found
        esc = time.perf_counter() - t0
        print(f"report for {big_n:,} assignments: {gen:.1f} s (target <= 15 s; escalations alone {esc:.1f} s, "
              f"{len(found):,} paths), page {page.size / 1e6:.1f} MB")
        big_html = tmp / "big.html"
        big_html.write_text(page.html, encoding="utf-8")
        del page

        seed, source = make_seed(page_n)
        db = snapshot_of(seed, tmp / "page.db")
        t0 = time.perf_counter()
        page = rbactool.report(snapshot=db, catalog=catalog)
        gen = time.perf_counter() - t0
        html = tmp / "page.html"
        html.write_text(page.html, encoding="utf-8")
        print(f"report for {page_n:,} assignments: {gen:.1f} s, page {page.size / 1e6:.2f} MB "
              f"(budget {5 if page_n == 10_000 else '-'} MB)")
        try:
            pw, ctx, profile = browser()
        except Exception as e:  # noqa: BLE001 - a bench prints what it could not measure
            print(f"time to interactive: not measured ({e.__class__.__name__}: {str(e).splitlines()[0]})")
            return
        try:
            wall, mark, requests = time_to_interactive(ctx, html.as_uri())
            print(f"time to interactive, {page_n:,} assignments, headless Chromium (median of 5): {wall:.2f} s "
                  f"from navigation (the page's own mark: {mark:.2f} s) (target <= 2 s)")
            print(f"  requests: {len(requests)}, all file://: {all(u.startswith('file://') for u in requests)}")
            wall, mark, requests = time_to_interactive(ctx, big_html.as_uri(), runs=1)
            print(f"time to interactive, {big_n:,} assignments (one run): {wall:.2f} s, "
                  f"all requests file://: {all(u.startswith('file://') for u in requests)}")
            a = seed["role_assignments"][len(seed["role_assignments"]) // 2]
            times = interactions(ctx, html.as_uri(), "Microsoft.Storage/storageAccounts/listKeys/action", a["scope"])
            print("  first show of each view, and a who-can query: "
                  + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in times.items()))
            if "--screenshot" in sys.argv:
                screenshot(ctx, tmp)
        finally:
            ctx.close()
            pw.stop()
            shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
