"""`rbactool convert`: canonical role JSON in any shape, and a --check for CI."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from rbactool import api
from rbactool.commands.options import scope_options, scope_values
from rbactool.errors import EXIT_FINDINGS

SHAPES = ("az", "arm", "az-list")  # the shapes of rbactool.model (SHAPES)

logger = logging.getLogger(__name__)


@click.command("convert")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--format", "fmt", type=click.Choice(SHAPES), default=None,
              help="Output shape; default: the shape each file is in.")
@click.option("-o", "--output", type=click.Path(path_type=Path), metavar="FILE",
              help="Write here instead of stdout (one input file only).")
@click.option("--in-place", is_flag=True, help="Rewrite each FILE in place (atomically).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if any FILE is not canonical.")
@scope_options
@click.pass_context
def convert_command(ctx, files, fmt, output, in_place, check, subscription, resource_group, management_group):
    """Rewrite role files canonically: fixed key order, 2-space indent, trailing newline,
    permission strings de-duplicated case-insensitively. Reads every shape (az CLI, ARM,
    `az role definition list`); FILE may be - for stdin. From an ARM template, a .bicep file or
    Terraform (.tf, `terraform show -json`) it extracts the roles as a list (ARM resources, az
    for Terraform; --format to choose); --check and --in-place take role files only.

    \b
    Examples:
      rbactool convert exported.json --format az -o roles/reader.json
      rbactool convert --check out/*.json        # CI: are rendered files canonical?
    """
    if sum(bool(x) for x in (output, in_place, check)) > 1:
        raise click.UsageError("give at most one of -o, --in-place, --check")
    if output and len(files) != 1:
        raise click.UsageError("-o takes exactly one input FILE")
    if in_place and "-" in files:
        raise click.UsageError("--in-place cannot rewrite stdin")
    results = []
    scope = scope_values(ctx, subscription, resource_group, management_group)
    for path in files:
        doc = api.read_document(path)
        results.append((path, doc.text, api.canonical_text(doc.text, doc.where, fmt, scope=scope,
                                                           extract=not (check or in_place))))
    if check:
        changed = [p for p, text, new in results if text != new]
        for p in changed:
            click.echo(f"would reformat {p}", err=True)
        if changed:
            ctx.exit(EXIT_FINDINGS)
        return
    if in_place:
        changed = {Path(p): new for p, text, new in results if text != new}
        api.write_files(changed, what="--in-place")
        for p in changed:
            click.echo(f"rewrote {p}", err=True)
        return
    if output:
        api.write_files({output: results[0][2]})
        click.echo(f"wrote {output}", err=True)
        return
    for _, _, new in results:
        click.echo(new, nl=False)
