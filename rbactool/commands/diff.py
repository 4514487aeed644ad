"""`rbactool diff`: a thin click shell over ``rbactool.api.diff_role_sets`` (inputs here, logic there)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from rbactool.commands.options import scope_options, scope_values, spec_scope, template_dir_option
from rbactool.errors import EXIT_FINDINGS

FORMATS = ("text", "markdown", "json")


# --------------------------------------------------------------------------- the command


@click.command("diff")
@click.argument("old", required=False)
@click.argument("new", required=False)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for a terminal; markdown for a pull-request comment; json (with schema_version).")
@click.option("--exit-code", is_flag=True, help="Exit 1 when anything differs (cosmetic changes included).")
@click.option("--fail-on-new-access", is_flag=True,
              help="Exit 1 when NEW grants an operation or an assignable scope OLD did not, or removes or "
                   "changes an ABAC condition (the CI gate).")
@click.option("--roles", "roles_spec", type=click.Path(dir_okay=False, path_type=Path), metavar="SPEC",
              help="Diff every role of a roles spec as it is at --base against the working tree (or --head).")
@click.option("--base", metavar="REV", help="With --roles: the git revision to compare against (e.g. origin/main).")
@click.option("--head", metavar="REV", help="With --roles: compare with this revision instead of the working tree.")
@click.option("--set", "set_values", multiple=True, metavar="KEY=VALUE",
              help="Template parameter for a template OLD/NEW (repeatable; applies to both).")
@click.option("--old-set", "old_set", multiple=True, metavar="KEY=VALUE", help="Template parameter for OLD only.")
@click.option("--new-set", "new_set", multiple=True, metavar="KEY=VALUE", help="Template parameter for NEW only.")
@scope_options
@template_dir_option
@click.option("--catalog", "catalog_path", type=click.Path(dir_okay=False), default=None, envvar="RBACTOOL_CATALOG",
              help="Operations catalog to expand wildcards with [default: the packaged snapshot].")
@click.option("--no-findings", is_flag=True, help="Do not run the validator (no 'new findings' section).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Config for the new findings (severity overrides, ignores) [default: the nearest .rbactool.yaml].")
@click.option("--no-config", is_flag=True, help="Ignore any .rbactool.yaml.")
@click.option("--color/--no-color", "color", default=None, help="Colour the text format [default: when a terminal].")
@click.pass_context
def diff_command(ctx, old, new, fmt, exit_code, fail_on_new_access, roles_spec, base, head, set_values, old_set,
                 new_set, subscription, resource_group, management_group, template_dirs, catalog_path, no_findings,
                 config_path, no_config, color):
    """Show what changing a role from OLD to NEW grants and removes, literally and effectively.

    OLD and NEW are each a role file (any shape; a directory of *.json), '-' for standard input,
    REV:path (a file at a git revision, e.g. origin/main:roles/scoring.json), a template name
    (with --set and the scope options) or a built-in role. Roles are matched by id when both have
    one, else by name; two single roles are compared whatever their names.

    \b
    Exit codes: 0 by default; 1 with --exit-code when anything differs, or with
    --fail-on-new-access when NEW grants new access; 2 usage error; 3 invalid input
    (unreadable file, bad JSON, unknown git revision or path).

    \b
    Examples:
      rbactool diff online-endpoint-scoring-strict online-endpoint-scoring -s <guid> -g ml-rg
      rbactool diff origin/main:roles/scoring.json roles/scoring.json --fail-on-new-access
      rbactool diff --roles roles/online-endpoints.yaml --base origin/main --format markdown
    """
    from rbactool import api
    from rbactool.diff_format import click_style, format_json, format_markdown, format_text

    scope = scope_values(ctx, subscription, resource_group, management_group)
    if roles_spec is not None:
        if old or new:
            raise click.UsageError("give either OLD and NEW, or --roles SPEC --base REV, not both")
        if not base:
            raise click.UsageError("--roles needs --base REV (e.g. --base origin/main)")
        if set_values or old_set or new_set:
            raise click.UsageError("--set/--old-set/--new-set apply to templates given as OLD/NEW, not to --roles")
        overrides, fallbacks = spec_scope(ctx, scope)
        kwargs = {"overrides": overrides, "fallbacks": fallbacks, "template_dirs": template_dirs}
        old_roles = api.render_spec_revision(roles_spec, base, **kwargs)
        new_roles = api.render_spec_revision(roles_spec, head, **kwargs)  # head None: the working tree
        old_label, new_label = f"{base}:{roles_spec}", f"{head}:{roles_spec}" if head else str(roles_spec)
        pair_single = False
    else:
        if base or head:
            raise click.UsageError("--base/--head go with --roles SPEC; for files use REV:path as OLD or NEW")
        if not old or not new:
            raise click.UsageError("give OLD and NEW (files, '-', REV:path, templates or built-in roles), "
                                   "or --roles SPEC --base REV")
        if old == "-" and new == "-":
            raise click.UsageError("'-' (standard input) can be given only once")
        old_roles, new_roles = (
            api.resolve_roles(arg, set_values=(*set_values, *extra), scope=scope, template_dirs=template_dirs)
            for arg, extra in ((old, old_set), (new, new_set)))
        old_label, new_label = old, new
        pair_single = True

    catalog = api.load_catalog(catalog_path)
    config = None if no_findings else api.load_config(config_path, no_config=no_config)
    report = api.diff_role_sets(old_roles, new_roles, catalog=catalog, config=config, pair_single=pair_single,
                                findings=not no_findings, by_spec_key=not pair_single)
    if fmt == "json":
        click.echo(format_json(report, old_label=old_label, new_label=new_label), nl=False)
    elif fmt == "markdown":
        click.echo(format_markdown(report, old_label=old_label, new_label=new_label), nl=False)
    else:
        use_color = color if color is not None else ctx.color if ctx.color is not None else sys.stdout.isatty()
        style = click_style if use_color else None
        click.echo(format_text(report, style=style, old_label=old_label, new_label=new_label), nl=False,
                   color=bool(use_color))
    if fail_on_new_access and report.grants_new_access or exit_code and report.differs:
        ctx.exit(EXIT_FINDINGS)
