"""rbactool/schemas/role.schema.json: a valid schema that agrees with the role model."""

from __future__ import annotations

import json

import jsonschema
import pytest
from test_validate_helpers import VDATA, az_role

from rbactool.builtins import load_builtin_roles
from rbactool.checks.schema import role_schema, schema_errors
from rbactool.model import SHAPES, to_dict


def test_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(role_schema())


@pytest.mark.parametrize("shape", SHAPES)
def test_every_builtin_role_written_by_the_model_passes_the_schema(shape):
    for role in load_builtin_roles().all():
        assert schema_errors(to_dict(role, shape)) == [], role.name


def test_az_role_definition_list_output_passes_the_schema(builtin_roles_export):
    items = json.loads(builtin_roles_export.read_text())
    assert len(items) == 928
    assert [e for item in items for e in schema_errors(item)] == []


def test_seed_roles_pass_the_schema():
    for path in (VDATA / "seeds").glob("*.json"):
        assert schema_errors(json.loads(path.read_text())) == [], path.name


def test_az_keys_are_case_insensitive_and_pointers_keep_the_spelling():
    doc = {"name": "x", "actions": ["a/b"], "assignablescopes": ["/subscriptions/x"]}
    assert schema_errors(doc) == []
    assert [p for p, _, _ in schema_errors({"name": "x", "ACTIONS": "a/b"})] == ["/ACTIONS"]


@pytest.mark.parametrize("doc, pointer", [
    (az_role(Actions="Microsoft.Compute/virtualMachines/read"), "/Actions"),
    (az_role(Actions=[1]), "/Actions/0"),
    (az_role(Colour="blue"), "/Colour"),
    (az_role(Name=None), ""),
    ({"Name": "x", "Permissions": [{"actions": [], "deny": []}]}, "/Permissions/0/deny"),
    ({"properties": {"permissions": []}}, "/properties"),
    ({"properties": {"roleName": "x", "permissions": [{"actions": "a"}]}}, "/properties/permissions/0/actions"),
    ({"roleName": "x", "assignableScopes": "/"}, "/assignableScopes"),
])
def test_schema_violations_point_at_the_field(doc, pointer):
    assert pointer in [p for p, _, _ in schema_errors(doc)]
