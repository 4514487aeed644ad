"""The ABAC condition evaluator used by `escalations` (rbactool.conditions)."""

import pytest

from rbactool.conditions import ConditionError, NotEvaluable, evaluate, parse_condition

WRITE = "Microsoft.Authorization/roleAssignments/write"
DEF = "@request[microsoft.authorization/roleassignments:roledefinitionid]"
TYPE = "@request[microsoft.authorization/roleassignments:principaltype]"
READER, OWNER = "acdd72a7-3385-48ef-bd42-f606fba81ae7", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
BACKUP = ("5e467623-bb1f-42f4-a55d-6e525e11384b", "a795c7a0-d4a2-40c1-ae25-d81f01202912")
# The docs' "constrain roles and principal types" example, verbatim.
DOCS = ("((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
        "(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals "
        "{5e467623-bb1f-42f4-a55d-6e525e11384b, a795c7a0-d4a2-40c1-ae25-d81f01202912} AND "
        "@Request[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase "
        "{'User', 'Group'})) AND ((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR "
        "(@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals "
        "{5e467623-bb1f-42f4-a55d-6e525e11384b, a795c7a0-d4a2-40c1-ae25-d81f01202912} AND "
        "@Resource[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase "
        "{'User', 'Group'}))")
EXCEPT = ("((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
          f"(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAllValues:GuidNotEquals "
          f"{{{OWNER}, 18d7d88d-d35e-4fb5-a5c3-7773c20a72d9, f58310d9-a9f6-439a-9e8d-f62e7b41a168}}))")


@pytest.mark.parametrize(("role", "ptype", "allowed"), [
    (BACKUP[0], "User", True), (BACKUP[1], "Group", True), (BACKUP[0], "group", True),
    (BACKUP[0], "ServicePrincipal", False), (OWNER, "User", False), (READER, "Group", False),
])
def test_the_documented_constrain_roles_and_types_example(role, ptype, allowed):
    assert evaluate(parse_condition(DOCS), WRITE, {DEF: [role], TYPE: [ptype]}) is allowed


@pytest.mark.parametrize(("role", "allowed"), [(OWNER, False), (READER, True),
                                                ("b24988ac-6180-42a0-ab88-20f7382dd24c", True)])
def test_allow_all_except_lets_every_other_role_through(role, allowed):
    assert evaluate(parse_condition(EXCEPT), WRITE, {DEF: [role]}) is allowed


def test_a_condition_for_other_actions_does_not_restrict_this_one():
    blob = ("((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'})) OR "
            "(@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'logs'))")
    assert evaluate(parse_condition(blob), WRITE, {}) is True
    with pytest.raises(NotEvaluable, match="containers:name"):
        evaluate(parse_condition(blob), "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read", {})


@pytest.mark.parametrize("text", ["", "(((", "@Request[x] GuidEquals", "ActionMatches{unquoted}",
                                  "a" * 9000, "(" * 40 + "ActionMatches{'x'}" + ")" * 40,
                                  "ActionMatches{'x'} AND AND", "@Request[x] Weird:GuidEquals {a}"])
def test_hostile_or_broken_conditions_are_refused_in_one_line(text):
    with pytest.raises(ConditionError) as e:
        parse_condition(text)
    assert "\n" not in str(e.value) and len(str(e.value)) < 300


def test_token_count_is_bounded():
    text = " OR ".join(["!x"] * 1100)
    with pytest.raises(ConditionError, match="tokens"):
        parse_condition(text)
