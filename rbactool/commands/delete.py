"""`rbactool delete`: delete a custom role from Azure (refused while it is assigned)."""

from __future__ import annotations

from pathlib import Path

import click

from rbactool.commands.azure_options import connection, connection_options


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

    from rbactool import api

    if with_assignments and not yes and not sys.stdin.isatty():  # before any request: the answer is the same
        raise click.UsageError("not a terminal, so rbactool cannot ask before removing assignments: "
                               "pass --yes to remove them without confirmation")

    ref = api.load_role(role) if Path(role).is_file() else role
    if scope is None and subscription:
        scope = f"/subscriptions/{subscription}"
    if scope is not None:
        scope = str(api.parse_scope(scope))
    azure = connection(cloud, arm_endpoint, ca_bundle, retry_timeout, subscription)
    found = azure.find_custom_role(ref, scope)
    name = ref if isinstance(ref, str) else ref.name
    if found is None:
        click.echo(f"absent        {name}  (nothing to delete)")
        return
    if with_assignments and not yes:
        holders = azure.assignments_of_role(found)
        if holders and not click.confirm(f"Remove {len(holders)} assignment(s) of {found.name!r}?", err=True):
            raise click.Abort()
    removed = azure.delete_role(found, with_assignments=with_assignments)
    for a in removed:
        click.echo(f"unassigned    {a.principal_id} at {a.scope}")
    click.echo(f"deleted       {found.name}  ({found.role_id})")
