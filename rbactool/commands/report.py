"""`rbactool report`: a thin click shell over ``rbactool.api.report``: one self-contained HTML page
about a snapshot, or about the custom roles in role files and roles specs (no Azure)."""

from __future__ import annotations

import click


@click.command("report")
@click.argument("paths", nargs=-1, metavar="[FILE|DIR]...")
@click.option("--snapshot", "snapshot", metavar="FILE", envvar="RBACTOOL_SNAPSHOT", show_envvar=True,
              help="A snapshot file (from `rbactool snapshot -o FILE`): the report of that estate.")
@click.option("--roles", "specs", multiple=True, metavar="SPEC.yaml",
              help="A roles spec (roles/*.yaml): report on its custom roles. Repeatable.")
@click.option("--activity-log", "logs", multiple=True, metavar="FILE",
              help="With --snapshot: Activity Log exports (as `rbactool usage` reads them) for a \"Used vs "
                   "granted\" view. Repeatable.")
@click.option("-o", "--output", "output", required=True, metavar="FILE",
              help="The HTML file to write (`-` for standard output).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="The .rbactool.yaml whose suppressions and severity overrides the validator findings follow "
                   "[default: the nearest one].")
@click.option("--no-config", is_flag=True, help="Ignore any .rbactool.yaml.")
@click.option("--catalog", "catalog_path", type=click.Path(dir_okay=False), default=None, envvar="RBACTOOL_CATALOG",
              help="Operations catalog [default: a cache refreshed from public Azure, else the packaged snapshot].")
def report_command(paths, snapshot, specs, logs, output, config_path, no_config, catalog_path):
    """Write one self-contained HTML page for people who do not run CLIs: a summary, the risks first
    (escalation paths, privileged principals, credential-exposure and remote-execution grants,
    owner clones, validator errors, stale-catalog notes), the scope tree, a who-can box and a
    principal view answered inside the page, every custom role with its effective operations and
    findings, and charts.

    With --snapshot FILE: the estate of that snapshot. With FILE|DIR... (role files, as `validate`
    takes them) or --roles SPEC: the custom roles of a repository, without Azure. The page needs
    no network (inline CSS, JS and SVG; it works from file://).
    """
    from rbactool import api

    if snapshot and (paths or specs):
        raise click.UsageError("give --snapshot FILE, or role files and --roles SPEC, not both")
    if logs and not snapshot:
        raise click.UsageError("--activity-log needs --snapshot FILE")
    if not snapshot and not paths and not specs:
        raise click.UsageError("give --snapshot FILE, or FILE|DIR... or --roles SPEC")
    if list(paths).count("-") > 1:
        raise click.UsageError("'-' (standard input) can be given only once")
    config = api.load_config(config_path, no_config=no_config)
    catalog = api.load_catalog(catalog_path)
    page = api.report(snapshot=snapshot, paths=paths, specs=specs, catalog=catalog, config=config, logs=logs)
    if output == "-":
        click.echo(page.html, nl=False)
        return
    api.write_files({output: page.html})
    s = page.summary
    what = (f"{s.get('role_assignments', 0):,} role assignments, {s.get('escalation_paths', 0):,} escalation paths"
            if page.kind == "estate" else f"{s.get('roles', 0):,} custom roles, {s.get('findings', 0):,} findings")
    click.echo(f"wrote {output} ({page.size / 1e6:.1f} MB): {what}", err=True)
