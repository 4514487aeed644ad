"""rbactool agrees with the outcome Azure would give on real-world custom roles (issue 13 item 7).

Each entry of tests/data/realworld/MANIFEST.yaml records, judged without running rbactool, whether
ARM accepts the role (`error`) and whether it grants a risk (`security`). Every file goes through the
CLI (`rbactool validate --format json FILE`); an entry may disagree only if the manifest explains why
(`known_disagreement`), and the agreement over the whole corpus must stay at or above 95 % for each
judgment, explained disagreements included."""

from __future__ import annotations

import pytest
from realworld_corpus import CORPUS, JUDGMENTS, MIN_AGREEMENT, confusion, disagreements, entries, verdict

ENTRIES = entries()


def _validate(run, entry):
    result = run("validate", "--format", "json", CORPUS / entry["file"])
    assert result.exit_code in (0, 1, 3), (entry["file"], result.exit_code, result.stderr)
    return verdict(result.exit_code, result.stdout)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_entry_agrees_with_azure(run, entry):
    got = _validate(run, entry)
    problems = disagreements(entry, got)
    if entry.get("known_disagreement"):
        return  # explained in the manifest; still counted by test_corpus_agreement
    assert not problems, f"{entry['file']}: {problems} (why: {entry['why']})"


def test_corpus_agreement(run):
    pairs = {j: [] for j in JUDGMENTS}
    unexplained = []
    for entry in ENTRIES:
        got = _validate(run, entry)
        for j in JUDGMENTS:
            pairs[j].append((entry["expect"][j], got[j]))
        if disagreements(entry, got) and not entry.get("known_disagreement"):
            unexplained.append(entry["file"])
    assert not unexplained
    for j in JUDGMENTS:
        assert confusion(pairs[j])["agreement"] >= MIN_AGREEMENT, (j, confusion(pairs[j]))
