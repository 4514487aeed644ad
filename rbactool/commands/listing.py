"""`rbactool list definitions|assignments` and `rbactool whoami`: reads only."""

from __future__ import annotations

import json

import click

from rbactool.commands.azure_options import connection, connection_options, default_scope


@click.group("list")
def list_group():
    """List role definitions or role assignments in Azure."""


# each is a decorator that makes a new option every time it is applied
_scope = click.option("--scope", metavar="SCOPE")
_subscription = click.option("--subscription", "-s", envvar="AZURE_SUBSCRIPTION_ID", metavar="GUID")
_format = click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)


def _target(scope, subscription, cloud, arm_endpoint, ca_bundle):
    """The scope to list at (parsed before any connection) and the connection."""
    from rbactool.api import parse_scope

    target = str(parse_scope(default_scope(scope, subscription)))
    return target, connection(cloud, arm_endpoint, ca_bundle, subscription=subscription)


@list_group.command("definitions")
@_scope
@_subscription
@click.option("--custom-only", is_flag=True, help="Only custom roles (filtered by Azure, not here).")
@click.option("--name", metavar="ROLE_NAME", help="Only the role with this name (case-insensitive).")
@_format
@connection_options
def list_definitions(scope, subscription, custom_only, name, fmt, cloud, arm_endpoint, ca_bundle, retry_timeout):
    """Role definitions visible at a scope."""
    from rbactool.operations_format import definitions_json, definitions_table

    target, azure = _target(scope, subscription, cloud, arm_endpoint, ca_bundle)
    roles = azure.list_definitions(target, custom_only=custom_only, name=name)
    if fmt == "json":
        click.echo(json.dumps(definitions_json(roles), indent=2))
    else:
        click.echo(definitions_table(roles))


@list_group.command("assignments")
@_scope
@_subscription
@click.option("--principal", metavar="OBJECT_ID", help="Only this principal's assignments.")
@click.option("--role", metavar="ROLE", help="Only this role (name, GUID or id).")
@_format
@connection_options
def list_assignments(scope, subscription, principal, role, fmt, cloud, arm_endpoint, ca_bundle, retry_timeout):
    """Role assignments at, above and below a scope."""
    from rbactool.operations_format import assignments_table

    target, azure = _target(scope, subscription, cloud, arm_endpoint, ca_bundle)
    found = azure.list_assignments(target, principal_id=principal, role=role)
    if fmt == "json":
        click.echo(json.dumps([a.to_dict() for a in found], indent=2))
    else:
        click.echo(assignments_table(found, azure.role_names(found, target)))


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
