"""`rbactool assign` and `rbactool unassign`: role assignments, idempotently."""

from __future__ import annotations

import json
import logging

import click

from rbactool.commands.azure_options import (
    assignment_target_options,
    connection,
    connection_options,
    output_option,
    target_scope,
)
from rbactool.commands.options import template_dir_option
from rbactool.errors import EMPTY_CONDITION
from rbactool.operations_format import PRINCIPAL_TYPES

logger = logging.getLogger(__name__)


def _role_ref(azure, role: str, scope: str, template_dirs):
    """--role as a built-in name, GUID or id, a custom name, a role file, or a template name."""
    from rbactool.api import resolve_role_argument

    return azure.resolve_role(resolve_role_argument(role, scope, template_dirs=template_dirs), scope)


@click.command("assign")
@click.option("--identity", "-i", "--assignee-object-id", "--assignee", "identity", required=True, metavar="OBJECT_ID",
              help="Object id of the user, group or service principal (not an application id). "
                   "Aliases (az): --assignee-object-id, --assignee (an object id only: no Graph lookup).")
@click.option("--role", "-r", required=True, metavar="ROLE",
              help="Built-in or custom role name, role GUID or id, role file, or template name.")
@assignment_target_options
@click.option("--principal-type", "--assignee-principal-type", "principal_type", type=click.Choice(PRINCIPAL_TYPES),
              help="The identity's type; recommended for new identities (ARM then skips the directory lookup). "
                   "Alias: --assignee-principal-type (az).")
@click.option("--description", metavar="TEXT",
              help="Description (an existing one is kept unless given; apply's ownership marker is always kept).")
@click.option("--condition", metavar="EXPR", help="ABAC condition (an existing one is kept unless given).")
@click.option("--condition-version", metavar="VERSION", help="Version of the condition syntax (default 2.0).")
@click.option("--clear-condition", is_flag=True,
              help="Remove the assignment's condition. This widens access: the role then applies unconditionally.")
@click.option("--dry-run", is_flag=True, help="Make no writes; print what would happen.")
@output_option("text", "json")
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
    from rbactool.operations_format import assign_dict, assign_text

    if clear_condition and (condition is not None or condition_version):
        raise click.UsageError("give --condition(-version) or --clear-condition, not both")
    if condition is not None and not condition.strip():
        raise click.UsageError(EMPTY_CONDITION)
    target = target_scope(scope, subscription, resource_group, workspace, online_endpoint)
    azure = connection(cloud, arm_endpoint, ca_bundle, retry_timeout, subscription)
    resolved = _role_ref(azure, role, target, template_dirs)
    result = azure.assign(identity, resolved, target, principal_type=principal_type, description=description,
                          condition=condition, condition_version=condition_version, clear_condition=clear_condition,
                          dry_run=dry_run)
    if fmt == "json":
        click.echo(json.dumps(assign_dict(result, identity, target), indent=2))
    else:
        click.echo(assign_text(result, identity, target), nl=False)
    logger.info("%d HTTP request(s)", azure.requests)


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
    from rbactool.operations_format import unassign_text

    target = target_scope(scope, subscription, resource_group, workspace, online_endpoint)
    azure = connection(cloud, arm_endpoint, ca_bundle, retry_timeout, subscription)
    resolved = _role_ref(azure, role, target, template_dirs) if role else None
    removed = azure.unassign(identity, target, role=resolved, dry_run=dry_run)
    click.echo(unassign_text(removed, resolved, identity, target, dry_run=dry_run), nl=False)
