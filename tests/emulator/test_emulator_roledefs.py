"""Role definitions through the real SDK over HTTPS (spec 3.3 and the section 4 table)."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.authorization.models import Permission, RoleAssignmentCreateParameters, RoleDefinition

READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
ROLE_ID = "5b0c1d5e-1111-4a4a-8b8b-000000000001"
OTHER_ID = "5b0c1d5e-1111-4a4a-8b8b-000000000002"
PRINCIPAL = "3333aaaa-0000-4000-8000-000000000001"


def role(sub, name="rbactool-test-reader", actions=("Microsoft.Storage/storageAccounts/read",), data=(),
         scopes=None, **kw):
    return RoleDefinition(
        role_name=name, description="test role",
        permissions=[Permission(actions=list(actions), not_actions=[], data_actions=list(data), not_data_actions=[])],
        assignable_scopes=scopes if scopes is not None else [sub], **kw,
    )


def code_of(excinfo):
    return excinfo.value.error.code if excinfo.value.error else None


def test_create_returns_201_resource(client, sub, emulator):
    rd = client.role_definitions.create_or_update(sub, ROLE_ID, role(sub))
    assert rd.name == ROLE_ID
    assert rd.id == f"{sub}/providers/Microsoft.Authorization/roleDefinitions/{ROLE_ID}"
    assert rd.type == "Microsoft.Authorization/roleDefinitions"
    assert rd.role_type == "CustomRole"
    assert rd.permissions[0].not_actions == [] and rd.permissions[0].data_actions == []
    assert rd.created_by is None
    assert rd.updated_by == "00000000-0000-0000-0000-0000000000cc"
    put = emulator.requests(method="PUT")[-1]
    assert put["status"] == 201
    assert "authorization" not in put["headers"]


def test_update_is_201_and_keeps_created_on(client, sub):
    first = client.role_definitions.create_or_update(sub, ROLE_ID, role(sub))
    second = client.role_definitions.create_or_update(sub, ROLE_ID, role(sub, actions=["Microsoft.Storage/*/read"]))
    assert second.created_on == first.created_on
    assert second.permissions[0].actions == ["Microsoft.Storage/*/read"]


def test_get_get_by_id_and_builtins(client, sub):
    client.role_definitions.create_or_update(sub, ROLE_ID, role(sub))
    assert client.role_definitions.get(sub, ROLE_ID).role_name == "rbactool-test-reader"
    full = f"{sub}/providers/Microsoft.Authorization/roleDefinitions/{ROLE_ID}"
    assert client.role_definitions.get_by_id(full).name == ROLE_ID
    reader = client.role_definitions.get_by_id(f"/providers/Microsoft.Authorization/roleDefinitions/{READER}")
    assert reader.role_name == "Reader" and reader.role_type == "BuiltInRole"
    assert reader.id == f"/providers/Microsoft.Authorization/roleDefinitions/{READER}"
    assert reader.assignable_scopes == ["/"] and reader.created_by is None
    at_sub = client.role_definitions.get(sub, OWNER)
    assert at_sub.id == f"{sub}/providers/Microsoft.Authorization/roleDefinitions/{OWNER}"


def test_get_unknown_is_404(client, sub):
    with pytest.raises(ResourceNotFoundError) as e:
        client.role_definitions.get(sub, OTHER_ID)
    assert code_of(e) == "RoleDefinitionDoesNotExist"
    assert e.value.status_code == 404


def test_list_filters(client, sub):
    client.role_definitions.create_or_update(sub, ROLE_ID, role(sub))
    by_name = list(client.role_definitions.list(sub, filter="roleName eq 'RBACTOOL-test-READER'"))
    assert [r.name for r in by_name] == [ROLE_ID]
    assert [r.role_name for r in client.role_definitions.list(sub, filter="roleName eq 'reader'")] == ["Reader"]
    custom = list(client.role_definitions.list(sub, filter="type eq 'CustomRole'"))
    assert [r.name for r in custom] == [ROLE_ID]
    builtins = list(client.role_definitions.list(sub, filter="type eq 'BuiltInRole'"))
    assert len(builtins) == 928 and all(r.role_type == "BuiltInRole" for r in builtins)
    everything = list(client.role_definitions.list(sub))
    assert len(everything) == 929 and everything[0].name == ROLE_ID


def test_list_visibility_by_scope(client, sub):
    rg = f"{sub}/resourceGroups/rg1"
    client.role_definitions.create_or_update(rg, ROLE_ID, role(sub, scopes=[rg]))
    custom = "type eq 'CustomRole'"
    # at the subscription, roles assignable to resource groups inside it are listed too
    assert [r.name for r in client.role_definitions.list(sub, filter=custom)] == [ROLE_ID]
    assert [r.name for r in client.role_definitions.list(rg, filter=custom)] == [ROLE_ID]
    assert list(client.role_definitions.list(f"{sub}/resourceGroups/other", filter=custom)) == []
    assert list(client.role_definitions.list("/", filter=custom)) == []
    assert [r.name for r in client.role_definitions.list("/", filter="atScopeAndBelow()")][:1] == [ROLE_ID]


def test_quote_in_role_name_filter(client, sub):
    client.role_definitions.create_or_update(sub, ROLE_ID, role(sub, name="O'Brien reader"))
    got = list(client.role_definitions.list(sub, filter="roleName eq 'O''Brien reader'"))
    assert [r.name for r in got] == [ROLE_ID]


def test_delete_200_then_204(client, sub):
    client.role_definitions.create_or_update(sub, ROLE_ID, role(sub))
    deleted = client.role_definitions.delete(sub, ROLE_ID)
    assert deleted.name == ROLE_ID
    assert client.role_definitions.delete(sub, ROLE_ID) is None


@pytest.mark.parametrize(
    ("rid", "kwargs", "code"),
    [
        ("not-a-guid", {}, "InvalidRoleDefinitionId"),
        (ROLE_ID, {"name": ""}, "RoleDefinitionNameNullOrEmpty"),
        (ROLE_ID, {"role_type": "BuiltInRole"}, "InvalidRoleDefinitionType"),
        (ROLE_ID, {"scopes": []}, "MissingAssignableScopes"),
        (ROLE_ID, {"scopes": ["Invalid_Scope"]}, "LinkedInvalidPropertyId"),
        (ROLE_ID, {"scopes": ["/"]}, "InvalidAssignableScope"),
        (ROLE_ID, {"scopes": ["/providers/Microsoft.Management/managementGroups/a",
                              "/providers/Microsoft.Management/managementGroups/b"]}, "InvalidAssignableScope"),
        (ROLE_ID, {"actions": ["Microsoft.Storage/storageAccounts/frobnicate"]}, "InvalidActionOrNotAction"),
        (ROLE_ID, {"actions": ["Contoso.Nothing/things/read"]}, "InvalidActionOrNotAction"),
        (ROLE_ID, {"data": ["Microsoft.Storage/storageAccounts/read"]}, "InvalidDataActionOrNotDataAction"),
    ],
)
def test_put_validation_400(client, sub, rid, kwargs, code):
    with pytest.raises(HttpResponseError) as e:
        client.role_definitions.create_or_update(sub, rid, role(sub, **kwargs))
    assert type(e.value) is HttpResponseError
    assert e.value.status_code == 400
    assert code_of(e) == code


def test_valid_wildcards_and_data_actions(client, sub):
    rd = client.role_definitions.create_or_update(sub, ROLE_ID, role(
        sub, actions=["*/read", "Microsoft.Compute/*", "Microsoft.Network/*/read"],
        data=["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"]))
    assert rd.permissions[0].data_actions == ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"]


def test_all_data_actions_is_accepted(client, sub):
    # `*` in DataActions is every data action: Microsoft documents `*` in all four lists, and issue 13
    # records ARM accepting it (the validator reports ALL_DATA_ACTIONS, a SECURITY_WARNING)
    rd = client.role_definitions.create_or_update(sub, ROLE_ID, role(sub, data=["*"]))
    assert rd.permissions[0].data_actions == ["*"]


def test_extra_operations_extend_the_catalog(client, sub, emulator):
    emulator.add_operations([{"name": "Contoso.Widgets/widgets/read", "isDataAction": False}])
    rd = client.role_definitions.create_or_update(sub, ROLE_ID, role(sub, actions=["Contoso.Widgets/widgets/read"]))
    assert rd.name == ROLE_ID


def test_builtin_guid_conflict(client, sub):
    with pytest.raises(ResourceExistsError) as e:
        client.role_definitions.create_or_update(sub, READER, role(sub))
    assert code_of(e) == "RoleDefinitionExists" and e.value.status_code == 409


@pytest.mark.parametrize("name", ["rbactool-test-reader", "RBACTOOL-TEST-READER", "reader"])
def test_same_name_conflict(client, sub, name):
    client.role_definitions.create_or_update(sub, ROLE_ID, role(sub))
    with pytest.raises(ResourceExistsError) as e:
        client.role_definitions.create_or_update(sub, OTHER_ID, role(sub, name=name))
    assert code_of(e) == "RoleDefinitionWithSameNameExists"


def test_delete_with_assignments_is_409(client, sub):
    rd = client.role_definitions.create_or_update(sub, ROLE_ID, role(sub))
    client.role_assignments.create(sub, "4444aaaa-0000-4000-8000-000000000001", RoleAssignmentCreateParameters(
        role_definition_id=rd.id, principal_id=PRINCIPAL, principal_type="User"))
    with pytest.raises(ResourceExistsError) as e:
        client.role_definitions.delete(sub, ROLE_ID)
    assert code_of(e) == "RoleDefinitionHasAssignments"


def test_delete_builtin_is_refused(client, sub):
    with pytest.raises(HttpResponseError) as e:
        client.role_definitions.delete(sub, READER)
    assert e.value.status_code == 403


def test_custom_role_limit(client, sub, emulator):
    emulator.configure(max_custom_roles=1)
    client.role_definitions.create_or_update(sub, ROLE_ID, role(sub))
    with pytest.raises(HttpResponseError) as e:
        client.role_definitions.create_or_update(sub, OTHER_ID, role(sub, name="second"))
    assert code_of(e) == "RoleDefinitionLimitExceeded"
