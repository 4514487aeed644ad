"""Differential test: the catalog's indexed wildcard expansion against a naive full scan."""

from __future__ import annotations

import random
import re

import pytest

from rbactool.catalog import load_catalog


@pytest.fixture(scope="module")
def universe():
    catalog = load_catalog(None)
    ops = [op for p in catalog.providers() for op in catalog.expand(f"{p.name}/*")]
    return catalog, ops


def _names_by_kind(ops):
    return {kind: [o.name.lower() for o in ops if o.is_data_action == kind] for kind in (False, True)}


def _naive(names, pattern, data_action):
    """Full scan over every name, ARM's rule written independently of rbactool.catalog."""
    body = ".*".join(re.escape(part) for part in pattern.lower().split("*"))
    rx = re.compile(f"{body}\\Z", re.DOTALL)
    kinds = (False, True) if data_action is None else (data_action,)
    return {(name, kind) for kind in kinds for name in filter(rx.match, names[kind])}


def _random_pattern(rng: random.Random, ops) -> str:
    name = rng.choice(ops).name
    r = rng.random()
    if r < 0.1:
        return name  # exact
    if r < 0.15:
        return "*" + name[rng.randrange(len(name)):]  # leading wildcard: may span namespaces
    i = rng.randrange(len(name) + 1)
    j = rng.randrange(i, min(len(name), i + 40) + 1)
    pat = name[:i] + "*" + name[j:]
    if rng.random() < 0.3:  # case noise: matching is case-insensitive
        pat = "".join(c.upper() if rng.random() < 0.3 else c for c in pat)
    return pat


SAMPLES, PARTS = 2000, 4


@pytest.fixture(scope="module")
def samples(universe):
    """The 2,000 (pattern, data_action) samples, drawn once in one sequence from one seed."""
    _, ops = universe
    rng = random.Random(20261123)
    out = []
    for _ in range(SAMPLES):
        pattern = _random_pattern(rng, ops)
        out.append((pattern, rng.choice((None, False, True))))
    return out


# The samples are checked in PARTS tests of SAMPLES / PARTS each, so that pytest-xdist can run them
# side by side; together they check every sample.
@pytest.mark.parametrize("part", range(PARTS))
def test_indexed_expansion_matches_naive_scan(universe, samples, part):
    catalog, ops = universe
    names = _names_by_kind(ops)
    checked = 0
    for pattern, data in samples[part::PARTS]:
        got = {(o.name.lower(), o.is_data_action) for o in catalog.expand(pattern, data_action=data)}
        assert got == _naive(names, pattern, data), pattern
        checked += 1
    assert len(samples) == 2000 and checked == 2000 // PARTS


def test_universe_is_the_whole_catalog(universe):
    catalog, ops = universe
    assert len(ops) == len(catalog)
