"""`rbactool diff`: a thin click shell over ``rbactool.diff`` (inputs here, logic there)."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path, PurePosixPath

import click
from click.core import ParameterSource

from rbactool.commands.render import scope_options, scope_values, template_dir_option
from rbactool.errors import EXIT_FINDINGS, InputError, RbactoolError, RoleFormatError

FORMATS = ("text", "markdown", "json")
PLACEHOLDER_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


# --------------------------------------------------------------------------- inputs


def _directory_roles(path: Path) -> list:
    from rbactool.model import load_roles
    from rbactool.readers import json_files_under

    files = json_files_under(path)
    if not files:
        raise InputError(f"{path}: directory contains no *.json role files")
    return [role for f in files for role in load_roles(f)]


def resolve_input(text: str, *, set_values: tuple[str, ...], scope: dict, template_dirs: tuple) -> list:
    """OLD or NEW -> roles. Tried in order: '-' (stdin), a file or directory, REV:path, a
    template name (rendered with --set and the scope options), a built-in role name or GUID."""
    from rbactool import gitio
    from rbactool.model import load_roles, parse_roles
    from rbactool.readers import read_stream

    if text == "-":
        return parse_roles(read_stream(error=RoleFormatError), source="<stdin>")
    path = Path(text)
    if path.is_file() or (path.exists() and not path.is_dir()):  # a FIFO or device: refused by the reader
        return load_roles(path)
    if path.is_dir():
        return _directory_roles(path)
    rev_path = gitio.split_rev_path(text)
    if rev_path is not None:
        rev, rel = rev_path
        return parse_roles(gitio.read_at_revision(rev, rel), source=text)
    from rbactool import render as rendering

    dirs = rendering.template_dirs(template_dirs)
    if text in rendering.discover(dirs):
        template = rendering.load_template(text, dirs)
        if not any(scope.values()):
            scope = {"subscription": PLACEHOLDER_SUBSCRIPTION}
        return [rendering.render_role(template, rendering.parse_set_options(set_values), **scope)]
    from rbactool.builtins import load_builtin_roles

    builtins = load_builtin_roles()
    role = builtins.resolve(text)
    if role is not None:
        return [role]
    close = builtins.closest_names(text)
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    raise InputError(
        f"{text!r}: no such file, and not REV:path, a template (see `rbactool templates`) or a built-in role{hint}"
    )


def _spec_paths(doc: object, spec_rel: str) -> list[str]:
    """Repository paths a spec needs besides itself: its template dirs and role files."""
    out: list[str] = []
    if not isinstance(doc, dict):
        return out
    parent = PurePosixPath(spec_rel).parent
    entries = list(doc.get("templates") or []) if isinstance(doc.get("templates"), list) else []
    roles = doc.get("roles") if isinstance(doc.get("roles"), list) else []
    entries += [r["file"] for r in roles if isinstance(r, dict) and isinstance(r.get("file"), str)]
    for entry in entries:
        if isinstance(entry, str):
            norm = os.path.normpath((parent / entry).as_posix()).replace(os.sep, "/")
            if not norm.startswith(".."):
                out.append(norm)
    return out


def render_spec_at_revision(spec_path: Path, rev: str, *, overrides: dict, fallbacks: dict,
                            template_dirs: tuple) -> list:
    """Render a roles spec with the spec, its template dirs, its role files, --templates dirs
    inside the repository and (when rbactool runs from the repository) the shipped templates, all
    as they are at *rev*."""
    from rbactool import gitio
    from rbactool.render import ENV_TEMPLATES, shipped_templates_dir
    from rbactool.spec import load_spec, parse_yaml, render_spec

    root = gitio.repo_root()
    rel = gitio.repo_relative(spec_path, root)
    if rel is None:
        raise gitio.GitInputError(f"{spec_path} is outside the git repository {root}")
    label = f"{rev}:{rel}"
    if not gitio.exists_at(gitio.resolve_revision(rev, root), rel, root):
        raise gitio.GitInputError(f"roles spec {rel} does not exist at revision {rev!r}")
    text = gitio.read_at_revision(rev, rel, cwd=root)
    paths = [rel, *_spec_paths(parse_yaml(text, label), rel)]
    cli_dirs = [(d, gitio.repo_relative(d, root)) for d in template_dirs]
    env_dirs = [Path(d) for d in os.environ.get(ENV_TEMPLATES, "").split(os.pathsep) if d]
    env_rel = [r for r in (gitio.repo_relative(d, root) for d in env_dirs) if r is not None]
    shipped_rel = gitio.repo_relative(shipped_templates_dir().resolve(), root)
    paths += [r for _, r in cli_dirs if r is not None] + env_rel + ([shipped_rel] if shipped_rel else [])
    with gitio.snapshot(rev, paths, cwd=root) as tmp:
        try:
            spec = load_spec(tmp / rel)
            mapped = tuple(tmp / r if r is not None and (tmp / r).is_dir() else d for d, r in cli_dirs)
            at_rev = [tmp / r for r in (*env_rel, *([shipped_rel] if shipped_rel else ())) if (tmp / r).is_dir()]
            spec = replace(spec, templates=(*spec.templates, *at_rev))
            rendered = render_spec(spec, extra_template_dirs=mapped, overrides=overrides, fallbacks=fallbacks)
        except RbactoolError as e:
            raise type(e)(str(e).replace(f"{tmp}{os.sep}", f"{rev}:")) from e
    return [replace(r.role, source=f"{label}#{r.key}") for r in rendered]


def spec_key(role) -> str | None:
    """The roles-spec key of a role rendered by this module (its source ends in ``#key``)."""
    source = role.source or ""
    return source.rsplit("#", 1)[1] if "#" in source else None


def render_spec_working_tree(spec_path: Path, *, overrides: dict, fallbacks: dict, template_dirs: tuple) -> list:
    from rbactool.spec import load_spec, render_spec

    spec = load_spec(spec_path)
    rendered = render_spec(spec, extra_template_dirs=tuple(template_dirs), overrides=overrides, fallbacks=fallbacks)
    return [replace(r.role, source=f"{spec_path}#{r.key}") for r in rendered]


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
    from rbactool.catalog import load_catalog
    from rbactool.diff import diff_role_sets
    from rbactool.diff_format import click_style, format_json, format_markdown, format_text

    scope = scope_values(ctx, subscription, resource_group, management_group)
    if roles_spec is not None:
        if old or new:
            raise click.UsageError("give either OLD and NEW, or --roles SPEC --base REV, not both")
        if not base:
            raise click.UsageError("--roles needs --base REV (e.g. --base origin/main)")
        if set_values or old_set or new_set:
            raise click.UsageError("--set/--old-set/--new-set apply to templates given as OLD/NEW, not to --roles")
        fallbacks = {}
        if ctx.get_parameter_source("subscription") == ParameterSource.ENVIRONMENT:
            fallbacks["subscription"] = scope.pop("subscription")
        kwargs = {"overrides": scope, "fallbacks": fallbacks, "template_dirs": template_dirs}
        old_roles = render_spec_at_revision(roles_spec, base, **kwargs)
        if head:
            new_roles = render_spec_at_revision(roles_spec, head, **kwargs)
        else:
            new_roles = render_spec_working_tree(roles_spec, **kwargs)
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
        old_roles = resolve_input(old, set_values=(*set_values, *old_set), scope=scope, template_dirs=template_dirs)
        new_roles = resolve_input(new, set_values=(*set_values, *new_set), scope=scope, template_dirs=template_dirs)
        old_label, new_label = old, new
        pair_single = True

    catalog = load_catalog(catalog_path)
    from rbactool.config import resolve_config

    config = None if no_findings else resolve_config(config_path, no_config)
    report = diff_role_sets(old_roles, new_roles, catalog, pair_single=pair_single, findings=not no_findings,
                            key=None if pair_single else spec_key, config=config)
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
