"""`rbactool create`: create or update custom roles in Azure, idempotently."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click

from rbactool.commands.azure_options import connection, connection_options, output_option
from rbactool.commands.options import config_options, run_gate, scope_options, scope_values, template_dir_option

logger = logging.getLogger(__name__)


def load_roles_arg(ctx, source: str | None, roles_spec: Path | None, set_values, scope: dict,
                   template_dirs) -> list:
    """Roles from a role file, a template name (rendered with --set and the scope options), or a spec."""
    from rbactool import api

    if roles_spec is not None:
        if source:
            raise click.UsageError("give either ROLE (a file or template) or --roles, not both")
        return api.render_spec(roles_spec, template_dirs=template_dirs, overrides=scope)
    if not source:
        raise click.UsageError("missing ROLE (a role file or a template name) or --roles SPEC")
    # run_gate() validates the role right after (the validator covers the rendered-role schema)
    return api.resolve_roles(source, set_values=set_values, scope=scope, template_dirs=template_dirs, to_create=True)


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
@output_option("text", "json")
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
    from rbactool.api import load_config
    from rbactool.operations_format import role_result_line, role_results_dict

    scope = scope_values(ctx, subscription, resource_group, management_group)
    config = load_config(config_path, no_config=no_config, fail_on=fail_on)
    roles = load_roles_arg(ctx, role, roles_spec, set_values, scope, template_dirs)
    azure = connection(cloud, arm_endpoint, ca_bundle, retry_timeout, subscription)  # no request yet
    # Validate before touching Azure, through the same gate and .rbactool.yaml as `rbactool validate`.
    _, catalog = run_gate(roles, azure.catalog_source(), config, no_config=no_config, what="the roles to create",
                          bypass="--force", force=force)
    results = azure.create_roles(roles, dry_run=dry_run, wait=wait, checked=True)
    if fmt == "json":
        click.echo(json.dumps(role_results_dict(results), indent=2))
    else:
        for change in results:
            click.echo(role_result_line(change, catalog))
    logger.info("%d HTTP request(s)", azure.requests)
