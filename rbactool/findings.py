"""Findings: what the validator reports, and the registry of every finding code.

A finding is a stable code plus context. Its type (ERROR, SECURITY_WARNING, WARNING,
SUGGESTION), title and explanation live in ``RULES``; code never spells a type. Codes are
UPPER_SNAKE, stable forever and never reused: to retire a rule, keep its entry and mark it
``retired=True``. Creating a finding with a code that is not registered is a programming
error (``ValueError``), so a typo in a check cannot slip through.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from rbactool.readers import clip_pointer, shorten

ERROR = "ERROR"
SECURITY_WARNING = "SECURITY_WARNING"
WARNING = "WARNING"
SUGGESTION = "SUGGESTION"

#: Finding types, most serious first.
TYPES = (ERROR, SECURITY_WARNING, WARNING, SUGGESTION)
_RANK = {ERROR: 4, SECURITY_WARNING: 3, WARNING: 2, SUGGESTION: 1}

#: ``--fail-on`` values: a finding type in CLI spelling, or ``none`` (never fail on findings).
FAIL_ON_CHOICES = ("error", "security-warning", "warning", "suggestion", "none")


def type_rank(finding_type: str) -> int:
    return _RANK[finding_type]


def parse_type(text: str) -> str:
    """``security-warning`` / ``SECURITY_WARNING`` -> ``SECURITY_WARNING``; ValueError otherwise."""
    t = text.strip().upper().replace("-", "_")
    if t not in _RANK:
        spelled = ", ".join(x.lower().replace("_", "-") for x in TYPES)
        raise ValueError(f"unknown finding type {text!r} (one of {spelled})")
    return t


def at_or_above(finding_type: str, threshold: str | None) -> bool:
    """Whether a finding of *finding_type* reaches a ``--fail-on`` threshold (None = never)."""
    return threshold is not None and _RANK[finding_type] >= _RANK[threshold]


#: What a rule's type rests on (``Rule.basis``). An ERROR rests on ARM_REJECTS or CANNOT_WORK only
#: (or is the validator's own failure); a SECURITY_WARNING on SECURITY; the rest are WARNINGs or
#: SUGGESTIONs. ``tests/test_findings.py`` holds every rule to this.
ARM_REJECTS = "ARM rejects"
CANNOT_WORK = "role cannot work"
SECURITY = "security judgment"
UNVERIFIED = "ARM may reject (catalog stale)"
LIKELY_MISTAKE = "likely mistake (ARM accepts)"
STYLE = "style"
VALIDATOR = "validator"
BASES = (ARM_REJECTS, CANNOT_WORK, SECURITY, UNVERIFIED, LIKELY_MISTAKE, STYLE, VALIDATOR)
#: The bases each finding type may rest on.
TYPE_BASES = {
    ERROR: (ARM_REJECTS, CANNOT_WORK, VALIDATOR),
    SECURITY_WARNING: (SECURITY,),
    WARNING: (UNVERIFIED, LIKELY_MISTAKE, CANNOT_WORK, VALIDATOR, SECURITY),
    SUGGESTION: (STYLE, LIKELY_MISTAKE, SECURITY),
}


@dataclass(frozen=True)
class Rule:
    code: str
    type: str
    title: str
    explanation: str
    group: str
    retired: bool = False
    #: What the type rests on (one of ``BASES``), and the evidence in one line: the ARM error code,
    #: the documented limit, or the judgment, with a source where there is one.
    basis: str = ""
    based_on: str = ""


@dataclass(frozen=True)
class Location:
    """Where a finding is: the file, the role, a JSON pointer in the file, the offending value."""

    file: str | None = None
    role: str | None = None
    pointer: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class Finding:
    code: str
    type: str
    message: str
    location: Location = field(default_factory=Location)
    #: Concrete operations the finding is about (risk findings: the granted operations).
    operations: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return RULES[self.code].title

    def sort_key(self) -> tuple:
        loc = self.location
        return (
            loc.file or "",
            _pointer_key(loc.pointer),
            loc.role or "",
            -_RANK[self.type],
            self.code,
            loc.value or "",
            self.message,
        )

    def with_location(self, **changes: str | None) -> Finding:
        return replace(self, location=replace(self.location, **changes))


def _pointer_key(pointer: str | None) -> tuple:
    if not pointer:
        return ()
    # Numeric segments sort numerically, so /Actions/10 comes after /Actions/2.
    return tuple((0, int(s), "") if s.isdigit() else (1, 0, s) for s in pointer.split("/")[1:])


#: Longest message, pointer, and role name or value a finding carries; longer ones are cut.
MAX_MESSAGE = 2000
MAX_POINTER = 200
MAX_VALUE = 4096


def make_finding(
    code: str,
    message: str,
    *,
    file: str | None = None,
    role: str | None = None,
    pointer: str | None = None,
    value: str | None = None,
    operations: Iterable[str] = (),
) -> Finding:
    """Create a finding; its type comes from the registry. Unknown code -> ValueError."""
    rule = RULES.get(code)
    if rule is None:
        raise ValueError(f"unknown finding code {code!r}: register it in rbactool.findings.RULES")
    if rule.retired:
        raise ValueError(f"finding code {code!r} is retired and must not be emitted")
    # A hostile file's megabyte-long key, value or name is not echoed whole (rbactool.readers)
    message = shorten(message, MAX_MESSAGE)
    if pointer is not None and len(pointer) > MAX_POINTER:
        pointer = clip_pointer(pointer, MAX_POINTER)
    if role is not None and len(role) > MAX_VALUE:
        role = shorten(role, MAX_VALUE)
    if value is not None and len(value) > MAX_VALUE:
        value = shorten(value, MAX_VALUE)
    return Finding(code, rule.type, message, Location(file, role, pointer, value), tuple(operations))


def sort_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(sorted(findings, key=Finding.sort_key))


# --------------------------------------------------------------------------- the registry

_RULE_ROWS: tuple[tuple[str, str, str, str, str], ...] = (
    # (code, type, group, title, explanation)
    # ---- structure
    ("SCHEMA_VIOLATION", ERROR, "structure", "Role document does not match the role-definition schema",
     "The document is valid JSON but not a role definition in any shape rbactool reads (az CLI, ARM "
     "resource, or the list printed by `az role definition list`): a field has the wrong type, a "
     "required field is missing, or a field is unknown. Azure would reject it or silently ignore the "
     "field. Fix the field at the reported JSON pointer."),
    ("ROLE_UNREADABLE", ERROR, "structure", "Role definition cannot be read",
     "The document passed the schema but the role model still refused it (for example a key given "
     "twice in different case, which the az CLI treats as the same key). The message says what to fix."),
    ("EMPTY_DOCUMENT", WARNING, "structure", "File holds no role definition",
     "The file is an empty JSON list (or REST `value` list): there is nothing to validate. A role file "
     "that should define roles but renders empty is usually a broken template or export."),
    ("DUPLICATE_KEY", SECURITY_WARNING, "structure", "Key given twice in one JSON object",
     "A JSON object holds the same key twice (for example two `Actions`). JSON readers disagree on which "
     "one counts: rbactool and the az CLI keep the last, so a second `Actions` silently replaces the first "
     "one a reviewer reads. Remove one of them. The other checks run on the last value."),
    ("MISSING_NAME", ERROR, "structure", "Role has no name",
     "`Name` (az) / `roleName` (ARM) is required and must not be empty or blank."),
    ("MISSING_ASSIGNABLE_SCOPES", ERROR, "structure", "Custom role has no assignable scopes",
     "`AssignableScopes` is required and needs at least one scope: a subscription, a resource group "
     "or one management group. `az role definition create` refuses the role without it."),
    ("NO_PERMISSIONS", ERROR, "structure", "Role grants nothing",
     "No permission block of a custom role has any Actions or DataActions: the role grants nothing. "
     "(Microsoft ships a few empty built-in roles; built-in roles are not checked for this.)"),
    ("EMPTY_PERMISSION_STRING", ERROR, "structure", "Empty permission string",
     "A permission string is empty or blank. ARM rejects the role with InvalidActionOrNotAction."),
    ("DUPLICATE_PERMISSION", SUGGESTION, "structure", "Permission string listed twice",
     "The same permission string appears twice in one list (permission strings compare "
     "case-insensitively). Remove the repeat; `rbactool render` writes lists de-duplicated."),
    ("DUPLICATE_ASSIGNABLE_SCOPE", SUGGESTION, "structure", "Assignable scope listed twice",
     "The same scope appears twice in AssignableScopes (scopes compare case-insensitively)."),
    ("NAME_TOO_LONG", ERROR, "structure", "Role name longer than 512 characters",
     "Azure limits a role name to 512 characters."),
    ("DESCRIPTION_TOO_LONG", ERROR, "structure", "Description longer than 2048 characters",
     "Azure limits a role description to 2048 characters."),
    ("NAME_CONTROL_CHARACTER", SECURITY_WARNING, "structure", "Control or invisible character in the role name",
     "The role name holds a control character (a line break, tab, escape...) or an invisible formatting "
     "character (zero-width space, right-to-left override...). Such a name displays differently from what "
     "it is: in the portal, in `az` output, in a terminal or a review. Use printable characters only."),
    ("DESCRIPTION_CONTROL_CHARACTER", WARNING, "structure", "Control or invisible character in the description",
     "The description holds a control character other than a tab or line break (for example a terminal "
     "escape sequence) or an invisible direction override, which can hide or reorder text when it is shown."),
    ("CONDITION_WITHOUT_VERSION", WARNING, "structure", "Condition without conditionVersion",
     "A permission block with an ABAC `condition` should say `conditionVersion` \"2.0\". Microsoft documents "
     "2.0 as the default, but Terraform and other tools refuse a condition without its version."),
    ("IS_CUSTOM_NOT_BOOLEAN", WARNING, "structure", "IsCustom is not true or false",
     "`IsCustom` is a string (or another non-boolean) such as \"true\". The az CLI never sends this field to ARM "
     "(it always creates a custom role), so the role works; write `true` so other tools read the file too. "
     "rbactool checks the role as a custom role."),
    # ---- action grammar
    ("ACTION_SYNTAX", ERROR, "grammar", "Malformed permission string",
     "A permission string has the form `{Company}.{Provider}/{resourceType}/.../{operation}` "
     "(for example `Microsoft.Compute/virtualMachines/read`), or is `*` in Actions. Segments are "
     "separated by single slashes and contain letters, digits and `. - _ : $ { }`."),
    ("MULTIPLE_WILDCARDS", ERROR, "grammar", "More than one wildcard in a permission string",
     "Azure allows at most one `*` per permission string."),
    ("WHITESPACE_IN_PERMISSION", ERROR, "grammar", "Whitespace inside a permission string",
     "Permission strings contain no spaces; ARM does not match a string with a space to any operation."),
    ("SURROUNDING_WHITESPACE", WARNING, "grammar", "Leading or trailing whitespace in a permission string",
     "The string has leading or trailing blanks. One Microsoft built-in role ships such a string, so ARM "
     "appears to tolerate it, but the blank is never intended: remove it."),
    ("TRAILING_SLASH", WARNING, "grammar", "Permission string ends with '/'",
     "The string ends with a slash, so it names no operation and grants (or removes) nothing. Several "
     "Microsoft built-in roles ship such strings (`Microsoft.Insights/alertRules/`), so ARM accepts it, "
     "but it is a mistake: complete the operation name or remove the slash."),
    ("BARE_WILDCARD_OUTSIDE_ACTIONS", WARNING, "grammar", "`*` alone in NotActions or NotDataActions",
     "`*` alone in NotActions (or NotDataActions) subtracts every action (data action) of its permission block, "
     "so that half of the block grants nothing. ARM accepts it, but it is never what was meant: list what to "
     "subtract, or remove the block's grants. (`*` alone in DataActions is ALL_DATA_ACTIONS.)"),
    # ---- catalog
    ("NAMESPACE_TYPO", ERROR, "catalog", "Unknown provider namespace close to a known one",
     "The provider namespace is not in the catalog but is one or two edits away from a known namespace. "
     "ARM rejects the whole role with InvalidActionOrNotAction. Use the suggested namespace."),
    ("UNKNOWN_NAMESPACE", ERROR, "catalog", "Unknown provider namespace",
     "The namespace is not in the operations catalog, which is fresh for every namespace it lists. ARM "
     "rejects the role with InvalidActionOrNotAction (\"The resource provider referenced in the action "
     "is not returned in the list of providers\")."),
    ("UNVERIFIED_NAMESPACE", WARNING, "catalog", "Namespace not in the (partly stale) catalog",
     "The namespace is neither in the operations catalog nor used by any built-in role. The shipped "
     "catalog lags Azure for most providers, so this may be a new provider; check it with "
     "`az provider operation show --namespace NS`, or refresh the catalog from your tenant "
     "(`rbactool catalog refresh`, or `--catalog PATH`)."),
    ("UNKNOWN_OPERATION", ERROR, "catalog", "Unknown operation",
     "The operation is not in the catalog, whose data for this provider is fresh. ARM rejects the "
     "whole role with InvalidActionOrNotAction. Check the spelling (see the suggestion, if any)."),
    ("UNVERIFIED_OPERATION", WARNING, "catalog", "Operation not in the (stale) catalog data of its provider",
     "The operation is not in the catalog, but the catalog's data for this provider is older than "
     "Azure's: the operation may be new. Check it with `az provider operation show --namespace NS`, or "
     "refresh the catalog from your tenant (`rbactool catalog refresh`, or `--catalog PATH`)."),
    ("WILDCARD_MATCHES_NOTHING", ERROR, "catalog", "Wildcard matches no operation",
     "The wildcard pattern matches no operation of its kind in a provider whose catalog data is fresh. "
     "ARM rejects a pattern that matches nothing."),
    ("UNVERIFIED_WILDCARD", WARNING, "catalog", "Wildcard matches nothing in the (stale) catalog",
     "The wildcard matches no operation in the catalog, but the catalog's data for its provider is "
     "older than Azure's. Check it with `az provider operation show --namespace NS`."),
    ("NOT_ACTION_MATCHES_NOTHING", WARNING, "catalog", "NotActions wildcard matches no operation",
     "A NotActions/NotDataActions wildcard matches no operation in a provider whose catalog data is fresh, "
     "so it protects nothing. ARM accepts it (the built-in AzureML Data Scientist role has two: "
     "`workspaces/computes/*/write` does not match `workspaces/computes/write`), but the author surely meant "
     "to subtract something: fix the pattern."),
    ("DATA_ACTION_IN_ACTIONS", ERROR, "catalog", "Data action listed under Actions",
     "The operation is a data action (isDataAction=true): it belongs in DataActions/NotDataActions. "
     "ARM rejects it under Actions/NotActions."),
    ("ACTION_IN_DATA_ACTIONS", ERROR, "catalog", "Control-plane action listed under DataActions",
     "The operation is a control-plane action (isDataAction=false): it belongs in Actions/NotActions. "
     "Which kind an operation is comes from the provider, not from what it does: e.g. every "
     "Microsoft.MachineLearningServices operation, including onlineEndpoints/score/action, is an Action."),
    ("NOT_ACTION_SUBTRACTS_NOTHING", SUGGESTION, "catalog", "NotActions entry removes nothing",
     "NotActions/NotDataActions only subtract from the Actions/DataActions of the same permission block "
     "(they are not deny rules). This entry matches nothing that block grants, so it has no effect."),
    ("CASE_MISMATCH", SUGGESTION, "catalog", "Spelling differs in case from Azure's",
     "Permission strings are case-insensitive, so this works, but matching Azure's spelling keeps "
     "reviews and diffs readable."),
    ("NARROWER_THAN_WILDCARD", SUGGESTION, "catalog", "Wildcard grants risky operations: list what you need",
     "The wildcard grants operations with a risk class next to harmless ones. If the role needs only the "
     "harmless ones, list them explicitly (a wildcard also grants operations Azure adds later)."),
    ("CATALOG_OUTDATED", WARNING, "catalog", "Operations catalog snapshot is old",
     "The operations catalog is older than the configured maximum age (`catalog_max_age_days`). "
     "Unknown-operation findings become less reliable; refresh the catalog."),
    # ---- assignable scopes
    ("SCOPE_ROOT", ERROR, "scopes", "Root scope `/` in a custom role",
     "Only built-in roles may use the tenant root `/` as assignable scope."),
    ("SCOPE_WILDCARD", ERROR, "scopes", "Wildcard in an assignable scope",
     "AssignableScopes do not accept wildcards."),
    ("SCOPE_MALFORMED", ERROR, "scopes", "Malformed assignable scope",
     "An assignable scope must be /subscriptions/{guid}, /subscriptions/{guid}/resourceGroups/{name}, "
     "/providers/Microsoft.Management/managementGroups/{id} or a resource id."),
    ("SCOPE_TRAILING_SLASH", ERROR, "scopes", "Assignable scope ends with '/'",
     "An ARM scope never ends with a slash. rbactool does not send it as written: ARM compares scopes as "
     "strings, and the role's deterministic id is derived from its first scope. Remove the trailing '/'."),
    ("SCOPE_PLACEHOLDER", WARNING, "scopes", "Placeholder in an assignable scope",
     "The scope contains a placeholder such as `<subscriptionId>` or `{rg}`. Replace it (or render the "
     "role from a template with `rbactool render`) before creating the role."),
    ("SCOPE_MULTIPLE_MANAGEMENT_GROUPS", ERROR, "scopes", "More than one management group",
     "A custom role may name at most one management group in AssignableScopes."),
    ("DATA_ACTIONS_WITH_MANAGEMENT_GROUP", WARNING, "scopes", "DataActions with a management-group scope",
     "A role with DataActions cannot be assigned at a management group (InvalidCreateRoleAssignmentRequest); "
     "it can only be assigned at subscriptions and below. Older ARM versions refuse to create it."),
    ("TOO_MANY_SCOPES", ERROR, "scopes", "More than 2000 assignable scopes",
     "A custom role may have at most 2000 assignable scopes."),
    ("SCOPE_RESOURCE_LEVEL", WARNING, "scopes", "Resource-level assignable scope",
     "A resource id as assignable scope works but is not recommended: each such role counts against the "
     "tenant's budget of 5000 custom roles. Use the resource group and assign the role at the resource."),
    # ---- risk (on effective operations)
    ("PRIVILEGE_ESCALATION", SECURITY_WARNING, "risk", "Grants privilege escalation",
     "The role (after NotActions) grants operations that let a holder raise their own access: write role "
     "assignments or definitions, elevate to User Access Administrator, attach managed identities, or "
     "delete/override policies and locks."),
    ("CREDENTIAL_EXPOSURE", SECURITY_WARNING, "risk", "Grants access to keys, secrets or tokens",
     "The role (after NotActions) grants operations that return or rotate credentials beyond what the built-in "
     "Reader already gives: listKeys, listSecrets, regenerateKeys, connection strings, shared keys, publishing "
     "credentials, token issuance, Key Vault secret reads (the list: `rbactool/data/risk-classes.json`). A key "
     "usually grants more than the role itself and does not expire with the assignment."),
    ("REMOTE_EXECUTION", SECURITY_WARNING, "risk", "Grants remote code execution",
     "The role (after NotActions) grants running code on compute: VM and scale-set run commands and "
     "extensions, Arc machines, AKS run commands, container exec, Automation runbooks, web-app publishing and "
     "the Kudu console (the list: `rbactool/data/risk-classes.json`)."),
    ("ALL_DATA_ACTIONS", SECURITY_WARNING, "risk", "`*` alone in DataActions: all data access",
     "`*` in DataActions grants every data action of every provider, now and in future: read and write every "
     "blob, queue, secret, key and certificate the assignment's scope holds. ARM accepts it (Microsoft documents "
     "`*` in all four lists). List the data actions the role needs, e.g. "
     "`Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read`."),
    ("READS_SECRETS_LIKE_READER", WARNING, "risk", "Reads that return secrets, as the built-in Reader's do",
     "The role's reads include operations whose answer can hold secrets (for example a VPN connection's shared "
     "key, or app settings). The built-in Reader grants the same reads, so the role exposes nothing Reader does "
     "not: a WARNING naming them, not a SECURITY_WARNING. Subtract them with NotActions if the role's holders "
     "should not see them."),
    ("OWNER_CLONE", SECURITY_WARNING, "risk", "Equivalent to Owner",
     "The role grants `*` at subscription or management-group scope and its NotActions do not remove "
     "role-assignment writes: a holder can grant themselves anything. Use built-in Owner openly, or "
     "narrow the role."),
    # ---- naming
    ("ENTRA_ROLE_NAME", WARNING, "naming", "Named like a Microsoft Entra directory role",
     "Azure RBAC roles (resources: subscriptions, groups, resources) and Microsoft Entra roles "
     "(directory: users, apps, Global Administrator...) are different systems. An Azure custom role "
     "with an Entra role's name grants nothing in the directory and confuses reviewers."),
    ("BUILTIN_NAME_CLASH", WARNING, "naming", "Custom role named like a built-in role",
     "Role names are unique in a tenant, built-in roles included: ARM is expected to refuse a custom role "
     "whose name is a built-in role's (RoleDefinitionWithSameNameExists), and reviewers confuse the two."),
    # ---- inputs (rbactool.documents, rbactool.lenient)
    ("UNKNOWN_FIELD", WARNING, "structure", "Field that ARM and the az CLI ignore",
     "The role object holds a field its shape does not define (a typo such as `Action`, or an extra "
     "key). ARM and the az CLI ignore it, so whatever it was meant to say has no effect. Remove it or "
     "fix its name."),
    ("UNRESOLVED_EXPRESSION", SUGGESTION, "structure", "Expression rbactool did not evaluate",
     "A value is an ARM template expression (`[...]`) or a Terraform interpolation (`${...}`) that "
     "rbactool does not evaluate (or that needs --subscription, --resource-group or --management-group, "
     "or a parameter with no default). The role is checked without that value; pass the scope options, "
     "or validate the deployed or rendered role, to check it too."),
    ("JSON_NOT_STRICT", WARNING, "structure", "JSON with comments or trailing commas",
     "The file holds `//` or `/* */` comments or trailing commas. rbactool reads it and checks the role, "
     "but `az role definition create` and ARM reject such JSON as written: remove them."),
    ("NO_ROLE_DEFINITIONS", SUGGESTION, "structure", "Template or Terraform file holds no role definition",
     "The ARM template, Terraform file or plan holds no Microsoft.Authorization/roleDefinitions "
     "(azurerm_role_definition) resource: there is nothing to validate in it."),
    ("FILE_UNREADABLE", ERROR, "structure", "File cannot be read",
     "The file could not be read or parsed (not UTF-8, invalid JSON or HCL, beyond the input limits, not "
     "a regular file). The other files were still validated; the run exits 3 after reporting everything."),
    ("BICEP_NOT_COMPILED", WARNING, "structure", "Bicep file not compiled",
     "A directory run found a `.bicep` file but no `bicep` executable on PATH, so its roles were not "
     "checked. Compile it (`az bicep build --file X`, `bicep build X`) and validate the JSON, or put "
     "`bicep` on PATH."),
    # ---- the validator itself
    ("INTERNAL_ERROR", ERROR, "internal", "A check crashed",
     "A check raised an exception. The other checks still ran. Please report it with the input."),
)

_CUSTOM = "https://learn.microsoft.com/azure/role-based-access-control/custom-roles"
_RDEF = "https://learn.microsoft.com/azure/role-based-access-control/role-definitions"
_BAD_ACTION = ("InvalidActionOrNotAction (400) \"'...' does not match any of the actions supported by the providers\" "
               "(https://github.com/MicrosoftDocs/azure-docs/issues/102571)")
_BAD_NAMESPACE = ("InvalidActionOrNotAction (400) \"The resource provider referenced in the action is not returned in "
                  "the list of providers\" (https://github.com/Azure/azure-powershell/issues/9800)")
_STALE = ("the catalog's data for the provider is older than Azure's: ARM rejects it only if the operation really "
          "is unknown")

#: (basis, based on) of every rule: what its type rests on, in one line with its source.
_BASED_ON: dict[str, tuple[str, str]] = {
    "SCHEMA_VIOLATION": (ARM_REJECTS, "a field of the wrong type or a missing required field: the az CLI fails "
                         "before sending, ARM answers InvalidRequestContent / MissingAssignableScopes"),
    "ROLE_UNREADABLE": (CANNOT_WORK, "the role is ambiguous as written (e.g. a key twice in different case): what "
                        "the az CLI would send cannot be told"),
    "EMPTY_DOCUMENT": (LIKELY_MISTAKE, "nothing to create; usually a broken template or export"),
    "UNKNOWN_FIELD": (LIKELY_MISTAKE, "ARM and the az CLI ignore a field the role shape does not define (a typo "
                      "such as `Action` has no effect)"),
    "UNRESOLVED_EXPRESSION": (STYLE, "the value is known only at deployment (or needs --subscription/"
                              "--resource-group/--management-group); the rest of the role is checked"),
    "JSON_NOT_STRICT": (CANNOT_WORK, "`az role definition create` parses the file as strict JSON and fails on "
                        "comments or trailing commas; the role's content is still checked"),
    "NO_ROLE_DEFINITIONS": (LIKELY_MISTAKE, "the template or Terraform file defines no role: nothing to create "
                            "or check"),
    "FILE_UNREADABLE": (CANNOT_WORK, "neither az nor ARM can use a file that is not valid JSON/HCL or is beyond "
                        "the input limits"),
    "BICEP_NOT_COMPILED": (VALIDATOR, "without bicep on PATH rbactool could not check the file's roles"),
    "DUPLICATE_KEY": (SECURITY, "the az CLI keeps the last value, so a reviewer can read one `Actions` while "
                      "another is sent; ARM accepts what it receives"),
    "MISSING_NAME": (ARM_REJECTS, "RoleDefinitionNameNullOrEmpty (400)"),
    "MISSING_ASSIGNABLE_SCOPES": (ARM_REJECTS, "MissingAssignableScopes (400); the az CLI refuses first: "
                                  "\"please provide 'assignableScopes'\""),
    "NO_PERMISSIONS": (CANNOT_WORK, "a custom role with no Actions and no DataActions grants nothing"),
    "EMPTY_PERMISSION_STRING": (ARM_REJECTS, _BAD_ACTION),
    "DUPLICATE_PERMISSION": (STYLE, "ARM accepts repeats; they only make reviews longer"),
    "DUPLICATE_ASSIGNABLE_SCOPE": (STYLE, "ARM accepts repeats; they only make reviews longer"),
    "NAME_TOO_LONG": (ARM_REJECTS, f"documented limit of 512 characters ({_CUSTOM})"),
    "DESCRIPTION_TOO_LONG": (ARM_REJECTS, f"documented limit of 2048 characters ({_CUSTOM})"),
    "NAME_CONTROL_CHARACTER": (SECURITY, "ARM stores the name; what the portal, az and a review display differs "
                               "from what it is (a spoofing risk)"),
    "DESCRIPTION_CONTROL_CHARACTER": (LIKELY_MISTAKE, "ARM stores it; it can hide or reorder text when shown"),
    "CONDITION_WITHOUT_VERSION": (LIKELY_MISTAKE, "Microsoft documents 2.0 as the default "
                                  "(https://learn.microsoft.com/azure/role-based-access-control/conditions-faq); "
                                  "Terraform refuses the pair incomplete "
                                  "(https://github.com/hashicorp/terraform-provider-azurerm/pull/24605)"),
    "IS_CUSTOM_NOT_BOOLEAN": (LIKELY_MISTAKE, "the az CLI never sends IsCustom: it always creates a CustomRole "
                              "(azure-cli command_modules/role/custom.py, _create_update_role_definition)"),
    "ACTION_SYNTAX": (ARM_REJECTS, _BAD_ACTION),
    "MULTIPLE_WILDCARDS": (ARM_REJECTS, f"documented: one `*` per permission string ({_CUSTOM}); no operation "
                           "matches otherwise: " + _BAD_ACTION),
    "WHITESPACE_IN_PERMISSION": (ARM_REJECTS, _BAD_ACTION),
    "SURROUNDING_WHITESPACE": (LIKELY_MISTAKE, "a Microsoft built-in role ships such a string, so ARM accepts it"),
    "TRAILING_SLASH": (LIKELY_MISTAKE, "Microsoft built-in roles ship such strings (Microsoft.Insights/alertRules/), "
                       "so ARM accepts them; they grant nothing"),
    "BARE_WILDCARD_OUTSIDE_ACTIONS": (LIKELY_MISTAKE, f"`*` is allowed in all four lists ({_CUSTOM}); in NotActions "
                                      "it empties its block"),
    "NAMESPACE_TYPO": (ARM_REJECTS, _BAD_NAMESPACE),
    "UNKNOWN_NAMESPACE": (ARM_REJECTS, _BAD_NAMESPACE),
    "UNVERIFIED_NAMESPACE": (UNVERIFIED, "the namespace may be newer than the catalog; ARM rejects an unknown one: "
                             + _BAD_NAMESPACE),
    "UNKNOWN_OPERATION": (ARM_REJECTS, _BAD_ACTION),
    "UNVERIFIED_OPERATION": (UNVERIFIED, _STALE),
    "WILDCARD_MATCHES_NOTHING": (ARM_REJECTS, _BAD_ACTION),
    "UNVERIFIED_WILDCARD": (UNVERIFIED, _STALE),
    "NOT_ACTION_MATCHES_NOTHING": (LIKELY_MISTAKE, "the built-in AzureML Data Scientist role has two, so ARM accepts "
                                   "it; it protects nothing"),
    "DATA_ACTION_IN_ACTIONS": (ARM_REJECTS, "only operations with isDataAction=true may be data actions, and an "
                               f"Action must match a control-plane operation ({_RDEF}): " + _BAD_ACTION + "; the "
                               "catalog's kind of a known operation does not go stale, so this is an ERROR whatever "
                               "the provider's freshness"),
    "ACTION_IN_DATA_ACTIONS": (ARM_REJECTS, "InvalidDataActionOrNotDataAction (400): a DataAction must match a data "
                               f"operation ({_RDEF}); an ERROR whatever the provider's freshness"),
    "NOT_ACTION_SUBTRACTS_NOTHING": (LIKELY_MISTAKE, f"NotActions only subtract within their block ({_RDEF})"),
    "CASE_MISMATCH": (STYLE, f"permission strings are case-insensitive ({_CUSTOM})"),
    "NARROWER_THAN_WILDCARD": (SECURITY, "least privilege: a wildcard also grants operations Azure adds later"),
    "CATALOG_OUTDATED": (VALIDATOR, "findings about unknown operations are only as good as the catalog"),
    "SCOPE_ROOT": (ARM_REJECTS, "custom roles cannot use the root scope (Microsoft, "
                   "https://github.com/MicrosoftDocs/azure-docs/issues/16389; "
                   "https://github.com/prowler-cloud/prowler/pull/6149: \"/ ... is not accepted\")"),
    "SCOPE_WILDCARD": (ARM_REJECTS, f"documented: AssignableScopes take no wildcard ({_CUSTOM}); ARM: "
                       "LinkedInvalidPropertyId (400)"),
    "SCOPE_MALFORMED": (ARM_REJECTS, "LinkedInvalidPropertyId (400) \"Property id '...' at path "
                        "'properties.assignableScopes[i]' is invalid\""),
    "SCOPE_TRAILING_SLASH": (CANNOT_WORK, "a scope never ends with '/': ARM compares scopes as strings, so "
                             "assignments and lists at the real scope do not match it"),
    "SCOPE_PLACEHOLDER": (LIKELY_MISTAKE, "a placeholder left in; ARM rejects it as malformed "
                          "(LinkedInvalidPropertyId) unless it happens to be a valid name"),
    "SCOPE_MULTIPLE_MANAGEMENT_GROUPS": (ARM_REJECTS, "documented: one management group in AssignableScopes "
                                         f"({_CUSTOM})"),
    "DATA_ACTIONS_WITH_MANAGEMENT_GROUP": (CANNOT_WORK, "documented: a role with DataActions cannot be assigned at "
                                           f"management-group scope ({_CUSTOM})"),
    "TOO_MANY_SCOPES": (ARM_REJECTS, "documented limit of 2000 assignable scopes "
                        "(https://learn.microsoft.com/azure/role-based-access-control/troubleshoot-limits)"),
    "SCOPE_RESOURCE_LEVEL": (LIKELY_MISTAKE, "ARM accepts it; each such role costs one of the tenant's 5000 "
                             "custom roles"),
    "PRIVILEGE_ESCALATION": (SECURITY, "a holder can raise their own access (the reviewed list: "
                             "rbactool/data/risk-classes.json, a source per entry)"),
    "CREDENTIAL_EXPOSURE": (SECURITY, "keys and secrets outlive the assignment and bypass RBAC (the reviewed list: "
                            "rbactool/data/risk-classes.json); only grants beyond the built-in Reader's count"),
    "REMOTE_EXECUTION": (SECURITY, "code run on compute acts as the compute's identity (the reviewed list: "
                         "rbactool/data/risk-classes.json)"),
    "ALL_DATA_ACTIONS": (SECURITY, f"ARM accepts `*` in DataActions ({_CUSTOM}); it is all data access"),
    "READS_SECRETS_LIKE_READER": (SECURITY, "the same exposure as the built-in Reader (acdd72a7-3385-48ef-bd42-"
                                  "f606fba81ae7), so a WARNING: a SECURITY_WARNING needs more than Reader gives"),
    "OWNER_CLONE": (SECURITY, "roleAssignments/write at a wide scope lets a holder grant themselves anything"),
    "ENTRA_ROLE_NAME": (LIKELY_MISTAKE, "Azure RBAC roles grant nothing in Microsoft Entra ID"),
    "BUILTIN_NAME_CLASH": (LIKELY_MISTAKE, "ARM is expected to answer RoleDefinitionWithSameNameExists (409); not "
                           "confirmed for built-in names, so a WARNING"),
    "INTERNAL_ERROR": (VALIDATOR, "a check crashed, so the role was not fully checked"),
}

RULES: dict[str, Rule] = {}
for _code, _type, _group, _title, _expl in _RULE_ROWS:
    if _code in RULES:
        raise RuntimeError(f"finding code {_code} registered twice")
    _basis, _based_on = _BASED_ON[_code]
    RULES[_code] = Rule(_code, _type, _title, _expl, _group, basis=_basis, based_on=_based_on)
del _code, _type, _group, _title, _expl, _basis, _based_on


def rules_table() -> list[dict[str, object]]:
    """The registry as JSON-ready rows, sorted by code."""
    return [
        {"code": r.code, "type": r.type, "group": r.group, "title": r.title, "explanation": r.explanation,
         "basis": r.basis, "based_on": r.based_on, "retired": r.retired}
        for r in sorted(RULES.values(), key=lambda r: r.code)
    ]
