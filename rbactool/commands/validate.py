"""`rbactool validate`: a thin click shell over ``rbactool.api`` (``read_role_documents``,
``validate_roles``); `rbactool explain` is ``commands/explain.py``."""

from __future__ import annotations

import sys

import click

from rbactool.commands.options import config_options, scope_options, scope_values
from rbactool.errors import EXIT_FINDINGS, EXIT_INVALID_INPUT

FORMATS = ("text", "json", "sarif")
_COLORS = {"ERROR": "red", "SECURITY_WARNING": "magenta", "WARNING": "yellow", "SUGGESTION": "cyan"}


def _styler(color: bool):
    if not color:
        return lambda text, kind: text

    def style(text: str, kind: str) -> str:
        if kind == "bold":
            return click.style(text, bold=True)
        if kind == "dim":
            return click.style(text, dim=True)
        return click.style(text, fg=_COLORS.get(kind), bold=kind == "ERROR")

    return style


@click.command("validate")
@click.argument("files", nargs=-1, metavar="FILE|DIR|-...")
@click.option("--roles", "specs", multiple=True, metavar="SPEC.yaml",
              help="A roles spec (roles/*.yaml): render its roles, then validate them. Repeatable.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format. json has a schema_version; sarif is for GitHub code scanning.")
@config_options("Exit 1 when a finding is at or above this type")
@click.option("--ignore", "ignore_codes", multiple=True, metavar="CODE",
              help="Suppress every finding with this code (counted as suppressed). Repeatable.")
@click.option("--catalog", "catalog_path", type=click.Path(dir_okay=False), default=None, envvar="RBACTOOL_CATALOG",
              help="Operations catalog to check against [default: a cache refreshed from public Azure, "
                   "else the packaged snapshot; see `rbactool catalog info`].")
@click.option("--catalog-max-age-days", type=click.IntRange(min=0), default=None, metavar="DAYS",
              help="CATALOG_OUTDATED when the catalog snapshot is older than this [default: 180, or "
                   "catalog_max_age_days in the config].")
@click.option("--show-suppressed", is_flag=True, help="Text format: also list suppressed findings.")
@click.option("--list-rules", is_flag=True, help="Print every finding code with its type and explanation, and exit.")
@scope_options
@click.pass_context
def validate_command(ctx, files, specs, fmt, fail_on, config_path, no_config, ignore_codes, catalog_path,
                     catalog_max_age_days, show_suppressed, list_rules, subscription, resource_group,
                     management_group):
    """Check role definitions offline against the operations catalog and Azure's rules.

    FILE may be az CLI role JSON, the ARM roleDefinitions resource (alone or in a list), what
    `az role definition list` prints, an ARM deployment template, a .bicep file (compiled by
    `bicep` on PATH), a Terraform .tf file or `terraform show -json` output. JSON may hold
    comments. A directory is searched for *.json, *.jsonc, *.tf (and *.bicep); `-` reads stdin.
    The scope options resolve template expressions such as subscription().id.

    Finding types, most serious first: ERROR (ARM would reject the role), SECURITY_WARNING,
    WARNING, SUGGESTION. Exit codes: 0 no finding at or above --fail-on; 1 findings; 2 usage
    error; 3 invalid input (a file that could not be read -- after every other file is
    reported --, bad config or catalog).
    """
    from rbactool import output

    if list_rules:
        click.echo(output.format_rules_json() if fmt == "json" else output.format_rules_text(), nl=False)
        return
    if not files and not specs:
        raise click.UsageError("give at least one FILE, DIR, '-' or --roles SPEC (or --list-rules)")

    from concurrent.futures import ThreadPoolExecutor

    from rbactool import api
    from rbactool.commands.options import announce_gate

    if files.count("-") > 1:
        raise click.UsageError("'-' (standard input) can be given only once")
    scope = scope_values(ctx, subscription, resource_group, management_group)
    with ThreadPoolExecutor(1) as pool:  # documents are read (.tf files parse in child processes) meanwhile
        reading = pool.submit(api.read_role_documents, files, specs, scope=scope)
        config = api.load_config(config_path, no_config=no_config, fail_on=fail_on,
                                 catalog_max_age_days=catalog_max_age_days)
        extra_ignores = api.ignore_codes(ignore_codes)
        source = api.catalog_source(catalog_path)
        catalog = api.load_catalog(source=source)
        docs = reading.result()

    announce_gate(config, no_config, source)
    report = api.validate_roles(docs.roles, catalog=catalog, config=config, extra_findings=docs.findings,
                                extra_ignores=extra_ignores, files=docs.files, inputs=docs.inputs)
    texts = docs.texts
    if fmt == "json":
        click.echo(output.format_json(report, catalog_origin=catalog.origin), nl=False)
    elif fmt == "sarif":
        click.echo(output.format_sarif(report, texts=texts), nl=False)
    else:
        color = sys.stdout.isatty() if ctx.color is None else ctx.color
        click.echo(output.format_text(report, style=_styler(color), show_suppressed=show_suppressed), nl=False)
    for unreadable in report.unreadable:
        click.echo(f"Error: {unreadable.file}: {unreadable.error}", err=True)
    if report.unreadable:
        ctx.exit(EXIT_INVALID_INPUT)
    if report.failed():
        ctx.exit(EXIT_FINDINGS)
