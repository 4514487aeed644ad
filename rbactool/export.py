"""``export``: the custom roles and role assignments at a scope, as a roles spec, so an existing
estate can be brought under management (export, then plan, shows no changes).

Reads through a gateway (``operations.Gateway``); no ``azure.*`` import, nothing written.
"""

from __future__ import annotations

import re
from dataclasses import replace

from rbactool.builtins import load_builtin_roles
from rbactool.managed import strip_marker
from rbactool.model import RoleDefinition, to_az_dict
from rbactool.operations import Gateway
from rbactool.scopes import Scope, parse_scope


def role_keys(roles: list[RoleDefinition]) -> dict[str, str]:
    """Role GUID (lower) -> a spec key made from its name: lower case, dashes, unique (-2, -3...)."""
    keys: dict[str, str] = {}
    for r in sorted(roles, key=lambda r: r.name.lower()):
        base = re.sub(r"[^a-z0-9]+", "-", r.name.lower()).strip("-")[:60].strip("-") or "role"
        key, n = base, 2
        while key in keys.values():
            key, n = f"{base}-{n}", n + 1
        keys[r.role_id.lower()] = key
    return keys


def _custom_roles_at(gw: Gateway, target: Scope) -> list[RoleDefinition]:
    """Custom roles assignable at, above or below *target* (one list per subscription or management group)."""
    list_scope = f"/subscriptions/{target.subscription}" if target.subscription else str(target)
    return [r for r in gw.list_role_definitions(list_scope, "type eq 'CustomRole'") if r.is_custom
            and any(parse_scope(s).is_at_or_below(target) or target.is_at_or_below(parse_scope(s))
                    for s in r.assignable_scopes)]


def _assignment_entries(gw: Gateway, target: Scope, keys: dict[str, str], custom_only: bool) -> list[dict]:
    builtins = load_builtin_roles()
    out = []
    for a in sorted(gw.list_role_assignments(str(target)), key=lambda a: (a.scope.lower(), a.principal_id)):
        if not parse_scope(a.scope).is_at_or_below(target):
            continue
        guid = a.role_guid.lower()
        if guid in keys:
            role_ref = keys[guid]
        elif custom_only:
            continue
        else:
            b = builtins.by_id(guid)
            role_ref = b.name if b else guid
        item = {"role": role_ref, "principal": {"id": a.principal_id, "type": a.principal_type or "User"},
                "scope": a.scope}
        if strip_marker(a.description):
            item["description"] = strip_marker(a.description)
        if a.condition:
            item["condition"] = a.condition
            item["condition_version"] = a.condition_version or "2.0"
        out.append(item)
    return out


def _definition(role: RoleDefinition) -> dict:
    d = dict(to_az_dict(replace(role, description=strip_marker(role.description))))
    d.pop("Id", None)  # the spec names roles; ids are Azure's business
    return d


def export_scope(gw: Gateway, scope: str, *, custom_only: bool = False) -> dict:
    """The roles spec (a dict, as ``spec.load_spec`` reads it) of what is defined and assigned at or
    below *scope*: custom roles by key, assignments of built-in roles by name (with *custom_only*,
    only custom roles and their assignments). Ownership markers are left out."""
    target = parse_scope(scope)
    roles = _custom_roles_at(gw, target)
    keys = role_keys(roles)
    assignments = _assignment_entries(gw, target, keys, custom_only)
    last = str(target).rstrip("/").rsplit("/", 1)[-1] or "tenant"
    by_guid = {r.role_id.lower(): r for r in roles}
    return {
        "version": 1,
        "name": ("exported-" + re.sub(r"[^A-Za-z0-9._-]+", "-", last))[:64].rstrip("-."),
        "description": f"Exported from {scope} by rbactool export",
        "roles": [{"key": keys[guid], "definition": _definition(r)}
                  for guid, r in sorted(by_guid.items(), key=lambda kv: keys[kv[0]])],
        "assignments": assignments,
    }


def spec_yaml(doc: dict) -> str:
    """A spec dict as the YAML ``export`` writes."""
    import yaml

    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120)
