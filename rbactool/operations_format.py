"""Output of the imperative Azure commands (create, assign, unassign, list, whoami): text and JSON.
Pure: strings and dicts, nothing printed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rbactool.assignments import PRINCIPAL_TYPES, Assignment  # noqa: F401 (PRINCIPAL_TYPES: assign --principal-type)
from rbactool.model import RoleDefinition, to_flat_dict
from rbactool.readers import clip

if TYPE_CHECKING:  # imported when used: `list` and `create` need nothing of rbactool.operations to print
    from rbactool.operations import AssignResult, ResolvedRole, RoleResult


def tsv(rows: list[list[str]], headers: list[str]) -> str:
    """az's ``-o tsv``: one line per row, the columns tab-separated, no header (a tab or line break
    inside a value becomes a blank, so every row stays one line); empty when there are no rows."""
    def cell(value) -> str:
        return str(value).replace("\t", " ").replace("\r", " ").replace("\n", " ")

    return "".join("\t".join(cell(c) for c in r) + "\n" for r in rows)


def table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() for r in [headers, *rows]]
    return "\n".join(lines)


# --------------------------------------------------------------------------- create


def role_result_line(change: RoleResult, catalog) -> str:
    """'updated       Name  (guid) (+1 operation (...), -0)': an update says its effective change."""
    summary = ""
    if "update" in change.status and change.previous is not None:
        from rbactool.diff import diff_roles

        d = diff_roles(change.previous, change.role, catalog, findings=False)
        summary = f" ({d.summary()}{d.assignable_scopes.note()})"
    return f"{change.status:<13} {change.role.name}  ({change.role.role_id}){summary}"


def role_results_dict(results: list[RoleResult]) -> dict:
    return {"schema_version": 1, "roles": [
        {"status": c.status, "name": c.role.name, "id": c.role.role_id,
         "assignableScopes": list(c.role.assignable_scopes)} for c in results]}


# --------------------------------------------------------------------------- assign / unassign


def _assignment_id(a: Assignment | None, scope: str, name: str, *, text: bool = False) -> str:
    if a is not None and (a.id or text):
        return a.id
    return f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"


def role_ref_label(role: ResolvedRole) -> str:
    return role.role.name if role.role else role.guid


def _field_text(value: str | None) -> str:
    return "(none)" if value is None else clip(value, 200)


def assign_text(result: AssignResult, principal: str, scope: str) -> str:
    """The status line, the assignment's id, one line per changed field, a warning when access widens."""
    lines = [f"{result.status:<17} {role_ref_label(result.role)} -> {principal} at {scope}",
             f"  {_assignment_id(result.assignment, scope, result.name, text=True)}"]
    lines += [f"  {c.field}: {_field_text(c.before)} -> {_field_text(c.after)}" for c in result.changes]
    if result.widens_access:
        lines.append("  removing the condition widens access: the role applies without it")
    return "\n".join(lines) + "\n"


def assign_dict(result: AssignResult, principal: str, scope: str) -> dict:
    a = result.assignment
    return {
        "schema_version": 1, "status": result.status, "role": role_ref_label(result.role), "principalId": principal,
        "scope": scope, "id": _assignment_id(a, scope, result.name), "name": result.name,
        "changes": [{"field": c.field, "before": c.before, "after": c.after} for c in result.changes],
        "widensAccess": result.widens_access,
        "assignment": a.to_dict() if a is not None else None,
    }


def unassign_text(removed: list[Assignment], role: ResolvedRole | None, principal: str, scope: str,
                  *, dry_run: bool) -> str:
    if not removed:
        return f"absent            {principal} has no matching assignment at {scope}\n"
    from rbactool.builtins import load_builtin_roles

    builtins = load_builtin_roles()
    lines = []
    for a in removed:
        b = builtins.by_id(a.role_guid)
        name = role.role.name if role and role.role else (b.name if b else a.role_guid)
        lines += [f"{'would remove' if dry_run else 'unassigned':<17} {name} -> {a.principal_id} at {a.scope}",
                  f"  {a.id}"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- list / whoami


def definitions_rows(roles: list[RoleDefinition]) -> tuple[list[list[str]], list[str]]:
    return ([[r.name, r.role_type, r.role_id or "", ", ".join(r.assignable_scopes)] for r in roles],
            ["Name", "Type", "Id", "AssignableScopes"])


def definitions_table(roles: list[RoleDefinition]) -> str:
    return table(*definitions_rows(roles))


def definitions_json(roles: list[RoleDefinition]) -> list[dict]:
    return [to_flat_dict(r) for r in roles]


def assignments_rows(found: list[Assignment], names: dict[str, str]) -> tuple[list[list[str]], list[str]]:
    return ([[a.principal_id, a.principal_type or "", names.get(a.role_guid.lower(), a.role_guid), a.scope]
             for a in found], ["Principal", "Type", "Role", "Scope"])


def assignments_table(found: list[Assignment], names: dict[str, str]) -> str:
    return table(*assignments_rows(found, names))


def whoami_text(endpoint: str, cloud, claims: dict) -> str:
    """*cloud* is the connection's ``Cloud``: an endpoint that is not the cloud's own ARM endpoint
    (the emulator, a private endpoint) is marked as custom."""
    named = any(k in claims for k in ("upn", "unique_name", "app_displayname"))
    who = claims.get("upn") or claims.get("unique_name") or claims.get("app_displayname") or ""
    custom = endpoint.rstrip("/") != cloud.arm_endpoint.rstrip("/")
    label = f"custom endpoint, {cloud.name} sign-in" if custom else cloud.name
    return (f"endpoint:  {endpoint} ({label})\ntenant:    {claims.get('tid', '?')}\n"
            f"principal: {claims.get('oid', '?')}" + (f" ({who})" if named else "") + "\n")


def permissions_text(allowed: dict[str, bool], scope: str) -> str:
    return "".join(f"{'yes' if ok else 'NO ':<4} {action} at {scope}\n" for action, ok in allowed.items())
