"""Helpers shared by the validator tests (a fixture catalog, role builders)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from rbactool.catalog import load_catalog
from rbactool.config import Config
from rbactool.validate import Report, validate_roles, validate_text

VDATA = Path(__file__).resolve().parent / "data" / "validate"
FIXTURE_CATALOG = VDATA / "catalog.json"
SUB = "11111111-2222-3333-4444-555555555555"
RG_SCOPE = f"/subscriptions/{SUB}/resourceGroups/rg1"
TODAY = dt.date(2026, 9, 1)  # fixture catalog snapshot: 2026-08-22


def fixture_catalog():
    return load_catalog(FIXTURE_CATALOG)


def fresh_catalog(tmp_dir: Path):
    """A catalog whose every source is fresh (so unknown namespaces are ERRORs)."""
    doc = json.loads(FIXTURE_CATALOG.read_text())
    doc["sources"] = [dict(s, fresh=True) for s in doc["sources"]]
    path = tmp_dir / "fresh-catalog.json"
    path.write_text(json.dumps(doc))
    return load_catalog(path)


def az_role(**fields) -> dict:
    """An az-shape role dict with sane defaults; pass fields to override (None removes a field)."""
    doc = {
        "Name": "Test role",
        "IsCustom": True,
        "Description": "a test role",
        "Actions": ["Microsoft.Compute/virtualMachines/read"],
        "NotActions": [],
        "DataActions": [],
        "NotDataActions": [],
        "AssignableScopes": [RG_SCOPE],
    }
    for k, v in fields.items():
        if v is None:
            doc.pop(k, None)
        else:
            doc[k] = v
    return doc


def report_for(doc, catalog=None, *, config: Config | None = None, today=TODAY, source="role.json") -> Report:
    text = doc if isinstance(doc, str) else json.dumps(doc)
    roles, findings = validate_text(text, source=source)
    return validate_roles(roles, catalog or fixture_catalog(), config or Config(), extra_findings=findings,
                          files=[source], today=today)


def codes(doc, catalog=None, **kw) -> set[str]:
    return report_for(doc, catalog, **kw).codes
