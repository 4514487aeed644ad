"""`rbactool validate` and `rbactool explain`: thin click shells over ``rbactool.validate``."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click

from rbactool.errors import EXIT_FINDINGS, InputError, RoleFormatError

FORMATS = ("text", "json", "sarif")
FAIL_ON = ("error", "security-warning", "warning", "suggestion", "none")
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


def expand_inputs(inputs: tuple[str, ...]) -> list[str]:
    """Files as given; directories recursively (``*.json``, sorted); ``-`` for stdin."""
    out: list[str] = []
    for item in inputs:
        if item == "-":
            out.append("-")
            continue
        p = Path(item)
        if p.is_dir():
            from rbactool.readers import json_files_under

            found = [str(f) for f in json_files_under(p)]
            if not found:
                raise InputError(f"{item}: directory contains no *.json role files")
            out.extend(found)
        else:
            out.append(item)
    return out


def read_input(name: str) -> str:
    """A role file, or standard input for ``-`` (the readers' 16 MiB limit on both)."""
    from rbactool.readers import read_path_or_stdin

    return read_path_or_stdin(name, what="role file", error=RoleFormatError)[1]


def config_options(fail_on_help: str):
    """--fail-on / --config / --no-config: the validation gate's settings, the same for validate,
    create, plan and apply (see ``gate_config`` and ``run_gate``)."""

    def wrap(fn):
        for decorator in reversed((
            click.option("--fail-on", type=click.Choice(FAIL_ON), default=None,
                         help=f"{fail_on_help} [default: error, or fail_on in the config]. "
                              "security-warning is the recommended CI setting."),
            click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
                         help="Config file: suppressions, severity overrides, fail_on "
                              "[default: the nearest .rbactool.yaml upward from the current directory]."),
            click.option("--no-config", is_flag=True, help="Ignore any .rbactool.yaml."),
        )):
            fn = decorator(fn)
        return fn

    return wrap


def gate_config(config_path: str | None, no_config: bool, fail_on: str | None):
    """The config of the gate: .rbactool.yaml (or --config / --no-config), then --fail-on on top."""
    from rbactool.config import parse_fail_on, resolve_config

    config = resolve_config(config_path, no_config)
    if fail_on is not None:
        config = replace(config, fail_on=parse_fail_on(fail_on))
    return config


def announce_gate(config, no_config: bool, catalog_source=None) -> None:
    """One line on stderr naming the config (and catalog) the gate uses, the same for every command:
    ``using config .rbactool.yaml (2 ignores, 0 severity overrides), fail-on error, catalog packaged``."""
    from rbactool.config import describe_config, fail_on_label

    catalog = f", catalog {catalog_source.describe()}" if catalog_source is not None else ""
    click.echo(f"using {describe_config(config, no_config=no_config)}, fail-on {fail_on_label(config.fail_on)}"
               f"{catalog}", err=True)


MAX_SHOWN = 10


def run_gate(roles, catalog_source, config, *, no_config: bool, what: str, bypass: str = "--fail-on none",
             force: bool = False):
    """The gate for commands that act on roles (create, plan, apply): announce the config, validate
    through ``rbactool.validate.gate``, show what blocks (and any ERROR or SECURITY_WARNING) on
    stderr, and refuse (``ValidationRefused``, exit 3) unless *force*. Returns (report, catalog)."""
    from rbactool.catalog import load_source
    from rbactool.findings import SECURITY_WARNING, at_or_above
    from rbactool.validate import ValidationRefused, gate

    announce_gate(config, no_config, catalog_source)
    catalog = load_source(catalog_source)
    report = gate(roles, catalog, config)
    blocking = [f for f in report.findings if at_or_above(f.type, report.fail_on)]
    notable = [f for f in report.findings if not at_or_above(f.type, report.fail_on)
               and at_or_above(f.type, SECURITY_WARNING)]
    shown = [*blocking, *notable]
    for f in shown[:MAX_SHOWN]:
        role = f" [{f.location.role}]" if f.location.role else ""
        click.echo(f"{f.type} {f.code}{role}: {f.message}", err=True)
    if len(shown) > MAX_SHOWN:
        click.echo(f"  ... and {len(shown) - MAX_SHOWN} more (see `rbactool validate`)", err=True)
    if report.suppressed:
        click.echo(f"  ({len(report.suppressed)} finding(s) suppressed by the config)", err=True)
    if report.failed():
        if not force:
            raise ValidationRefused(report, what, bypass)
        click.echo(f"--force: going on despite {len(blocking)} finding(s) at or above "
                   f"{(report.fail_on or 'none').lower().replace('_', '-')}", err=True)
    return report, catalog


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
@click.pass_context
def validate_command(ctx, files, specs, fmt, fail_on, config_path, no_config, ignore_codes, catalog_path,
                     catalog_max_age_days, show_suppressed, list_rules):
    """Check role definitions offline against the operations catalog and Azure's rules.

    FILE may be the az CLI shape, the ARM resource shape, or the array `az role definition list`
    prints; a directory is searched for *.json; `-` reads standard input.

    Finding types, most serious first: ERROR (ARM would reject the role), SECURITY_WARNING,
    WARNING, SUGGESTION. Exit codes: 0 no finding at or above --fail-on; 1 findings; 2 usage
    error; 3 invalid input (unreadable file, invalid JSON, bad config or catalog).
    """
    from rbactool import output

    if list_rules:
        click.echo(output.format_rules_json() if fmt == "json" else output.format_rules_text(), nl=False)
        return
    if not files and not specs:
        raise click.UsageError("give at least one FILE, DIR, '-' or --roles SPEC (or --list-rules)")

    from rbactool.catalog import load_source, resolve_source
    from rbactool.config import cli_ignores
    from rbactool.validate import gate, validate_text

    config = gate_config(config_path, no_config, fail_on)
    if catalog_max_age_days is not None:
        config = replace(config, catalog_max_age_days=catalog_max_age_days)
    extra_ignores = cli_ignores(ignore_codes)
    source = resolve_source(catalog_path)
    catalog = load_source(source)

    roles = []
    findings = []
    texts: dict[str, str] = {}
    names = expand_inputs(files)
    if names.count("-") > 1:
        raise click.UsageError("'-' (standard input) can be given only once")
    for name in names:
        text = read_input(name)
        texts[name] = text
        file_roles, problems = validate_text(text, source=name, where="<stdin>" if name == "-" else name)
        roles.extend(file_roles)
        findings.extend(problems)
    for spec_path in specs:
        from rbactool.spec import load_spec, render_spec

        spec = load_spec(spec_path)
        for rendered in render_spec(spec):
            roles.append(replace(rendered.role, source=str(spec_path)))
        names.append(str(spec_path))

    announce_gate(config, no_config, source)
    report = gate(roles, catalog, config, extra_findings=findings, extra_ignores=extra_ignores, files=names)
    if fmt == "json":
        click.echo(output.format_json(report, catalog_origin=catalog.origin), nl=False)
    elif fmt == "sarif":
        click.echo(output.format_sarif(report, texts=texts), nl=False)
    else:
        color = sys.stdout.isatty() if ctx.color is None else ctx.color
        click.echo(output.format_text(report, style=_styler(color), show_suppressed=show_suppressed), nl=False)
    if report.failed():
        ctx.exit(EXIT_FINDINGS)


# --------------------------------------------------------------------------- explain


def _checked_pattern(pattern: str, catalog) -> str:
    """A permission string worth explaining: Azure's grammar, and it must match something.
    Suggestions come from the same helpers the validator's catalog checks use."""
    from rbactool.catalog import namespace_of
    from rbactool.checks.catalog_checks import _did_you_mean, _stale_note, close_namespace

    if pattern.count("*") > 1:
        raise InputError(f"{pattern!r} has {pattern.count('*')} wildcards; Azure allows one '*' per permission string")
    if any(ch.isspace() for ch in pattern):
        raise InputError(f"{pattern!r} contains white space")
    if pattern == "*" or catalog.expand(pattern):
        return pattern
    ns = namespace_of(pattern)
    if "*" not in ns and not catalog.is_known_namespace(ns):
        close = close_namespace(catalog, ns)
        hint = f" (did you mean {close!r}?)" if close else ""
        raise InputError(f"{pattern!r}: unknown provider namespace {ns!r}{hint}")
    info = catalog.provider(ns) if "*" not in ns else None
    hint = ""
    if info is not None and "*" not in pattern:
        hint = _did_you_mean(catalog, pattern, False) or _did_you_mean(catalog, pattern, True)
    stale = f"; {_stale_note(catalog, ns)}" if info is not None and not info.fresh else ""
    raise InputError(f"{pattern!r} matches no operation in the catalog{hint}{stale}")


def _resolve_explain_target(target: str, catalog):
    """-> ("roles", [RoleDefinition]) or ("pattern", str)."""
    from rbactool.builtins import load_builtin_roles

    p = Path(target)
    if target == "-" or p.is_file() or (p.exists() and not p.is_dir()):  # a FIFO: refused by the reader
        from rbactool.model import parse_roles

        return "roles", parse_roles(read_input(target), source="<stdin>" if target == "-" else target)
    if target.lower().endswith((".json", ".yaml", ".yml")) or target.startswith(("./", "../", "/", "~")):
        raise InputError(f"{target}: no such file")
    builtins = load_builtin_roles()
    role = builtins.resolve(target)
    if role is not None:
        return "roles", [role]
    if "/" in target or target.strip() == "*":
        return "pattern", _checked_pattern(target.strip(), catalog)
    from rbactool.render import discover, load_template, render_role, template_dirs

    dirs = template_dirs()
    try:
        template = load_template(target, dirs)
    except InputError:
        if target in discover(dirs):  # a template that cannot be read: its own error
            raise
        close = builtins.closest_names(target)
        hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
        raise InputError(
            f"{target!r} is not a file, a built-in role, a template, or a permission string{hint}"
        ) from None
    return "roles", [render_role(template, {}, subscription="00000000-0000-0000-0000-000000000000")]


def explain_data(target: str, catalog) -> dict:
    """The JSON-ready explanation of a permission string or of every role in a target."""
    from rbactool.model import Permission, RoleDefinition
    from rbactool.validate import effective_operations, risk_classes

    def op_dict(op) -> dict:
        return {"name": op.name, "display_name": op.display_name, "data_action": op.is_data_action,
                "risk_classes": list(risk_classes(op.name, op.is_data_action)), "source": op.source}

    def role_dict(role: RoleDefinition) -> dict:
        eff = effective_operations(role, catalog)
        patterns = []
        for g in eff.grants:
            patterns.append({
                "block": g.block, "list": "DataActions" if g.is_data else "Actions", "pattern": g.pattern,
                "operations": [op_dict(o) for o in g.effective],
                "removed": [{"name": o.name, "data_action": o.is_data_action} for o in g.removed],
                "matched": len(g.operations), "condition": g.condition,
            })
        risky = eff.risky()
        return {
            "role": role.name, "source": role.source, "builtin": not role.is_custom,
            "patterns": patterns,
            "not_patterns": [{"block": n.block, "pattern": n.pattern, "removed": len(n.removed)}
                             for n in eff.not_grants],
            "unresolved": [*eff.unresolved_actions, *eff.unresolved_data_actions],
            "risk": {cls: [o.name for o in ops] for cls, ops in risky.items()},
            "totals": {"actions": len(eff.actions), "data_actions": len(eff.data_actions),
                       "removed": len({(o.name.lower(), o.is_data_action) for g in eff.grants for o in g.removed}),
                       **{cls: len(ops) for cls, ops in risky.items()}},
        }

    kind, value = _resolve_explain_target(target, catalog)
    if kind == "pattern":
        # A bare pattern: show what it grants as an Action and as a DataAction.
        role = RoleDefinition(name=value, permissions=(Permission(actions=(value,), data_actions=(value,)),),
                              source=None)
        roles = [role]
    else:
        roles = value
    return {"schema_version": 1, "target": target, "kind": kind,
            "catalog": {"snapshot_date": catalog.snapshot_date, "origin": catalog.origin},
            "roles": [role_dict(r) for r in roles]}


def format_explain_text(data: dict) -> str:
    lines = []
    for r in data["roles"]:
        title = r["role"] if data["kind"] == "roles" else f"permission string {r['role']!r}"
        lines.append(f"{title}{' (built-in)' if r['builtin'] else ''}")
        for p in r["patterns"]:
            if data["kind"] == "pattern" and not p["operations"] and not p["removed"]:
                continue
            cond = " [conditional]" if p["condition"] else ""
            lines.append(f"  {p['list']}: {p['pattern']}{cond}  -> {len(p['operations'])} operation(s)"
                         + (f", {len(p['removed'])} removed by Not{p['list']}" if p["removed"] else ""))
            for op in p["operations"]:
                risk = f"  [{', '.join(op['risk_classes'])}]" if op["risk_classes"] else ""
                kind = "data" if op["data_action"] else "action"
                name = f"  {op['display_name']}" if op["display_name"] else ""
                lines.append(f"      {op['name']}  ({kind}){risk}{name}")
            for op in p["removed"]:
                lines.append(f"    - {op['name']}  (removed)")
        if data["kind"] == "pattern" and not any(p["operations"] or p["removed"] for p in r["patterns"]):
            lines.append(f"  matches no operation in the catalog (snapshot {data['catalog']['snapshot_date']}); "
                         "check the spelling, or the provider may have operations the catalog lacks")
        if r["unresolved"]:
            lines.append("  not in the catalog (granted as written if Azure knows them):")
            lines.extend(f"      {u}" for u in r["unresolved"])
        t = r["totals"]
        risk = "".join(f", {n} {cls}" for cls, n in t.items() if cls not in ("actions", "data_actions", "removed"))
        lines.append(f"  total: {t['actions']} action(s), {t['data_actions']} data action(s), "
                     f"{t['removed']} removed by NotActions{risk}")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


@click.command("explain")
@click.argument("target", metavar="FILE|BUILTIN-ROLE|TEMPLATE|PERMISSION")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--catalog", "catalog_path", type=click.Path(dir_okay=False), default=None, envvar="RBACTOOL_CATALOG",
              help="Operations catalog [default: a cache refreshed from public Azure, else the packaged snapshot].")
def explain_command(target, fmt, catalog_path):
    """Show what a permission string or a role grants, operation by operation.

    TARGET is a role file, a built-in role name or GUID ("AzureML Data Scientist"), a template
    name, or a permission string such as 'Microsoft.Storage/storageAccounts/*/action'.
    Effective operations honour NotActions per permission block; each operation shows its
    display name, whether it is a data action, and its risk classes.
    """
    import json

    from rbactool.catalog import load_catalog

    catalog = load_catalog(catalog_path)
    data = explain_data(target, catalog)
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))
    else:
        click.echo(format_explain_text(data), nl=False)
