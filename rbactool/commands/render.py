"""`rbactool render` and `rbactool templates`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from rbactool import api
from rbactool.commands.options import scope_options, scope_values, spec_scope, template_dir_option
from rbactool.errors import ParameterError, TemplateError

FORMATS = ("az", "arm")  # the shapes of rbactool.model (SHAPE_AZ, SHAPE_ARM)


@click.command("render")
@click.argument("template", required=False)
@scope_options
@click.option("--set", "set_values", multiple=True, metavar="KEY=VALUE", help="Template parameter (repeatable).")
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="az", show_default=True,
    help="az: the az CLI shape (az role definition create); arm: the ARM resource shape.",
)
@click.option(
    "--roles", "roles_spec", type=click.Path(dir_okay=False, path_type=Path), metavar="SPEC",
    help="Render every role of a roles spec (roles/*.yaml) instead of one template.",
)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), metavar="PATH",
    help="Write to this file (with TEMPLATE) or into this existing directory (with --roles); "
    "default: stdout.",
)
@template_dir_option
@click.pass_context
def render_command(ctx, template, subscription, resource_group, management_group, set_values, fmt, roles_spec,
                   output, template_dirs):
    """Render custom role JSON from TEMPLATE, or every role of a roles spec.

    \b
    Examples:
      rbactool render online-endpoint-scoring -s <subscription-guid> -g ml-rg
      rbactool render online-endpoint-scoring-strict -s <guid> -g ml-rg --set auth_mode=aml_token
      rbactool render --roles roles/online-endpoints.yaml -s <guid> -o out/
    """
    scope = scope_values(ctx, subscription, resource_group, management_group)
    if roles_spec is not None:
        if template or set_values:
            raise click.UsageError("give either TEMPLATE (with --set) or --roles, not both")
        _render_spec(roles_spec, *spec_scope(ctx, scope), fmt, output, template_dirs)
        return
    if not template:
        raise click.UsageError("missing TEMPLATE (see `rbactool templates`) or --roles SPEC")
    role = api.render_template(template, **scope, template_dirs=template_dirs, set_values=set_values)
    text = api.dumps_role(role, fmt)
    if output is None:
        click.echo(text, nl=False)
    else:
        api.write_files({output: text})
        click.echo(f"wrote {output}  ({role.name})", err=True)


def _render_spec(spec_path: Path, scope: dict, fallbacks: dict, fmt: str, output: Path | None,
                 template_dirs) -> None:
    rendered = api.render_spec_by_key(spec_path, template_dirs=template_dirs, overrides=scope, fallbacks=fallbacks)
    if output is None:
        click.echo(api.dumps_roles(rendered.values(), fmt), nl=False)
        return
    if output.exists() and not output.is_dir():
        raise ParameterError(f"-o {output}: with --roles, -o must be a directory")
    api.write_files({output / f"{key}.json": api.dumps_role(role, fmt) for key, role in rendered.items()})
    for key, role in rendered.items():
        click.echo(f"wrote {output / (key + '.json')}  ({role.name})", err=True)


@click.command("templates")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@template_dir_option
def templates_command(fmt, template_dirs):
    """List the templates (shipped and --templates DIR) with their parameters.

    Each template is loaded and compiled on its own: a broken one is listed with its error while
    the others list, and the command then exits 3 (invalid input), so CI notices.
    """
    entries = api.list_templates(template_dirs)
    if fmt == "json":
        doc = {"schema_version": 1, "templates": [e.to_dict() for e in entries]}
        click.echo(json.dumps(doc, indent=2))
    else:
        for e in entries:
            _template_text(e)
    broken = [e.name for e in entries if e.error]
    if broken:
        raise TemplateError(f"{len(broken)} of {len(entries)} template(s) cannot be used: {', '.join(broken)} "
                            "(errors listed above)")


def _template_text(e) -> None:
    t = e.template
    if t is None:
        click.secho(e.name, bold=True)
        click.secho(f"  error: {e.error}", fg="red")
        return
    click.secho(t.name, bold=True)
    click.echo(f"  {t.summary}")
    click.echo(f"  name: {t.default_name}")
    click.echo("  parameters: subscription, resource_group | management_group, name, description"
               + "".join(f", {p.name}" for p in t.params))
    for p in t.params:
        extra = f" one of {'|'.join(p.choices)}" if p.choices else ""
        default = " (required)" if p.required else f" (default: {p.default})"
        click.echo(f"    {p.name}: {p.type}{extra}{default}  {p.help}")
