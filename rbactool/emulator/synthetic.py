"""Synthetic estates for benchmarks: a seed document (see :mod:`rbactool.emulator.seed`) of any
size, the same for the same ``seed`` number.

The default is the bench estate of the access-analysis issue: 5 management groups (under the
tenant root group, three levels deep), 50 subscriptions, 2,000 scopes (groups, subscriptions,
resource groups and resources), 100,000 role assignments, 500 custom roles, 20,000 principals
and 2,000 groups (nested), plus deny assignments and PIM eligibility. Assignments use built-in
and custom roles only where the role is assignable, never repeat a (principal, role, scope), and
stay under Azure's 4,000 per subscription when the sizes allow it.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from typing import Any

BUILTIN_ROLES = (
    "Reader", "Contributor", "Owner", "User Access Administrator", "Role Based Access Control Administrator",
    "Storage Blob Data Reader", "Storage Blob Data Contributor", "Key Vault Secrets User",
    "Key Vault Administrator", "Virtual Machine Contributor", "Website Contributor", "Monitoring Reader",
    "AzureML Data Scientist", "Managed Identity Operator", "Network Contributor",
)
#: (action, data?) pool the custom roles draw from
ACTIONS = (
    ("Microsoft.Storage/storageAccounts/read", False), ("Microsoft.Storage/storageAccounts/listKeys/action", False),
    ("Microsoft.Storage/storageAccounts/blobServices/containers/read", False),
    ("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read", True),
    ("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write", True),
    ("Microsoft.KeyVault/vaults/read", False), ("Microsoft.KeyVault/vaults/secrets/getSecret/action", True),
    ("Microsoft.KeyVault/vaults/secrets/readMetadata/action", True),
    ("Microsoft.Compute/virtualMachines/read", False), ("Microsoft.Compute/virtualMachines/start/action", False),
    ("Microsoft.Compute/virtualMachines/runCommand/action", False), ("Microsoft.Compute/*/read", False),
    ("Microsoft.Web/sites/read", False), ("Microsoft.Web/sites/restart/action", False),
    ("Microsoft.Network/*/read", False), ("Microsoft.Resources/subscriptions/resourceGroups/read", False),
    ("Microsoft.Authorization/roleAssignments/read", False), ("Microsoft.Authorization/roleAssignments/write", False),
    ("Microsoft.Insights/alertRules/*", False),
    ("Microsoft.MachineLearningServices/workspaces/read", False),
    ("Microsoft.MachineLearningServices/workspaces/onlineEndpoints/score/action", True),
    ("Microsoft.MachineLearningServices/workspaces/onlineEndpoints/listKeys/action", False),
    ("Microsoft.MachineLearningServices/workspaces/*", False),
)
RESOURCE_TYPES = (
    ("Microsoft.Storage/storageAccounts", "st"), ("Microsoft.KeyVault/vaults", "kv"),
    ("Microsoft.Compute/virtualMachines", "vm"), ("Microsoft.Web/sites", "app"),
    ("Microsoft.MachineLearningServices/workspaces", "mlw"),
)
MG_PREFIX = "/providers/Microsoft.Management/managementGroups/"


@dataclass(frozen=True)
class EstateSize:
    management_groups: int = 5
    subscriptions: int = 50
    scopes: int = 2_000
    role_assignments: int = 100_000
    custom_roles: int = 500
    principals: int = 20_000
    groups: int = 2_000
    deny_assignments: int = 50
    eligible_assignments: int = 2_000

    @classmethod
    def small(cls) -> EstateSize:
        return cls(3, 4, 60, 400, 10, 120, 20, 4, 20)


def generate_estate(size: EstateSize | None = None, seed: int = 0) -> dict[str, Any]:
    """A seed document for *size* (default: the bench estate), deterministic for *seed*."""
    size = size or EstateSize()
    rng = random.Random(seed)

    def guid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    tenant = guid()
    mgs = [f"mg-{i:02d}" for i in range(size.management_groups)]
    mg_docs = []
    for i, mg in enumerate(mgs):
        parent = tenant if i < 2 else mgs[(i - 2) // 2]
        mg_docs.append({"id": mg, "name": f"Management group {i}", "parent": parent, "subscriptions": []})
    subs = [guid() for _ in range(size.subscriptions)]
    for i, s in enumerate(subs):
        (mg_docs[i % len(mg_docs)]["subscriptions"] if mg_docs else []).append({"id": s, "name": f"sub-{i:03d}"})
    sub_parent = {s: mgs[i % len(mgs)] if mgs else tenant for i, s in enumerate(subs)}
    chain = {mg: _chain(mg_docs, mg, tenant) for mg in mgs}

    # scopes: the groups, the subscriptions, then resource groups and resources to fill up
    rest = max(0, size.scopes - len(mgs) - len(subs))
    rg_count = rest // 2
    rgs = [f"/subscriptions/{subs[i % len(subs)]}/resourceGroups/rg-{i:04d}" for i in range(rg_count)] if subs else []
    resources = []
    for i in range(rest - rg_count if rgs else 0):
        rtype, prefix = RESOURCE_TYPES[i % len(RESOURCE_TYPES)]
        resources.append(f"{rgs[i % len(rgs)]}/providers/{rtype}/{prefix}{i:04d}")
    mg_scopes = [MG_PREFIX + m for m in mgs]
    sub_scopes = [f"/subscriptions/{s}" for s in subs]

    n_groups = size.groups
    kinds = ["User"] * 7 + ["ServicePrincipal"] * 3
    principals = [{"id": guid(), "type": kinds[i % 10],
                   "name": f"{'user' if kinds[i % 10] == 'User' else 'sp'}-{i:05d}"} for i in range(size.principals)]
    group_ids = [guid() for _ in range(n_groups)]
    groups = []
    for i, gid in enumerate(group_ids):
        members = [principals[rng.randrange(len(principals))]["id"] for _ in range(rng.randint(3, 15))] \
            if principals else []
        if i > 0 and rng.random() < 0.2:
            members.append(group_ids[rng.randrange(i)])  # nested, only lower-numbered: no cycles
        groups.append({"id": gid, "name": f"grp-{i:04d}", "members": sorted(set(members))})

    roles, by_sub, by_mg = _custom_roles(rng, size.custom_roles, subs, mgs, guid)
    anyone = [p["id"] for p in principals] + group_ids
    assignments = _assignments(rng, size.role_assignments, anyone, mg_scopes, sub_scopes, rgs, resources,
                               by_sub, by_mg, sub_parent, chain)
    denies = []
    for i in range(size.deny_assignments if rgs else 0):
        scope = rgs[rng.randrange(len(rgs))] if i % 2 else resources[rng.randrange(len(resources))] if resources \
            else rgs[0]
        everyone = i % 3 == 0
        who = ["00000000-0000-0000-0000-000000000000"] if everyone else [anyone[rng.randrange(len(anyone))]]
        d: dict[str, Any] = {"scope": scope, "name": f"deny-{i:03d}", "actions": ["*/delete", "*/write"][: 1 + i % 2],
                             "not_actions": ["Microsoft.Authorization/locks/delete"], "principals": who}
        if everyone and anyone:
            d["exclude_principals"] = [anyone[rng.randrange(len(anyone))]]
        if i % 5 == 4:
            d["do_not_apply_to_child_scopes"] = True
        denies.append(d)
    eligible, seen = [], set()
    scopes_for_pim = sub_scopes + rgs
    for _ in range(size.eligible_assignments if scopes_for_pim and anyone else 0):
        e = (anyone[rng.randrange(len(anyone))], rng.choice(("Owner", "Contributor", "User Access Administrator")),
             scopes_for_pim[rng.randrange(len(scopes_for_pim))])
        if e not in seen:
            seen.add(e)
            eligible.append({"principal": e[0], "role": e[1], "scope": e[2]})
    return {
        "tenant": tenant,
        "management_groups": mg_docs,
        "resource_groups": rgs,
        "principals": principals,
        "groups": groups,
        "role_definitions": roles,
        "role_assignments": assignments,
        "deny_assignments": denies,
        "eligible_assignments": eligible,
    }


def _chain(mg_docs: list[dict], mg: str, tenant: str) -> list[str]:
    parents = {d["id"]: d["parent"] for d in mg_docs}
    out = [mg]
    while parents.get(out[-1], tenant) != tenant:
        out.append(parents[out[-1]])
    return out


def _custom_roles(rng: random.Random, n: int, subs: list[str], mgs: list[str], guid):
    roles, by_sub, by_mg = [], {}, {}
    for i in range(n):
        picks = rng.sample(ACTIONS, rng.randint(2, 6))
        at_mg = bool(mgs) and (i % 5 == 0 or not subs)
        actions = [a for a, data in picks if not data]
        data_actions = [] if at_mg else [a for a, data in picks if data]
        if not actions and not data_actions:
            actions = ["Microsoft.Resources/subscriptions/resourceGroups/read"]
        if at_mg:
            target = mgs[i % len(mgs)]
            scope = MG_PREFIX + target
        else:
            target = subs[i % len(subs)]
            scope = f"/subscriptions/{target}"
        name = f"custom-role-{i:04d}"
        rid = guid()
        role: dict[str, Any] = {"Name": name, "Id": rid, "IsCustom": True, "Description": f"Synthetic role {i}",
                                "Actions": actions, "NotActions": [], "DataActions": data_actions,
                                "NotDataActions": [], "AssignableScopes": [scope]}
        if i % 7 == 3 and actions:
            role["NotActions"] = [actions[0].rsplit("/", 1)[0] + "/delete"]
        roles.append(role)
        (by_mg if at_mg else by_sub).setdefault(target, []).append((rid, bool(data_actions)))
    return roles, by_sub, by_mg


def _assignments(rng, n, anyone, mg_scopes, sub_scopes, rgs, resources, by_sub, by_mg, sub_parent, chain):
    pools = [(mg_scopes, 0.01), (sub_scopes, 0.10), (rgs, 0.50), (resources, 0.39)]
    pools = [(p, w) for p, w in pools if p]
    if not pools or not anyone:
        return []
    total = sum(w for _, w in pools)
    out, seen = [], set()
    attempts = 0
    while len(out) < n and attempts < n * 5:
        attempts += 1
        r = rng.random() * total
        chosen = pools[-1][0]
        for pool, w in pools:
            r -= w
            if r <= 0:
                chosen = pool
                break
        scope = chosen[rng.randrange(len(chosen))]
        role = _role_for(rng, scope, by_sub, by_mg, sub_parent, chain)
        principal = anyone[rng.randrange(len(anyone))]
        key = (principal, role, scope.lower())
        if key in seen:
            continue
        seen.add(key)
        a: dict[str, Any] = {"principal": principal, "role": role, "scope": scope}
        if role == "Storage Blob Data Reader" and rng.random() < 0.05:
            a["condition"] = ("((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/"
                              "read'})) OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name]"
                              " StringEquals 'logs'))")
        if role == "Role Based Access Control Administrator" and rng.random() < 0.5:
            a["condition"] = ("((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
                              "(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] "
                              "ForAnyOfAnyValues:GuidEquals {acdd72a7-3385-48ef-bd42-f606fba81ae7}))")
        out.append(a)
    return out


def _role_for(rng, scope: str, by_sub, by_mg, sub_parent, chain) -> str:
    candidates: list[tuple[str, bool]] = []
    if scope.startswith(MG_PREFIX):
        mg = scope[len(MG_PREFIX):]
        for m in chain.get(mg, [mg]):
            candidates += [c for c in by_mg.get(m, ()) if not c[1] or m != mg]
    else:
        sub = scope.split("/")[2]
        candidates += by_sub.get(sub, [])
        for m in chain.get(sub_parent.get(sub, ""), []):
            candidates += by_mg.get(m, [])
    if candidates and rng.random() < 0.4:
        return candidates[rng.randrange(len(candidates))][0]
    return BUILTIN_ROLES[min(int(rng.expovariate(0.35)), len(BUILTIN_ROLES) - 1)]
