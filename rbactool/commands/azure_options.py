"""Options and helpers shared by the commands that talk to Azure: the connection (``rbactool.api.Azure``),
the target scope of an assignment, progress lines. No ``azure.*`` import until a request is made."""

from __future__ import annotations

import logging

import click

logger = logging.getLogger(__name__)


def stack(fn, decorators):
    """*fn* with click *decorators* applied as if written above it in this order."""
    for decorator in reversed(decorators):
        fn = decorator(fn)
    return fn


def connection_options(fn):
    """--cloud / --arm-endpoint / --ca-bundle / --retry-timeout, shared by every Azure command."""
    return stack(fn, (
        click.option("--cloud", type=click.Choice(["AzureCloud", "AzureUSGovernment", "AzureChinaCloud"]),
                     envvar="AZURE_CLOUD", help="Azure cloud (ARM endpoint and sign-in authority)."),
        click.option("--arm-endpoint", envvar="RBACTOOL_ARM_ENDPOINT", show_envvar=True, metavar="URL",
                     help="Another ARM endpoint, e.g. the local emulator."),
        click.option("--ca-bundle", envvar="RBACTOOL_CA_BUNDLE", show_envvar=True,
                     type=click.Path(dir_okay=False), metavar="PEM",
                     help="CA certificates to trust for --arm-endpoint."),
        click.option("--retry-timeout", type=click.FloatRange(0, 3600), default=90.0, show_default=True,
                     metavar="SECONDS", help="How long to wait for Azure to replicate a new role or principal."),
    ))


def assignment_target_options(fn):
    return stack(fn, (
        click.option("--scope", metavar="SCOPE", help="ARM scope of the assignment."),
        click.option("--subscription", "-s", envvar="AZURE_SUBSCRIPTION_ID", metavar="GUID"),
        click.option("--resource-group", "-g", metavar="NAME"),
        click.option("--workspace", "-w", metavar="NAME", help="Azure ML workspace (in --resource-group)."),
        click.option("--endpoint", "-e", "online_endpoint", metavar="NAME",
                     help="Azure ML online endpoint (in --workspace)."),
    ))


def output_option(*choices: str):
    """--format, with az's spellings -o/--output; the first choice is the default."""
    return click.option("--format", "-o", "--output", "fmt", type=click.Choice(choices), default=choices[0],
                        show_default=True, help="Output format (-o/--output: az's spelling).")


def progress(message: str) -> None:
    click.echo(f"... {message}", err=True)


def connection(cloud, arm_endpoint, ca_bundle, retry_timeout=None, subscription=None, cancel=None):
    """The connection options as an ``rbactool.api.Azure`` (progress lines on stderr); no request yet."""
    from rbactool import api

    azure = api.connect(cloud=cloud, arm_endpoint=arm_endpoint, ca_bundle=ca_bundle, subscription=subscription,
                        retry_timeout=retry_timeout, progress=progress, cancel=cancel)
    logger.info("Azure: %s", azure.conn.describe())
    return azure


def default_scope(scope: str | None, subscription: str | None, resource_group: str | None = None) -> str:
    if scope:
        return scope
    if resource_group:
        if not subscription:
            raise click.UsageError("--resource-group needs --subscription (or AZURE_SUBSCRIPTION_ID)")
        return f"/subscriptions/{subscription}/resourceGroups/{resource_group}"
    if subscription:
        return f"/subscriptions/{subscription}"
    raise click.UsageError("give --scope, or --subscription (or AZURE_SUBSCRIPTION_ID)")


def target_scope(scope, subscription, resource_group, workspace, online_endpoint) -> str:
    """The assignment's scope from --scope, or -s/-g/-w/-e. A whole subscription must be asked for
    with -s: $AZURE_SUBSCRIPTION_ID alone never silently makes a subscription-wide assignment."""
    from click.core import ParameterSource

    from rbactool.api import parse_scope

    if not (scope or resource_group or workspace or online_endpoint) and subscription:
        ctx = click.get_current_context(silent=True)
        source = ctx.get_parameter_source("subscription") if ctx is not None else None
        if source is not ParameterSource.COMMANDLINE:
            raise click.UsageError("give the assignment's scope: --scope, -g [-w [-e]], or -s SUBSCRIPTION for the "
                                   "whole subscription ($AZURE_SUBSCRIPTION_ID alone is not taken as a scope)")
    if scope and (resource_group or workspace or online_endpoint):
        raise click.UsageError("give --scope, or --resource-group/--workspace/--endpoint, not both")
    if online_endpoint and not workspace:
        raise click.UsageError("--endpoint needs --workspace")
    if workspace:
        if not resource_group:
            raise click.UsageError("--workspace needs --resource-group")
        base = default_scope(None, subscription, resource_group)
        scope = f"{base}/providers/Microsoft.MachineLearningServices/workspaces/{workspace}"
        if online_endpoint:
            scope += f"/onlineEndpoints/{online_endpoint}"
    return str(parse_scope(default_scope(scope, subscription, resource_group)))
