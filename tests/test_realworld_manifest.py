"""The real-world corpus is complete and honest about where each role comes from."""

from __future__ import annotations

import re

from realworld_corpus import CORPUS, JUDGMENTS, REDISTRIBUTABLE, load_manifest

HEX40 = re.compile(r"^[0-9a-f]{40}$")


def test_every_file_is_listed_once_and_every_entry_has_its_file():
    doc = load_manifest()
    listed = [e["file"] for e in doc["entries"]]
    assert len(listed) == len(set(listed))
    on_disk = {p.name for p in CORPUS.iterdir()} - {"MANIFEST.yaml", "NOTICE.md"}
    assert on_disk == set(listed)
    assert len(listed) >= 45


def test_every_entry_names_source_commit_and_a_redistributable_license():
    doc = load_manifest()
    for e in doc["entries"]:
        src = e["source"]
        assert src["repo"].count("/") == 1 and src["path"], e["file"]
        assert HEX40.match(src["commit"]), e["file"]
        assert src["license"] in REDISTRIBUTABLE, e["file"]
        assert doc["licenses"][src["repo"]]["spdx"] == src["license"], e["file"]


def test_every_source_license_is_in_the_notice_file():
    notice = (CORPUS / "NOTICE.md").read_text(encoding="utf-8")
    for repo, lic in load_manifest()["licenses"].items():
        assert f"| {repo} | {lic['spdx']} |" in notice, repo


def test_every_expectation_is_checkable_and_explained():
    doc = load_manifest()
    for e in doc["entries"] + doc["reference_only"]:
        expect = e.get("expect", e)
        for j in JUDGMENTS:
            assert isinstance(expect[j], bool), (e.get("file") or e["id"], j)
        assert e["why"].strip() and e["evidence"].strip()
        assert expect["arm"].startswith("rejected") == expect["error"] or "placeholder" in e["why"], e.get("file")


def test_reference_only_roles_are_not_copied():
    doc = load_manifest()
    on_disk = {p.name for p in CORPUS.iterdir()}
    for e in doc["reference_only"]:
        assert e["not_copied"].strip(), e["id"]
        assert e["license"] not in REDISTRIBUTABLE or "bicep" in e["shape"] or "blueprint" in e["shape"], e["id"]
        assert not any(e["id"] in name for name in on_disk)
