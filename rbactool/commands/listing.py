"""`rbactool list definitions|assignments` and `rbactool whoami`: reads only."""

from __future__ import annotations

import json

import click

from rbactool.commands.azure_options import connection, connection_options, default_scope, output_option


@click.group("list")
def list_group():
    """List role definitions or role assignments in Azure."""


# each is a decorator that makes a new option every time it is applied
_scope = click.option("--scope", metavar="SCOPE")
_subscription = click.option("--subscription", "-s", envvar="AZURE_SUBSCRIPTION_ID", metavar="GUID")
_format = output_option("table", "json", "tsv")


def _target(scope, subscription, cloud, arm_endpoint, ca_bundle):
    """The scope to list at (parsed before any connection) and the connection."""
    from rbactool.api import parse_scope

    target = str(parse_scope(default_scope(scope, subscription)))
    return target, connection(cloud, arm_endpoint, ca_bundle, subscription=subscription)


@list_group.command("definitions")
@_scope
@_subscription
@click.option("--custom-only", "--custom-role-only", "custom_only", is_flag=True,
              help="Only custom roles (filtered by Azure, not here). Alias: --custom-role-only (az).")
@click.option("--name", "-n", metavar="ROLE_NAME", help="Only the role with this name (case-insensitive).")
@_format
@connection_options
def list_definitions(scope, subscription, custom_only, name, fmt, cloud, arm_endpoint, ca_bundle, retry_timeout):
    """Role definitions visible at a scope."""
    from rbactool.operations_format import definitions_json, definitions_rows, table, tsv

    target, azure = _target(scope, subscription, cloud, arm_endpoint, ca_bundle)
    roles = azure.list_definitions(target, custom_only=custom_only, name=name)
    if fmt == "json":
        click.echo(json.dumps(definitions_json(roles), indent=2))
    else:
        click.echo((tsv if fmt == "tsv" else table)(*definitions_rows(roles)), nl=fmt != "tsv")


@list_group.command("assignments")
@_scope
@_subscription
@click.option("--principal", "--assignee", "principal", metavar="OBJECT_ID",
              help="Only this principal's assignments. Alias: --assignee (az; an object id only: no Graph lookup).")
@click.option("--role", metavar="ROLE", help="Only this role (name, GUID or id).")
@click.option("--below/--no-below", " /--include-inherited", default=True, show_default=True,
              help="Also list the assignments below the scope; --no-below (az: --include-inherited): only those "
                   "at the scope and inherited from above it.")
@click.option("--all", "whole_subscription", is_flag=True,
              help="Every assignment in the subscription (az's spelling): the same as -s SUBSCRIPTION without "
                   "--scope.")
@_format
@connection_options
def list_assignments(scope, subscription, principal, role, below, whole_subscription, fmt, cloud, arm_endpoint,
                     ca_bundle, retry_timeout):
    """Role assignments at, above and (unless --no-below) below a scope (default: the subscription)."""
    from rbactool.operations_format import assignments_rows, table, tsv

    if whole_subscription and scope:
        raise click.UsageError("give --scope or --all, not both (--all lists the whole subscription)")
    target, azure = _target(scope, subscription, cloud, arm_endpoint, ca_bundle)
    found = azure.list_assignments(target, principal_id=principal, role=role, below=below)
    if fmt == "json":
        click.echo(json.dumps([a.to_dict() for a in found], indent=2))
    else:
        rows = assignments_rows(found, azure.role_names(found, target))
        click.echo((tsv if fmt == "tsv" else table)(*rows), nl=fmt != "tsv")


@click.command("whoami")
@click.option("--scope", metavar="SCOPE", help="Also check the permissions to manage roles here.")
@connection_options
def whoami_command(scope, cloud, arm_endpoint, ca_bundle, retry_timeout):
    """Who the credential is (principal, tenant), which endpoint; with --scope, whether it may
    create custom roles and assignments there. No token is ever shown."""
    from rbactool.api import parse_scope
    from rbactool.operations_format import permissions_text, whoami_text

    if scope:
        scope = str(parse_scope(scope))
    azure = connection(cloud, arm_endpoint, ca_bundle)
    click.echo(whoami_text(azure.conn.endpoint, azure.conn.cloud, azure.whoami()), nl=False)
    if scope:
        click.echo(permissions_text(azure.check_permissions(scope), scope), nl=False)
