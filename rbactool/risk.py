"""Risk classes of operations: which concrete operations escalate privilege, expose credentials,
run code or destroy (pure data and one cached classifier; no catalog, no role).

``RISK_TABLE`` is the reviewable data: (risk class, permission pattern, kind). A pattern follows
ARM's matching (case-insensitive, ``*`` = any run of characters including ``/``, whole name);
kind is ``"action"``, ``"data"`` or ``"any"``. To add a risky operation, add a row. The risk
checks (``rbactool.checks.risk``), ``explain`` and ``diff`` all classify through ``risk_classes``.
"""

from __future__ import annotations

import functools
import re

from rbactool.catalog import compile_pattern

__all__ = [
    "CREDENTIAL_EXPOSURE", "DESTRUCTIVE", "PRIVILEGE_ESCALATION", "REMOTE_EXECUTION", "RISK_CLASSES", "RISK_TABLE",
    "risk_classes",
]

PRIVILEGE_ESCALATION = "privilege-escalation"
CREDENTIAL_EXPOSURE = "credential-exposure"
REMOTE_EXECUTION = "remote-execution"
DESTRUCTIVE = "destructive"

#: Risk classes in reporting order.
RISK_CLASSES = (PRIVILEGE_ESCALATION, CREDENTIAL_EXPOSURE, REMOTE_EXECUTION, DESTRUCTIVE)

RISK_TABLE: tuple[tuple[str, str, str], ...] = (
    # --- privilege escalation: change who can do what, or remove guard rails
    (PRIVILEGE_ESCALATION, "Microsoft.Authorization/roleAssignments/write", "action"),
    (PRIVILEGE_ESCALATION, "Microsoft.Authorization/roleDefinitions/write", "action"),
    (PRIVILEGE_ESCALATION, "Microsoft.Authorization/elevateAccess/action", "action"),
    (PRIVILEGE_ESCALATION, "Microsoft.Authorization/roleAssignmentScheduleRequests/write", "action"),
    (PRIVILEGE_ESCALATION, "Microsoft.Authorization/roleEligibilityScheduleRequests/write", "action"),
    (PRIVILEGE_ESCALATION, "Microsoft.Authorization/roleManagementPolicies/write", "action"),
    (PRIVILEGE_ESCALATION, "Microsoft.Authorization/policyAssignments/delete", "action"),
    (PRIVILEGE_ESCALATION, "Microsoft.Authorization/policyAssignments/write", "action"),
    (PRIVILEGE_ESCALATION, "Microsoft.Authorization/policyExemptions/write", "action"),
    (PRIVILEGE_ESCALATION, "Microsoft.Authorization/policyDefinitions/write", "action"),
    (PRIVILEGE_ESCALATION, "Microsoft.Authorization/locks/delete", "action"),
    (PRIVILEGE_ESCALATION, "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", "action"),
    (PRIVILEGE_ESCALATION, "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write",
     "action"),
    (PRIVILEGE_ESCALATION, "Microsoft.Compute/virtualMachines/loginAsAdmin/action", "data"),
    # --- credential exposure: operations that return or rotate keys, secrets, tokens
    (CREDENTIAL_EXPOSURE, "*/listKeys/action", "action"),
    (CREDENTIAL_EXPOSURE, "*/listKeys/read", "action"),
    (CREDENTIAL_EXPOSURE, "*/listKey/action", "action"),
    (CREDENTIAL_EXPOSURE, "*/listAdminKeys/action", "action"),
    (CREDENTIAL_EXPOSURE, "*/listQueryKeys/action", "action"),
    (CREDENTIAL_EXPOSURE, "*/regenerateKeys/action", "action"),
    (CREDENTIAL_EXPOSURE, "*/regenerateKey/action", "action"),
    (CREDENTIAL_EXPOSURE, "*/regenerateAdminKey/action", "action"),
    (CREDENTIAL_EXPOSURE, "*/listSecrets/action", "action"),
    (CREDENTIAL_EXPOSURE, "*/listCredentials/action", "action"),
    (CREDENTIAL_EXPOSURE, "*/listCredential/action", "action"),
    (CREDENTIAL_EXPOSURE, "*/listClusterAdminCredential/action", "action"),
    (CREDENTIAL_EXPOSURE, "*/listClusterUserCredential/action", "action"),
    (CREDENTIAL_EXPOSURE, "*/listConnectionStrings/action", "action"),
    (CREDENTIAL_EXPOSURE, "*/listAccountSas/action", "action"),
    (CREDENTIAL_EXPOSURE, "*/listServiceSas/action", "action"),
    (CREDENTIAL_EXPOSURE, "*/token/action", "action"),
    (CREDENTIAL_EXPOSURE, "*/generateToken/action", "action"),
    (CREDENTIAL_EXPOSURE, "*/getAccessToken/action", "action"),
    (CREDENTIAL_EXPOSURE, "Microsoft.Web/sites/config/list/action", "action"),
    (CREDENTIAL_EXPOSURE, "Microsoft.Web/sites/slots/config/list/action", "action"),
    (CREDENTIAL_EXPOSURE, "Microsoft.Web/sites/publishxml/action", "action"),
    (CREDENTIAL_EXPOSURE, "Microsoft.KeyVault/vaults/secrets/getSecret/action", "data"),
    (CREDENTIAL_EXPOSURE, "Microsoft.KeyVault/vaults/secrets/backup/action", "data"),
    (CREDENTIAL_EXPOSURE, "Microsoft.KeyVault/vaults/keys/release/action", "data"),
    (CREDENTIAL_EXPOSURE, "Microsoft.KeyVault/vaults/keys/backup/action", "data"),
    (CREDENTIAL_EXPOSURE, "Microsoft.KeyVault/vaults/certificates/backup/action", "data"),
    (CREDENTIAL_EXPOSURE, "Microsoft.KeyVault/managedHSMs/keys/release/action", "data"),
    # --- remote execution: run code on compute
    (REMOTE_EXECUTION, "Microsoft.Compute/virtualMachines/runCommand/action", "action"),
    (REMOTE_EXECUTION, "Microsoft.Compute/virtualMachines/runCommands/write", "action"),
    (REMOTE_EXECUTION, "Microsoft.Compute/virtualMachines/extensions/write", "action"),
    (REMOTE_EXECUTION, "Microsoft.Compute/virtualMachineScaleSets/extensions/write", "action"),
    (REMOTE_EXECUTION, "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommand/action", "action"),
    (REMOTE_EXECUTION, "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommands/write", "action"),
    (REMOTE_EXECUTION, "Microsoft.HybridCompute/machines/extensions/write", "action"),
    (REMOTE_EXECUTION, "Microsoft.HybridCompute/machines/runCommands/write", "action"),
    (REMOTE_EXECUTION, "Microsoft.ContainerService/managedClusters/runCommand/action", "action"),
    (REMOTE_EXECUTION, "Microsoft.ContainerInstance/containerGroups/containers/exec/action", "action"),
    (REMOTE_EXECUTION, "Microsoft.Automation/automationAccounts/runbooks/write", "action"),
    (REMOTE_EXECUTION, "Microsoft.Automation/automationAccounts/jobs/write", "action"),
    # --- destructive (informational): deletes
    (DESTRUCTIVE, "*/delete", "any"),
)


def _combined(kind: str) -> dict[str, re.Pattern[str]]:
    out = {}
    for cls in RISK_CLASSES:
        pats = [p for c, p, k in RISK_TABLE if c == cls and (k == kind or k == "any")]
        if pats:
            # Each compiled pattern is \A...\Z; join their bodies into one alternation.
            bodies = [compile_pattern(p).pattern[2:-2] for p in pats]
            out[cls] = re.compile("\\A(?:" + "|".join(bodies) + ")\\Z", re.DOTALL)
    return out


_BY_KIND = {False: _combined("action"), True: _combined("data")}


@functools.lru_cache(maxsize=65536)
def risk_classes(operation_name: str, is_data_action: bool = False) -> tuple[str, ...]:
    """The risk classes of one concrete operation (case-insensitive), in ``RISK_CLASSES`` order."""
    low = operation_name.lower()
    return tuple(cls for cls, rx in _BY_KIND[is_data_action].items() if rx.match(low))
