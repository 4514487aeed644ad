"""`rbactool explain`: a thin click shell over ``rbactool.api.explain_target``."""

from __future__ import annotations

import click

from rbactool.commands.options import scope_options, scope_values


@click.command("explain")
@click.argument("target", metavar="FILE|BUILTIN-ROLE|TEMPLATE|PERMISSION")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--catalog", "catalog_path", type=click.Path(dir_okay=False), default=None, envvar="RBACTOOL_CATALOG",
              help="Operations catalog [default: a cache refreshed from public Azure, else the packaged snapshot].")
@scope_options
@click.pass_context
def explain_command(ctx, target, fmt, catalog_path, subscription, resource_group, management_group):
    """Show what a permission string or a role grants, operation by operation.

    TARGET is a role file (any shape validate reads: ARM templates and Terraform too; the scope
    options resolve their expressions), a built-in role name or GUID ("AzureML Data Scientist"), a template
    name, or a permission string such as 'Microsoft.Storage/storageAccounts/*/action'.
    Effective operations honour NotActions per permission block; each operation shows its
    display name, whether it is a data action, and its risk classes.
    """
    import json

    from rbactool.api import explain_target, load_catalog
    from rbactool.output import format_explain_text

    scope = scope_values(ctx, subscription, resource_group, management_group)
    data = explain_target(target, catalog=load_catalog(catalog_path), scope={k: v for k, v in scope.items() if v})
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))
    else:
        click.echo(format_explain_text(data), nl=False)
