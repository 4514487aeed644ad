"""Role assignments through the real SDK over HTTPS (spec 3.4 and the section 4 table)."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.authorization.models import Permission, RoleAssignmentCreateParameters, RoleDefinition

READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
USER = "3333aaaa-0000-4000-8000-000000000001"
SP = "3333aaaa-0000-4000-8000-000000000002"
GROUP = "3333aaaa-0000-4000-8000-000000000003"
NAME = "4444aaaa-0000-4000-8000-000000000001"
NAME2 = "4444aaaa-0000-4000-8000-000000000002"


def reader_id(sub):
    return f"{sub}/providers/Microsoft.Authorization/roleDefinitions/{READER}"


def params(role_id, principal=USER, **kw):
    return RoleAssignmentCreateParameters(role_definition_id=role_id, principal_id=principal, **kw)


def code_of(excinfo):
    return excinfo.value.error.code if excinfo.value.error else None


@pytest.fixture
def directory(emulator):
    emulator.add_principal(USER, "User", "Ada")
    emulator.add_principal(SP, "ServicePrincipal", "app")
    emulator.add_principal(GROUP, "Group", "team")


def test_create_201_then_same_put_200(client, sub, emulator, directory):
    a = client.role_assignments.create(sub, NAME, params(reader_id(sub)))
    assert a.name == NAME and a.scope == sub and a.principal_type == "User"
    assert a.id == f"{sub}/providers/Microsoft.Authorization/roleAssignments/{NAME}"
    assert a.role_definition_id == reader_id(sub)
    assert a.created_by is None and a.updated_by == "00000000-0000-0000-0000-0000000000cc"
    again = client.role_assignments.create(sub, NAME, params(reader_id(sub), description="now described"))
    assert again.description == "now described"
    assert [r["status"] for r in emulator.requests(method="PUT")] == [201, 200]


def test_same_triple_under_another_name_is_role_assignment_exists(client, sub, directory):
    client.role_assignments.create(sub, NAME, params(reader_id(sub)))
    with pytest.raises(ResourceExistsError) as e:
        client.role_assignments.create(sub, NAME2, params(reader_id(sub)))
    assert e.value.status_code == 409 and code_of(e) == "RoleAssignmentExists"


def test_changing_an_existing_name_is_not_permitted(client, sub, directory):
    client.role_assignments.create(sub, NAME, params(reader_id(sub)))
    contributor = f"{sub}/providers/Microsoft.Authorization/roleDefinitions/{CONTRIBUTOR}"
    with pytest.raises(ResourceExistsError) as e:
        client.role_assignments.create(sub, NAME, params(contributor))
    assert code_of(e) == "RoleAssignmentUpdateNotPermitted"
    # names are tenant-wide: the same name at another scope is also an update
    with pytest.raises(ResourceExistsError) as e:
        client.role_assignments.create(f"{sub}/resourceGroups/rg", NAME, params(reader_id(sub)))
    assert code_of(e) == "RoleAssignmentUpdateNotPermitted"


def test_principal_not_found_without_type(client, sub):
    with pytest.raises(HttpResponseError) as e:
        client.role_assignments.create(sub, NAME, params(reader_id(sub), principal_type=None))
    assert type(e.value) is HttpResponseError
    assert e.value.status_code == 400 and code_of(e) == "PrincipalNotFound"


def test_unknown_principal_with_type_is_accepted_unless_strict(client, sub, emulator):
    a = client.role_assignments.create(sub, NAME, params(reader_id(sub), principal_type="ServicePrincipal"))
    assert a.principal_type == "ServicePrincipal"
    emulator.configure(strict_principals=True)
    with pytest.raises(HttpResponseError) as e:
        client.role_assignments.create(sub, NAME2, params(reader_id(sub), principal=SP, principal_type="User"))
    assert code_of(e) == "PrincipalNotFound"


def test_sdk_default_user_type_on_a_service_principal(client, sub, directory):
    # RoleAssignmentCreateParameters defaults principal_type to "User"
    with pytest.raises(HttpResponseError) as e:
        client.role_assignments.create(sub, NAME, params(reader_id(sub), principal=SP))
    assert e.value.status_code == 400 and code_of(e) == "UnmatchedPrincipalType"
    a = client.role_assignments.create(sub, NAME, params(reader_id(sub), principal=SP, principal_type="ServicePrincipal"))
    assert a.principal_type == "ServicePrincipal"
    g = client.role_assignments.create(sub, NAME2, params(reader_id(sub), principal=GROUP, principal_type=None))
    assert g.principal_type == "Group"


@pytest.mark.parametrize(
    ("name", "body", "code"),
    [
        ("not-a-guid", {}, "InvalidRoleAssignmentId"),
        (NAME, {"principal_id": "my-app-id"}, "InvalidPrincipalId"),
        (NAME, {"role_definition_id": "/subscriptions/x/providers/Microsoft.Authorization/roleDefinitions/oops"},
         "InvalidRoleDefinitionId"),
        (NAME, {"role_definition_id": "/providers/Microsoft.Authorization/roleDefinitions/"
                                      "99999999-9999-4999-8999-999999999999"}, "RoleDefinitionDoesNotExist"),
    ],
)
def test_put_validation_400(client, sub, directory, name, body, code):
    p = {"role_definition_id": reader_id(sub), "principal_id": USER, **body}
    with pytest.raises(HttpResponseError) as e:
        client.role_assignments.create(sub, name, RoleAssignmentCreateParameters(**p))
    assert type(e.value) is HttpResponseError
    assert e.value.status_code == 400 and code_of(e) == code


def test_scope_not_assignable(client, sub, directory):
    rg = f"{sub}/resourceGroups/rg1"
    rd = client.role_definitions.create_or_update(rg, "5b0c1d5e-1111-4a4a-8b8b-000000000001", RoleDefinition(
        role_name="rg-only", permissions=[Permission(actions=["Microsoft.Storage/storageAccounts/read"])],
        assignable_scopes=[rg]))
    with pytest.raises(HttpResponseError) as e:
        client.role_assignments.create(sub, NAME, params(rd.id))
    assert code_of(e) == "RoleAssignmentScopeNotAssignableToRoleDefinition"
    a = client.role_assignments.create(f"{rg}/providers/Microsoft.Storage/storageAccounts/sa1", NAME, params(rd.id))
    assert a.scope.endswith("/storageAccounts/sa1")


def test_get_delete_and_by_id(client, sub, directory):
    a = client.role_assignments.create(sub, NAME, params(reader_id(sub)))
    assert client.role_assignments.get(sub, NAME).principal_id == USER
    assert client.role_assignments.get_by_id(a.id).name == NAME
    with pytest.raises(ResourceNotFoundError) as e:
        client.role_assignments.get(f"{sub}/resourceGroups/rg", NAME)
    assert code_of(e) == "RoleAssignmentNotFound"
    deleted = client.role_assignments.delete(sub, NAME)
    assert deleted.name == NAME
    assert client.role_assignments.delete(sub, NAME) is None
    with pytest.raises(ResourceNotFoundError) as e:
        client.role_assignments.get(sub, NAME)
    assert code_of(e) == "RoleAssignmentNotFound"
    b = client.role_assignments.create_by_id(a.id, params(reader_id(sub)))
    assert b.name == NAME
    assert client.role_assignments.delete_by_id(a.id).name == NAME
    assert client.role_assignments.delete_by_id(a.id) is None


def test_root_scope_assignment(client, directory):
    a = client.role_assignments.create("/", NAME, params(f"/providers/Microsoft.Authorization/roleDefinitions/{READER}"))
    assert a.scope == "/" and a.id == f"/providers/Microsoft.Authorization/roleAssignments/{NAME}"


def test_lists_and_filters(client, sub, directory):
    rg = f"{sub}/resourceGroups/rg1"
    res = f"{rg}/providers/Microsoft.Web/sites/site1"
    client.role_assignments.create(sub, NAME, params(reader_id(sub)))
    client.role_assignments.create(rg, NAME2, params(reader_id(sub), principal=SP, principal_type="ServicePrincipal"))
    n3 = "4444aaaa-0000-4000-8000-000000000003"
    client.role_assignments.create(res, n3, params(reader_id(sub), principal=GROUP, principal_type="Group"))
    names = lambda it: sorted(a.name for a in it)  # noqa: E731
    assert names(client.role_assignments.list_for_subscription()) == sorted([NAME, NAME2, n3])
    assert names(client.role_assignments.list_for_scope(sub, filter="atScope()")) == [NAME]
    assert names(client.role_assignments.list_for_scope(rg, filter="atScope()")) == sorted([NAME, NAME2])
    assert names(client.role_assignments.list_for_resource_group("rg1")) == sorted([NAME, NAME2, n3])
    assert names(client.role_assignments.list_for_resource("rg1", "Microsoft.Web", "sites", "site1")) == sorted(
        [NAME, NAME2, n3])
    assert names(client.role_assignments.list_for_subscription(filter=f"principalId eq '{SP}'")) == [NAME2]
    assert names(client.role_assignments.list_for_scope(sub, filter=f"assignedTo('{GROUP}')")) == [n3]
    assert names(client.role_assignments.list_for_scope(rg, filter=f"atScope() and assignedTo('{USER}')")) == [NAME]
    listed = next(iter(client.role_assignments.list_for_scope(rg, filter="atScope()")))
    assert listed.role_definition_id.startswith(f"{sub}/providers/")


def test_unknown_filter_is_400(client, sub):
    with pytest.raises(HttpResponseError) as e:
        list(client.role_assignments.list_for_subscription(filter="roleName eq 'x'"))
    assert code_of(e) == "InvalidFilter"


def test_assignment_limit(client, sub, emulator):
    emulator.configure(max_assignments_per_subscription=1)
    client.role_assignments.create(sub, NAME, params(reader_id(sub)))
    with pytest.raises(HttpResponseError) as e:
        client.role_assignments.create(sub, NAME2, params(reader_id(sub), principal=SP))
    assert code_of(e) == "RoleAssignmentLimitExceeded"


def test_management_group_roles(client, sub, emulator):
    mg = "/providers/Microsoft.Management/managementGroups/platform"
    rd = client.role_definitions.create_or_update(mg, "5b0c1d5e-1111-4a4a-8b8b-000000000003", RoleDefinition(
        role_name="mg-role", permissions=[Permission(
            actions=["Microsoft.Storage/storageAccounts/read"],
            data_actions=["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"])],
        assignable_scopes=[mg]))
    # without a configured hierarchy every subscription counts as inside the group
    assert client.role_assignments.create(sub, NAME, params(rd.id, principal_type="User")).scope == sub
    with pytest.raises(HttpResponseError) as e:
        client.role_assignments.create(mg, NAME2, params(rd.id, principal_type="User"))
    assert code_of(e) == "InvalidCreateRoleAssignmentRequest"
    emulator.set_management_group("platform", ["99999999-9999-4999-8999-999999999999"])
    with pytest.raises(HttpResponseError) as e:
        client.role_assignments.create(sub, NAME2, params(rd.id, principal=SP, principal_type="User"))
    assert code_of(e) == "RoleAssignmentScopeNotAssignableToRoleDefinition"


def test_encoded_path_segments(client, sub, directory):
    rg = f"{sub}/resourceGroups/rg(1)"
    a = client.role_assignments.create(rg, NAME, params(reader_id(sub)))
    assert a.scope == rg
    assert client.role_assignments.get(rg, NAME).name == NAME
