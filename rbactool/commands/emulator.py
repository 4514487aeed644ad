"""``rbactool emulator``: run the local HTTPS emulator of ARM's Microsoft.Authorization API."""

from __future__ import annotations

import logging
import os
import shlex
import signal
import sys
from pathlib import Path

import click

logger = logging.getLogger(__name__)


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "rbactool" / "emulator"


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


@click.command("emulator")
@click.option("--port", type=click.IntRange(0, 65535), default=8443, show_default=True,
              help="Port on 127.0.0.1 (0 picks a free one).")
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the local CA and server certificate live (default: $XDG_STATE_HOME/rbactool/emulator).")
@click.option("--tenant", default=None, metavar="GUID", help="Tenant id the emulator reports.")
@click.option("--subscription", "subscriptions", multiple=True, metavar="GUID",
              help="A subscription the emulator knows (repeatable); the first is exported.")
@click.option("--page-size", type=click.IntRange(0), default=0, show_default=True,
              help="Items per list page (0: everything in one page, as ARM does).")
@click.option("--delay-preset", type=click.Choice(["off", "realistic"]), default="off", show_default=True,
              help="Eventual-consistency delays: off, or short versions of what ARM does.")
@click.option("--persist", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Keep the state in this JSON file across restarts (written atomically).")
@click.option("--seed", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Load an estate (management groups, principals, groups, roles, assignments, deny and "
                   "eligible assignments) from this YAML or JSON file; see docs/emulator.md.")
def emulator_command(port, state_dir, tenant, subscriptions, page_size, delay_preset, persist, seed):
    """Run a local HTTPS emulator of the ARM Microsoft.Authorization API.

    Serves role definitions, role assignments, provider operations and permissions on
    127.0.0.1 for the real Azure SDK, with a throwaway local CA. Prints the export lines to
    paste into another shell, then serves until Ctrl-C. Test control lives under /__emulator/.
    With --seed it also serves that estate: management groups, deny assignments, PIM
    eligibility and Azure Resource Graph queries.
    """
    from rbactool.emulator.config import PRESETS, EmulatorConfig, check_ids

    check_ids(tenant, subscriptions)
    from rbactool.emulator.server import Emulator
    from rbactool.emulator.testing import exports

    config = EmulatorConfig(page_size=page_size, **PRESETS[delay_preset])
    emu = Emulator(
        state_dir=state_dir or default_state_dir(), port=port, tenant_id=tenant,
        subscriptions=tuple(subscriptions) or None, config=config, persist=persist, seed=seed,
    )
    click.echo(f"# rbactool emulator: {emu.base_url} (Microsoft.Authorization, api-version 2022-04-01)")
    if emu.seed_counts is not None:
        click.echo(f"# seed {seed}: " + ", ".join(f"{n:,} {k.replace('_', ' ')}" for k, n in emu.seed_counts.items()))
    click.echo("# paste these into another shell; Ctrl-C stops the emulator")
    for name, value in exports(emu).items():
        click.echo(f"export {name}={shlex.quote(value)}")
    sys.stdout.flush()
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        emu.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()
    click.echo("emulator stopped", err=True)
