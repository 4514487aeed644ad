from azure.mgmt.authorization.models import RoleAssignmentCreateParameters, RoleDefinition

READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


def test_smoke(client, sub, emulator):
    r = client.role_definitions.get(sub, READER)
    assert r.role_name == "Reader"
    rd = client.role_definitions.create_or_update(
        sub, "11111111-0000-0000-0000-000000000001",
        RoleDefinition(role_name="x", description="d", permissions=[{"actions": ["Microsoft.Storage/storageAccounts/read"]}],
                       assignable_scopes=[sub]),
    )
    assert rd.role_type == "CustomRole"
    a = client.role_assignments.create(sub, "22222222-0000-0000-0000-000000000001", RoleAssignmentCreateParameters(
        role_definition_id=rd.id, principal_id="33333333-0000-0000-0000-000000000001"))
    assert a.principal_type == "User"
    assert len(list(client.role_assignments.list_for_subscription())) == 1
