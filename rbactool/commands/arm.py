"""Commands that talk to Azure: create, delete, assign, unassign, list, whoami.

Thin shells: they parse options, load roles through the offline core, build the gateway from
``rbactool.azure_adapter`` (imported here, lazily, only when one of these commands runs) and call
``rbactool.operations``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click

from rbactool.assignments import PRINCIPAL_TYPES
from rbactool.commands.render import scope_options, scope_values, template_dir_option
from rbactool.commands.validate import config_options, gate_config
from rbactool.errors import InputError
from rbactool.model import RoleDefinition

logger = logging.getLogger(__name__)


def connection_options(fn):
    """--cloud / --arm-endpoint / --ca-bundle / --retry-timeout, shared by every Azure command."""
    for decorator in reversed(
        (
            click.option("--cloud", type=click.Choice(["AzureCloud", "AzureUSGovernment", "AzureChinaCloud"]),
                         envvar="AZURE_CLOUD", help="Azure cloud (ARM endpoint and sign-in authority)."),
            click.option("--arm-endpoint", envvar="RBACTOOL_ARM_ENDPOINT", show_envvar=True, metavar="URL",
                         help="Another ARM endpoint, e.g. the local emulator."),
            click.option("--ca-bundle", envvar="RBACTOOL_CA_BUNDLE", show_envvar=True,
                         type=click.Path(dir_okay=False), metavar="PEM",
                         help="CA certificates to trust for --arm-endpoint."),
            click.option("--retry-timeout", type=click.FloatRange(0, 3600), default=90.0, show_default=True,
                         metavar="SECONDS",
                         help="How long to wait for Azure to replicate a new role or principal."),
        )
    ):
        fn = decorator(fn)
    return fn


def gateway(cloud, arm_endpoint, ca_bundle, subscription=None):
    from rbactool.azure_adapter import AzureGateway, connection_settings

    conn = connection_settings(cloud=cloud, endpoint=arm_endpoint, ca_bundle=ca_bundle, subscription=subscription)
    logger.info("Azure: %s", conn.describe())
    return AzureGateway(conn)


def _progress(message: str) -> None:
    click.echo(f"... {message}", err=True)


def _backoff(retry_timeout: float):
    from rbactool.operations import Backoff

    return Backoff(timeout=retry_timeout)


def _default_scope(scope: str | None, subscription: str | None, resource_group: str | None = None) -> str:
    if scope:
        return scope
    if resource_group:
        if not subscription:
            raise click.UsageError("--resource-group needs --subscription (or AZURE_SUBSCRIPTION_ID)")
        return f"/subscriptions/{subscription}/resourceGroups/{resource_group}"
    if subscription:
        return f"/subscriptions/{subscription}"
    raise click.UsageError("give --scope, or --subscription (or AZURE_SUBSCRIPTION_ID)")


# --------------------------------------------------------------------------- loading roles


def load_roles_arg(ctx, source: str | None, roles_spec: Path | None, set_values, scope: dict,
                   template_dirs) -> list[RoleDefinition]:
    """Roles from a role file, a template name (rendered with --set and the scope options), or a spec."""
    from rbactool import render as rendering
    from rbactool.model import load_roles

    if roles_spec is not None:
        if source:
            raise click.UsageError("give either ROLE (a file or template) or --roles, not both")
        from rbactool.spec import load_spec, render_spec

        rendered = render_spec(load_spec(roles_spec), extra_template_dirs=tuple(template_dirs), overrides=scope)
        return [r.role for r in rendered]
    if not source:
        raise click.UsageError("missing ROLE (a role file or a template name) or --roles SPEC")
    if Path(source).is_file():
        return load_roles(source)
    dirs = rendering.template_dirs(template_dirs)
    if source not in rendering.discover(dirs) and (source.endswith(".json") or "/" in source):
        raise InputError(f"{source}: no such file")
    template = rendering.load_template(source, dirs)
    # preflight() validates the role right after (the validator covers the rendered-role schema)
    return [rendering.render_role(template, rendering.parse_set_options(set_values), schema=False, **scope)]


def preflight(roles: list[RoleDefinition], force: bool, *, config, no_config: bool, endpoint: str | None):
    """Validate before touching Azure, through the same gate as `rbactool validate` (with the same
    .rbactool.yaml): refuse on findings at or above fail_on unless --force. Returns the catalog."""
    import os

    from rbactool.catalog import resolve_source
    from rbactool.commands.validate import run_gate

    source = resolve_source(endpoint=endpoint, tenant=os.environ.get("AZURE_TENANT_ID"))
    _, catalog = run_gate(roles, source, config, no_config=no_config, what="the roles to create",
                          bypass="--force", force=force)
    return catalog


def _effective_summary(old: RoleDefinition | None, new: RoleDefinition, catalog) -> str:
    """The effective change of an update, as `rbactool diff` states it: ' (+1 operation (...), -0)'."""
    if old is None:
        return ""
    from rbactool.diff import diff_roles

    return f" ({diff_roles(old, new, catalog, findings=False).summary()})"


# --------------------------------------------------------------------------- create / delete


@click.command("create")
@click.argument("role", required=False, metavar="ROLE_FILE|TEMPLATE")
@click.option("--roles", "roles_spec", type=click.Path(dir_okay=False, path_type=Path), metavar="SPEC",
              help="Create every role of a roles spec.")
@scope_options
@click.option("--set", "set_values", multiple=True, metavar="KEY=VALUE", help="Template parameter (repeatable).")
@template_dir_option
@click.option("--dry-run", is_flag=True, help="Make no writes; print what would happen.")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="Wait until Azure serves the role at every assignable scope.")
@click.option("--force", is_flag=True, help="Create even when validation finds errors (at or above --fail-on).")
@config_options("Refuse to create when a finding is at or above this type")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@connection_options
@click.pass_context
def create_command(ctx, role, roles_spec, subscription, resource_group, management_group, set_values, template_dirs,
                   dry_run, wait, force, fail_on, config_path, no_config, fmt, cloud, arm_endpoint, ca_bundle,
                   retry_timeout):
    """Create or update custom roles in Azure, idempotently.

    An existing custom role with the same name is updated in place (no write when it already
    matches); a new one gets a deterministic id, so two runs never make two roles.

    \b
    Examples:
      rbactool create online-endpoint-scoring -s $SUB -g ml-rg
      rbactool create roles/out/scoring.json
      rbactool create --roles roles/online-endpoints.yaml --dry-run
    """
    from rbactool.operations import ensure_role, wait_for_role

    scope = scope_values(ctx, subscription, resource_group, management_group)
    config = gate_config(config_path, no_config, fail_on)
    roles = load_roles_arg(ctx, role, roles_spec, set_values, scope, template_dirs)
    gw = gateway(cloud, arm_endpoint, ca_bundle, subscription)  # no request yet
    catalog = preflight(roles, force, config=config, no_config=no_config, endpoint=gw.conn.endpoint)
    backoff = _backoff(retry_timeout)
    # Write every role first, then wait for all of them: their replication delays overlap.
    results = [ensure_role(gw, r, dry_run=dry_run, wait=False) for r in roles]
    if wait:
        for change in results:
            if change.wrote:  # change.role is what the PUT stored: wait until Azure serves exactly that
                wait_for_role(gw, change.role, backoff=backoff, progress=_progress)
    for change in results:
        if fmt == "text":
            summary = _effective_summary(change.previous, change.role, catalog) if "update" in change.status else ""
            click.echo(f"{change.status:<13} {change.role.name}  ({change.role.role_id}){summary}")
    if fmt == "json":
        click.echo(json.dumps({"schema_version": 1, "roles": [
            {"status": c.status, "name": c.role.name, "id": c.role.role_id,
             "assignableScopes": list(c.role.assignable_scopes)} for c in results]}, indent=2))
    logger.info("%d HTTP request(s)", gw.requests)


@click.command("delete")
@click.argument("role", metavar="ROLE")
@click.option("--scope", metavar="SCOPE", help="Where to look the role up (default: the subscription).")
@click.option("--subscription", "-s", envvar="AZURE_SUBSCRIPTION_ID", metavar="GUID")
@click.option("--with-assignments", is_flag=True, help="Remove the role's assignments first.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before removing assignments.")
@connection_options
def delete_command(role, scope, subscription, with_assignments, yes, cloud, arm_endpoint, ca_bundle, retry_timeout):
    """Delete a custom role, by name, GUID, full id or role file.

    Refuses while the role is assigned (listing the assignments) unless --with-assignments.
    Deleting a role that does not exist succeeds with a note. Built-in roles are refused.
    """
    import sys

    from rbactool.model import load_role
    from rbactool.operations import assignments_of_role, delete_role, find_custom_role
    from rbactool.scopes import parse_scope

    if with_assignments and not yes and not sys.stdin.isatty():  # before any request: the answer is the same
        raise click.UsageError("not a terminal, so rbactool cannot ask before removing assignments: "
                               "pass --yes to remove them without confirmation")

    ref: str | RoleDefinition = load_role(role) if Path(role).is_file() else role
    if scope is None and subscription:
        scope = f"/subscriptions/{subscription}"
    if scope is not None:
        scope = str(parse_scope(scope))
    gw = gateway(cloud, arm_endpoint, ca_bundle, subscription)
    found = find_custom_role(gw, ref, scope)
    name = ref.name if isinstance(ref, RoleDefinition) else ref
    if found is None:
        click.echo(f"absent        {name}  (nothing to delete)")
        return
    if with_assignments and not yes:
        holders = assignments_of_role(gw, found)
        if holders and not click.confirm(f"Remove {len(holders)} assignment(s) of {found.name!r}?", err=True):
            raise click.Abort()
    removed = delete_role(gw, found, with_assignments=with_assignments, backoff=_backoff(retry_timeout),
                          progress=_progress)
    for a in removed:
        click.echo(f"unassigned    {a.principal_id} at {a.scope}")
    click.echo(f"deleted       {found.name}  ({found.role_id})")


# --------------------------------------------------------------------------- assign / unassign


def assignment_target_options(fn):
    for decorator in reversed(
        (
            click.option("--scope", metavar="SCOPE", help="ARM scope of the assignment."),
            click.option("--subscription", "-s", envvar="AZURE_SUBSCRIPTION_ID", metavar="GUID"),
            click.option("--resource-group", "-g", metavar="NAME"),
            click.option("--workspace", "-w", metavar="NAME", help="Azure ML workspace (in --resource-group)."),
            click.option("--endpoint", "-e", "online_endpoint", metavar="NAME",
                         help="Azure ML online endpoint (in --workspace)."),
        )
    ):
        fn = decorator(fn)
    return fn


def target_scope(scope, subscription, resource_group, workspace, online_endpoint) -> str:
    from rbactool.scopes import parse_scope

    if scope and (resource_group or workspace or online_endpoint):
        raise click.UsageError("give --scope, or --resource-group/--workspace/--endpoint, not both")
    if online_endpoint and not workspace:
        raise click.UsageError("--endpoint needs --workspace")
    if workspace:
        if not resource_group:
            raise click.UsageError("--workspace needs --resource-group")
        base = _default_scope(None, subscription, resource_group)
        scope = f"{base}/providers/Microsoft.MachineLearningServices/workspaces/{workspace}"
        if online_endpoint:
            scope += f"/onlineEndpoints/{online_endpoint}"
    scope = _default_scope(scope, subscription, resource_group)
    return str(parse_scope(scope))


def _role_ref(gw, role: str, scope: str, template_dirs):
    """--role as a built-in name, GUID or id, a custom name, a role file, or a template name."""
    from rbactool import render as rendering
    from rbactool.model import load_role
    from rbactool.operations import resolve_role
    from rbactool.scopes import parse_scope

    if Path(role).is_file():
        return resolve_role(gw, load_role(role), scope)
    dirs = rendering.template_dirs(template_dirs)
    if role in rendering.discover(dirs):
        s = parse_scope(scope)
        if s.subscription is None:
            raise InputError(f"--role {role}: rendering a template needs a subscription scope")
        rendered = rendering.render_role(rendering.load_template(role, dirs), {}, schema=False,
                                         subscription=s.subscription, resource_group=s.resource_group)
        return resolve_role(gw, rendered, scope)
    return resolve_role(gw, role, scope)


def _print_assignment(status: str, a, name: str, role_label: str, scope: str, principal: str) -> None:
    ident = a.id if a is not None else f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
    click.echo(f"{status:<17} {role_label} -> {principal} at {scope}")
    click.echo(f"  {ident}")


def _field_text(value: str | None) -> str:
    from rbactool.readers import clip

    return "(none)" if value is None else clip(value, 200)


def _change_lines(result) -> list[str]:
    """One line per changed field: 'condition: 'before' -> 'after'', and a warning when access widens."""
    lines = [f"  {c.field}: {_field_text(c.before)} -> {_field_text(c.after)}" for c in result.changes]
    if result.widens_access:
        lines.append("  removing the condition widens access: the role applies without it")
    return lines


@click.command("assign")
@click.option("--identity", "-i", required=True, metavar="OBJECT_ID",
              help="Object id of the user, group or service principal (not an application id).")
@click.option("--role", "-r", required=True, metavar="ROLE",
              help="Built-in or custom role name, role GUID or id, role file, or template name.")
@assignment_target_options
@click.option("--principal-type", type=click.Choice(PRINCIPAL_TYPES),
              help="The identity's type; recommended for new identities (ARM then skips the directory lookup).")
@click.option("--description", metavar="TEXT",
              help="Description (an existing one is kept unless given; apply's ownership marker is always kept).")
@click.option("--condition", metavar="EXPR", help="ABAC condition (an existing one is kept unless given).")
@click.option("--condition-version", metavar="VERSION", help="Version of the condition syntax (default 2.0).")
@click.option("--clear-condition", is_flag=True,
              help="Remove the assignment's condition. This widens access: the role then applies unconditionally.")
@click.option("--dry-run", is_flag=True, help="Make no writes; print what would happen.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@template_dir_option
@connection_options
def assign_command(identity, role, scope, subscription, resource_group, workspace, online_endpoint, principal_type,
                   description, condition, condition_version, clear_condition, dry_run, fmt, template_dirs, cloud,
                   arm_endpoint, ca_bundle, retry_timeout):
    """Assign a role to an identity at a scope, idempotently.

    The existing assignment is read first: what it has and you do not give (condition,
    description, apply's ownership marker, principal type) is kept, and nothing is written when
    it already matches (`unchanged`). A changed --condition or --description is an `updated`,
    shown before -> after; removing a condition takes --clear-condition. --dry-run reports
    exactly what a run would do. A new assignment's name is derived from scope, role and
    principal; one that exists under another name is reported (`already-assigned`) and counts
    as success. Replication delays (new roles, new principals) are retried for --retry-timeout
    seconds.

    \b
    Examples:
      rbactool assign -i $SP_OBJECT_ID --principal-type ServicePrincipal \\
          --role "Custom role for scoring - online endpoint" -g ml-rg -w ml-ws -e my-endpoint
      rbactool assign -i $USER_OID --role "AzureML Data Scientist" --scope $WORKSPACE_ID
    """
    from rbactool.operations import EMPTY_CONDITION, assign

    if clear_condition and (condition is not None or condition_version):
        raise click.UsageError("give --condition(-version) or --clear-condition, not both")
    if condition is not None and not condition.strip():
        raise click.UsageError(EMPTY_CONDITION)
    target = target_scope(scope, subscription, resource_group, workspace, online_endpoint)
    gw = gateway(cloud, arm_endpoint, ca_bundle, subscription)
    resolved = _role_ref(gw, role, target, template_dirs)
    result = assign(gw, principal_id=identity, principal_type=principal_type, role=resolved, scope=target,
                    description=description, condition=condition, condition_version=condition_version,
                    clear_condition=clear_condition, dry_run=dry_run,
                    backoff=_backoff(retry_timeout), progress=_progress)
    label = resolved.role.name if resolved.role else resolved.guid
    if fmt == "json":
        a = result.assignment
        click.echo(json.dumps({
            "schema_version": 1, "status": result.status, "role": label, "principalId": identity, "scope": target,
            "id": a.id if a is not None and a.id else
            f"{target}/providers/Microsoft.Authorization/roleAssignments/{result.name}",
            "name": result.name,
            "changes": [{"field": c.field, "before": c.before, "after": c.after} for c in result.changes],
            "widensAccess": result.widens_access,
            "assignment": a.to_dict() if a is not None else None,
        }, indent=2))
    else:
        _print_assignment(result.status, result.assignment, result.name, label, target, identity)
        for line in _change_lines(result):
            click.echo(line)
    logger.info("%d HTTP request(s)", gw.requests)


@click.command("unassign")
@click.option("--identity", "-i", required=True, metavar="OBJECT_ID")
@click.option("--role", "-r", metavar="ROLE", help="Only this role (default: every role of the identity here).")
@assignment_target_options
@click.option("--dry-run", is_flag=True, help="Make no writes; print what would be removed.")
@template_dir_option
@connection_options
def unassign_command(identity, role, scope, subscription, resource_group, workspace, online_endpoint, dry_run,
                     template_dirs, cloud, arm_endpoint, ca_bundle, retry_timeout):
    """Remove an identity's role assignments at exactly one scope. Absent is success."""
    from rbactool.operations import unassign

    target = target_scope(scope, subscription, resource_group, workspace, online_endpoint)
    gw = gateway(cloud, arm_endpoint, ca_bundle, subscription)
    resolved = _role_ref(gw, role, target, template_dirs) if role else None
    removed = unassign(gw, principal_id=identity, role=resolved, scope=target, dry_run=dry_run)
    if not removed:
        click.echo(f"absent            {identity} has no matching assignment at {target}")
    from rbactool.builtins import load_builtin_roles

    builtins = load_builtin_roles()
    for a in removed:
        name = resolved.role.name if resolved and resolved.role else \
            (builtins.by_id(a.role_guid).name if builtins.by_id(a.role_guid) else a.role_guid)
        click.echo(f"{'would remove' if dry_run else 'unassigned':<17} {name} -> {a.principal_id} at {a.scope}")
        click.echo(f"  {a.id}")


# --------------------------------------------------------------------------- list / whoami


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() for r in [headers, *rows]]
    return "\n".join(lines)


@click.group("list")
def list_group():
    """List role definitions or role assignments in Azure."""


@list_group.command("definitions")
@click.option("--scope", metavar="SCOPE")
@click.option("--subscription", "-s", envvar="AZURE_SUBSCRIPTION_ID", metavar="GUID")
@click.option("--custom-only", is_flag=True, help="Only custom roles (filtered by Azure, not here).")
@click.option("--name", metavar="ROLE_NAME", help="Only the role with this name (case-insensitive).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@connection_options
def list_definitions(scope, subscription, custom_only, name, fmt, cloud, arm_endpoint, ca_bundle, retry_timeout):
    """Role definitions visible at a scope."""
    from rbactool.model import to_flat_dict
    from rbactool.operations import odata_quote
    from rbactool.scopes import parse_scope

    target = str(parse_scope(_default_scope(scope, subscription)))
    gw = gateway(cloud, arm_endpoint, ca_bundle, subscription)
    flt = f"roleName eq {odata_quote(name)}" if name else ("type eq 'CustomRole'" if custom_only else None)
    roles = gw.list_role_definitions(target, flt)
    if custom_only:
        roles = [r for r in roles if r.is_custom]
    roles.sort(key=lambda r: (r.is_custom is False, r.name.lower()))
    if fmt == "json":
        click.echo(json.dumps([to_flat_dict(r) for r in roles], indent=2))
        return
    click.echo(_table([[r.name, r.role_type, r.role_id or "", ", ".join(r.assignable_scopes)] for r in roles],
                      ["Name", "Type", "Id", "AssignableScopes"]))


@list_group.command("assignments")
@click.option("--scope", metavar="SCOPE")
@click.option("--subscription", "-s", envvar="AZURE_SUBSCRIPTION_ID", metavar="GUID")
@click.option("--principal", metavar="OBJECT_ID", help="Only this principal's assignments.")
@click.option("--role", metavar="ROLE", help="Only this role (name, GUID or id).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@connection_options
def list_assignments(scope, subscription, principal, role, fmt, cloud, arm_endpoint, ca_bundle, retry_timeout):
    """Role assignments at, above and below a scope."""
    from rbactool.operations import odata_quote, resolve_role
    from rbactool.scopes import parse_scope

    target = str(parse_scope(_default_scope(scope, subscription)))
    gw = gateway(cloud, arm_endpoint, ca_bundle, subscription)
    flt = f"principalId eq {odata_quote(principal)}" if principal else None
    found = gw.list_role_assignments(target, flt)
    if role:
        guid = resolve_role(gw, role, target).guid.lower()
        found = [a for a in found if a.role_guid.lower() == guid]
    found.sort(key=lambda a: (a.scope.lower(), a.principal_id))
    if fmt == "json":
        click.echo(json.dumps([a.to_dict() for a in found], indent=2))
        return
    from rbactool.builtins import load_builtin_roles

    builtins = load_builtin_roles()
    custom = {}
    sub = parse_scope(target).subscription
    if any(builtins.by_id(a.role_guid) is None for a in found) and sub:
        custom = {r.role_id.lower(): r.name
                  for r in gw.list_role_definitions(f"/subscriptions/{sub}", "type eq 'CustomRole'")}

    def role_label(a):
        b = builtins.by_id(a.role_guid)
        return b.name if b else custom.get(a.role_guid.lower(), a.role_guid)

    click.echo(_table([[a.principal_id, a.principal_type or "", role_label(a), a.scope] for a in found],
                      ["Principal", "Type", "Role", "Scope"]))


@click.command("whoami")
@click.option("--scope", metavar="SCOPE", help="Also check the permissions to manage roles here.")
@connection_options
def whoami_command(scope, cloud, arm_endpoint, ca_bundle, retry_timeout):
    """Who the credential is (principal, tenant), which endpoint; with --scope, whether it may
    create custom roles and assignments there. No token is ever shown."""
    from rbactool.scopes import parse_scope

    if scope:
        scope = str(parse_scope(scope))
    gw = gateway(cloud, arm_endpoint, ca_bundle)
    claims = gw.caller()
    custom = gw.conn.endpoint.rstrip("/") != gw.conn.cloud.arm_endpoint.rstrip("/")
    label = f"custom endpoint, {gw.conn.cloud.name} sign-in" if custom else gw.conn.cloud.name
    click.echo(f"endpoint:  {gw.conn.endpoint} ({label})")
    click.echo(f"tenant:    {claims.get('tid', '?')}")
    click.echo(f"principal: {claims.get('oid', '?')}"
               + (f" ({claims.get('upn') or claims.get('unique_name') or claims.get('app_displayname') or ''})"
                  if any(k in claims for k in ('upn', 'unique_name', 'app_displayname')) else ""))
    if scope:
        allowed = check_permissions(gw, scope)
        for action, ok in allowed.items():
            click.echo(f"{'yes' if ok else 'NO ':<4} {action} at {scope}")


MANAGE_ACTIONS = ("Microsoft.Authorization/roleDefinitions/write", "Microsoft.Authorization/roleAssignments/write")


def check_permissions(gw, scope: str) -> dict[str, bool]:
    """Whether the caller holds each role-management action at *scope* (Actions minus NotActions)."""
    from rbactool.catalog import compile_pattern

    perms = gw.list_permissions(scope)
    out = {}
    for action in MANAGE_ACTIONS:
        ok = False
        for p in perms:
            granted = any(compile_pattern(a).match(action.lower()) for a in p.get("actions") or [])
            denied = any(compile_pattern(a).match(action.lower()) for a in p.get("notActions") or [])
            ok = ok or (granted and not denied)
        out[action] = ok
    return out
