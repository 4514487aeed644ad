"""What several commands share: click option groups, and the validation gate as a command step
(announce the config, validate, show what blocks on stderr, refuse)."""

from __future__ import annotations

from pathlib import Path

import click
from click.core import ParameterSource

FAIL_ON = ("error", "security-warning", "warning", "suggestion", "none")


def _apply(fn, decorators):
    for decorator in reversed(decorators):
        fn = decorator(fn)
    return fn


def scope_options(fn):
    """--subscription / --resource-group / --management-group, shared by commands that render."""
    return _apply(fn, (
        click.option("--subscription", "-s", envvar="AZURE_SUBSCRIPTION_ID", show_envvar=True, metavar="GUID",
                     help="Subscription of the assignable scope."),
        click.option("--resource-group", "-g", metavar="NAME", help="Resource group (assignable scope)."),
        click.option("--management-group", "-m", metavar="ID", help="Management group (instead of a subscription)."),
    ))


def template_dir_option(fn):
    return click.option(
        "--templates", "template_dirs", multiple=True, type=click.Path(file_okay=False, path_type=Path),
        metavar="DIR", help="Extra template directory, searched before the shipped templates (repeatable; "
        "also $RBACTOOL_TEMPLATES).",
    )(fn)


def scope_values(ctx: click.Context, subscription, resource_group, management_group) -> dict:
    """The scope options as given; a subscription from the environment yields to --management-group."""
    if (
        management_group
        and subscription
        and ctx.get_parameter_source("subscription") == ParameterSource.ENVIRONMENT
        and not resource_group
    ):
        subscription = None
    return {"subscription": subscription, "resource_group": resource_group, "management_group": management_group}


def spec_scope(ctx: click.Context, scope: dict) -> tuple[dict, dict]:
    """(overrides, fallbacks) for a roles spec: $AZURE_SUBSCRIPTION_ID only fills in where the spec
    names no subscription; a --subscription given on the command line overrides."""
    scope = dict(scope)
    fallbacks = {}
    if ctx.get_parameter_source("subscription") == ParameterSource.ENVIRONMENT:
        fallbacks["subscription"] = scope.pop("subscription")
    return scope, fallbacks


def config_options(fail_on_help: str):
    """--fail-on / --config / --no-config: the validation gate's settings, the same for validate,
    create, plan and apply (see ``rbactool.api.load_config`` and ``run_gate``)."""

    def wrap(fn):
        return _apply(fn, (
            click.option("--fail-on", type=click.Choice(FAIL_ON), default=None,
                         help=f"{fail_on_help} [default: error, or fail_on in the config]. "
                              "security-warning is the recommended CI setting."),
            click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
                         help="Config file: suppressions, severity overrides, fail_on "
                              "[default: the nearest .rbactool.yaml upward from the current directory]."),
            click.option("--no-config", is_flag=True, help="Ignore any .rbactool.yaml."),
        ))

    return wrap


def announce_gate(config, no_config: bool, catalog_source=None) -> None:
    """The gate's one line on stderr (``rbactool.output.gate_announcement``), the same for every command."""
    from rbactool.output import gate_announcement

    click.echo(gate_announcement(config, no_config=no_config, catalog_source=catalog_source), err=True)


def run_gate(roles, catalog_source, config, *, no_config: bool, what: str, bypass: str = "--fail-on none",
             force: bool = False):
    """The gate for commands that act on roles (create, plan, apply): announce the config, validate
    through ``rbactool.api.validate_roles``, show what blocks (and any ERROR or SECURITY_WARNING) on
    stderr, and refuse (``ValidationRefused``, exit 3) unless *force*. Returns (report, catalog)."""
    from rbactool import api
    from rbactool.errors import ValidationRefused
    from rbactool.output import format_gate_findings, format_gate_forced

    announce_gate(config, no_config, catalog_source)
    catalog = api.load_catalog(source=catalog_source)
    report = api.validate_roles(roles, catalog=catalog, config=config)
    for line in format_gate_findings(report):
        click.echo(line, err=True)
    if report.failed():
        if not force:
            raise ValidationRefused(report, what, bypass)
        click.echo(format_gate_forced(report), err=True)
    return report, catalog
