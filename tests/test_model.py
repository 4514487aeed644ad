import dataclasses
import json

import pytest

from conftest import DATA
from rbactool import model
from rbactool.errors import RoleFormatError


def test_reads_the_seed_roles_as_az_shape():
    role = model.load_role(DATA / "seeds" / "custom-role-for-scoring.json")
    assert role.shape == model.SHAPE_AZ
    assert role.name == "Custom role for scoring - online endpoint"
    assert role.is_custom is True
    assert role.actions == ("Microsoft.MachineLearningServices/workspaces/onlineEndpoints/*/action",)
    assert role.not_actions == ()
    assert role.assignable_scopes == ("/subscriptions/<subscriptionId>/resourcegroups/<resourceGroupName>",)


def test_az_keys_are_case_insensitive():
    role = model.parse_roles(json.dumps({"name": "r", "actions": ["a/b/read"], "assignablescopes": ["/x"]}))[0]
    assert role.name == "r" and role.actions == ("a/b/read",) and role.assignable_scopes == ("/x",)


def test_az_role_definition_list_export_loads_928_roles(builtin_roles_export):
    roles = model.load_roles(builtin_roles_export)
    assert len(roles) == 928
    assert {r.shape for r in roles} == {model.SHAPE_AZ_LIST}
    assert all(not r.is_custom for r in roles)
    multi = [r for r in roles if len(r.permissions) > 1]
    assert len(multi) == 16
    assert any(p.condition for r in roles for p in r.permissions)


@pytest.mark.parametrize("shape", model.SHAPES)
def test_round_trip_of_every_builtin_role_in_every_shape(shape, builtin_roles_export):
    for role in model.load_roles(builtin_roles_export):
        again = model.parse_roles(model.dumps_role(role, shape))[0]
        assert again == role.deduplicated(), role.name
        assert again.shape == shape


def test_list_shape_rewrites_the_export_exactly_where_it_has_no_duplicates(builtin_roles_export):
    raw = json.loads(builtin_roles_export.read_text())
    written = json.loads(model.dumps_roles(model.load_roles(builtin_roles_export)))
    same = sum(a == b for a, b in zip(raw, written, strict=True))
    with_duplicates = sum(
        any(len(v) != len({s.lower() for s in v}) for p in r["permissions"] for k, v in p.items() if isinstance(v, list))
        for r in raw
    )
    assert same == len(raw) - with_duplicates
    assert with_duplicates < 30


def test_arm_shape_round_trip_keeps_ids_condition_and_metadata():
    doc = {
        "id": "/subscriptions/11111111-2222-3333-4444-555555555555/providers/Microsoft.Authorization/roleDefinitions/"
        "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "name": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": "r",
            "description": "d",
            "type": "CustomRole",
            "permissions": [
                {"actions": ["A.B/c/read"], "notActions": [], "dataActions": ["A.B/c/d/read"], "notDataActions": [],
                 "condition": "x", "conditionVersion": "2.0"},
                {"actions": ["A.B/e/read"], "notActions": [], "dataActions": [], "notDataActions": []},
            ],
            "assignableScopes": ["/subscriptions/11111111-2222-3333-4444-555555555555"],
            "createdOn": "2024-01-01T00:00:00Z",
            "updatedBy": "someone",
        },
    }
    role = model.parse_roles(json.dumps(doc))[0]
    assert role.shape == model.SHAPE_ARM
    assert role.role_id == "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    assert model.to_arm_dict(role) == doc
    for shape in (model.SHAPE_ARM, model.SHAPE_AZ_LIST):
        assert model.parse_roles(model.dumps_role(role, shape))[0] == role
    # the az CLI shape has no place for createdOn/updatedBy; everything else survives
    az = model.parse_roles(model.dumps_role(role, model.SHAPE_AZ))[0]
    assert az == dataclasses.replace(role, created_on=None, updated_by=None)


def test_az_writer_is_canonical_and_deduplicates_case_insensitively():
    role = model.parse_roles(json.dumps({
        "AssignableScopes": ["/s"], "Actions": ["A.B/x/read", "a.b/X/READ", "A.B/y/read"], "Name": "n",
    }))[0]
    text = model.dumps_role(role)
    assert text.endswith("}\n") and '\n  "Name"' in text
    doc = json.loads(text)
    assert list(doc) == ["Name", "IsCustom", "Description", "Actions", "NotActions", "DataActions",
                         "NotDataActions", "AssignableScopes"]
    assert doc["Actions"] == ["A.B/x/read", "A.B/y/read"]
    assert model.dumps_role(model.parse_roles(text)[0]) == text


def test_pointers_follow_the_source_shape():
    az = model.parse_roles(json.dumps({"Name": "n", "Actions": ["a", "b"], "AssignableScopes": ["/s"]}))[0]
    assert az.pointer(0, "actions", 1) == "/Actions/1"
    arm = model.parse_roles(json.dumps({"properties": {"roleName": "n", "permissions": [{"actions": ["a"]}]}}))[0]
    assert arm.pointer(0, "not_actions", 0) == "/properties/permissions/0/notActions/0"
    listed = model.parse_roles(json.dumps([{"roleName": "n", "permissions": [{"actions": ["a"]}]}] * 2))
    assert listed[1].pointer(0, "actions", 0) == "/1/permissions/0/actions/0"
    az_items = model.parse_roles(json.dumps([{"Name": "n", "Actions": ["a", "b"], "AssignableScopes": ["/s"]}] * 2))
    assert az_items[1].shape == model.SHAPE_AZ
    assert az_items[1].pointer(0, "actions", 1) == "/1/Actions/1"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n",
        "not json",
        "42",
        '"a string"',
        "null",
        '{"Name": "n", "Actions": "Microsoft.Compute/*/read"}',
        '{"Name": "n", "Actions": [1]}',
        '{"Name": "n", "Action": ["x"]}',
        '{"Name": "n", "name": "m"}',
        '{"Actions": []}',
        '{"Name": "n", "Actions": [], "Permissions": []}',
        '{"properties": {"roleName": "n", "permissions": "x"}}',
        '{"properties": {"roleName": "n", "type": "Weird"}}',
        "[1, 2]",
    ],
)
def test_bad_role_documents_raise_one_line_errors(text):
    with pytest.raises(RoleFormatError) as e:
        model.parse_roles(text, source="f.json")
    assert "\n" not in str(e.value)
    assert str(e.value).startswith("f.json")


def test_a_string_is_custom_is_read_as_a_custom_role_and_remembered():
    # the az CLI never sends IsCustom: it always creates a custom role (IS_CUSTOM_NOT_BOOLEAN warns)
    [role] = model.parse_roles('{"Name": "n", "IsCustom": "false", "Actions": ["a/b"]}', source="f.json")
    assert role.is_custom and role.is_custom_written == "false"
    [plain] = model.parse_roles('{"Name": "n", "IsCustom": true, "Actions": ["a/b"]}', source="f.json")
    assert plain.is_custom_written is None and plain == role


def test_huge_file_is_refused_before_parsing(tmp_path):
    big = tmp_path / "big.json"
    with big.open("w") as f:
        f.write('{"Name": "n", "Description": "')
        f.write("x" * (50 * 1024 * 1024))
        f.write('"}')
    with pytest.raises(RoleFormatError, match="limit"):
        model.load_roles(big)
