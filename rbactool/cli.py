"""The command-line interface: a click group that only assembles commands.

Each command lives in ``rbactool/commands/<name>.py`` and is imported only when it runs, so
``rbactool --help`` and offline commands start fast (and never import ``azure.*``).
Exit codes are mapped here, once: see ``rbactool.errors``.
"""

from __future__ import annotations

import errno
import importlib
import io
import logging
import os
import re
import sys

import click

from rbactool import __version__
from rbactool.errors import EXIT_FINDINGS, EXIT_INTERRUPTED, EXIT_INVALID_INPUT, RbactoolError
from rbactool.redact import RedactingFormatter, redact_configured

# command name -> (module under rbactool.commands, attribute, one-line help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "render": ("render", "render_command", "Render custom role JSON from a template or a roles spec."),
    "templates": ("render", "templates_command", "List the templates and their parameters."),
    "convert": ("convert", "convert_command", "Rewrite role files canonically, in the az, ARM or az-list shape."),
    "diff": ("diff", "diff_command", "Show what a change to a role grants and removes, literally and effectively."),
    "create": ("create", "create_command", "Create or update custom roles in Azure, idempotently."),
    "delete": ("delete", "delete_command", "Delete a custom role from Azure (refused while it is assigned)."),
    "assign": ("assign", "assign_command", "Assign a role to an identity at a scope, idempotently."),
    "unassign": ("assign", "unassign_command", "Remove an identity's role assignments at a scope."),
    "list": ("listing", "list_group", "List role definitions or role assignments in Azure."),
    "whoami": ("listing", "whoami_command", "Show which identity, tenant and endpoint rbactool uses."),
    "plan": ("plan", "plan_command", "Show what apply would change in Azure to match a roles spec."),
    "apply": ("plan", "apply_command", "Make Azure match a roles spec (roles and assignments), concurrently."),
    "export": ("export", "export_command", "Write the roles and assignments at a scope as a roles spec."),
    "catalog": ("catalog", "catalog_group", "Show or refresh the offline catalog of Azure operations and roles."),
    "validate": (
        "validate",
        "validate_command",
        "Check role definitions offline against the operations catalog and Azure's rules.",
    ),
    "explain": (
        "explain", "explain_command", "Show what a permission string or a role grants, operation by operation."
    ),
    "snapshot": ("snapshot", "snapshot_command", "Read the estate's role assignments and definitions into SQLite."),
    "who-can": ("access", "who_can_command", "Who can perform an operation at a scope, and how (from a snapshot)."),
    "access": ("access", "access_command", "Everything a principal can do, by scope (from a snapshot)."),
    "escalations": ("access", "escalations_command", "Who can give themselves or others more access (snapshot)."),
    "report": ("report", "report_command", "Write one self-contained HTML report of a snapshot or of role files."),
    "usage": ("usage", "usage_command", "What identities used (Activity Log) against what they are granted."),
    "rightsize": ("usage", "rightsize_command", "Propose a least-privilege custom role from a principal's use."),
    "emulator": ("emulator", "emulator_command", "Run a local HTTPS emulator of the ARM Microsoft.Authorization API."),
}


class LazyGroup(click.Group):
    """Imports a command's module only when that command is invoked or its help is shown."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = COMMANDS.get(cmd_name)
        if spec is None:
            return None
        module = importlib.import_module(f"rbactool.commands.{spec[0]}")
        return getattr(module, spec[1])

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in COMMANDS:
            import difflib

            close = difflib.get_close_matches(name, list(COMMANDS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise OneLineUsageError(f"no such command {name!r}{hint}", ctx)
        return super().resolve_command(ctx, args)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        args = _verbose_first(args)
        ctx.meta[_TERRAFORM_EXIT] = _wants_terraform_exit(args)
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as e:
            if ctx.meta[_TERRAFORM_EXIT]:
                raise CliError(e.format_message(), EXIT_FINDINGS) from e
            raise

    def invoke(self, ctx: click.Context):
        # `plan --detailed-exitcode` follows Terraform: 0 no changes, 2 changes, 1 for every error
        # (a usage error included: click parses the command's arguments in here).
        terraform = ctx.meta.get(_TERRAFORM_EXIT, False)
        try:
            return super().invoke(ctx)
        except RbactoolError as e:
            raise CliError(str(e), EXIT_FINDINGS if terraform else e.exit_code) from e
        except click.UsageError as e:
            if terraform:
                raise CliError(e.format_message(), EXIT_FINDINGS) from e
            if isinstance(e, OneLineUsageError):
                raise
            raise OneLineUsageError(e.format_message(), e.ctx) from e
        except OSError as e:
            # Nothing below lets an OSError through on purpose: it is standard output that cannot be
            # written (a closed pipe, a full disk). A closed pipe ends quietly, as with SIGPIPE (141);
            # anything else is one line, exit 3. Standard output goes to /dev/null so the final
            # flush at exit cannot raise again.
            _silence_stdout()
            if e.errno == errno.EPIPE:
                raise click.exceptions.Exit(EXIT_BROKEN_PIPE) from e
            raise CliError(f"cannot write output: {e.strerror or e}", EXIT_INVALID_INPUT) from e
        except (KeyboardInterrupt, click.Abort) as e:
            # Ctrl-C (or a confirmation interrupted or declined): one line and 130, as shells expect.
            # apply catches Ctrl-C itself, reports what was in flight, then exits 130 too.
            if sys.stderr.isatty():
                click.echo(err=True)  # past the terminal's ^C
            click.echo("Interrupted" if isinstance(e, KeyboardInterrupt) else "Aborted", err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from e

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help from the table, so `rbactool --help` imports no command module.
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


_TERRAFORM_EXIT = "rbactool.terraform_exit"
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a process killed by a closed pipe


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (e.g. CliRunner)
        pass


_VERBOSE = re.compile(r"^-v+$")


def _verbose_first(args: list[str]) -> list[str]:
    """``-v``/``-vv``/``--verbose`` anywhere before ``--`` (``rbactool validate -v x.json``) is the
    group's option: moved to the front, where click reads it. No command has a ``-v`` of its own."""
    end = args.index("--") if "--" in args else len(args)
    flags = [a for a in args[:end] if _VERBOSE.match(a) or a == "--verbose"]
    if not flags:
        return args
    rest = [a for a in args[:end] if not (_VERBOSE.match(a) or a == "--verbose")]
    return [*flags, *rest, *args[end:]]


def _wants_terraform_exit(args: list[str]) -> bool:
    """True for `rbactool [group options] plan ... --detailed-exitcode ...` (before any `--`)."""
    words = [a for a in args if not a.startswith("-")]
    if not words or words[0] != "plan":
        return False
    rest = args[args.index("plan") + 1:]
    return "--detailed-exitcode" in (rest[: rest.index("--")] if "--" in rest else rest)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _printable(message: str) -> str:
    """One error line with no control character: an answer from Azure (or a file name) must not
    move the cursor, rewrite earlier lines or reach the clipboard (OSC 52) of the terminal."""
    return _CONTROL.sub("?", redact_configured(message))


class OneLineUsageError(click.UsageError):
    """A usage error (exit 2) as one line, with where to find help, instead of click's usage banner."""

    def show(self, file=None) -> None:
        where = self.ctx.command_path if self.ctx is not None else "rbactool"
        click.echo(_printable(f"Error: {self.format_message()} (see '{where} -h')"), err=True, file=file)


class CliError(click.ClickException):
    """A ClickException with the exit code of the domain error it wraps."""

    def __init__(self, message: str, exit_code: int = EXIT_INVALID_INPUT):
        super().__init__(_printable(message))  # no secret, no control character in any error line
        self.exit_code = exit_code


def _configure_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    # every line of rbactool's and azure's loggers is redacted (tokens, JWTs, secrets): rbactool.redact
    handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("rbactool")
    root.handlers[:] = [handler]
    root.setLevel(level)
    # The Azure SDK's loggers (azure-identity explains every credential it tried, at length) are
    # silent unless -vv; rbactool turns their failures into one line itself. azure-core's logging
    # policy redacts the Authorization header.
    azure = logging.getLogger("azure")
    azure.handlers[:] = [handler] if verbose >= 2 else [logging.NullHandler()]
    azure.propagate = False
    azure.setLevel(logging.DEBUG if verbose >= 2 else logging.CRITICAL)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rbactool")
@click.option("-v", "--verbose", count=True, help="Log to stderr: -v info, -vv debug.")
def cli(verbose: int) -> None:
    """Azure RBAC as code: render, validate, diff and apply custom roles and role assignments."""
    _configure_logging(verbose)


class _WholeWrites(io.BufferedWriter):
    """A buffered writer that writes everything or raises. Python's own stdout accepts a short
    write in silence when the reader of a pipe goes away mid-write (``rbactool explain Owner |
    head -1``), so the output would end cut short with exit 0; here the rest of the write gets
    EPIPE, which ``LazyGroup.invoke`` turns into exit 141."""

    def write(self, b) -> int:
        view = memoryview(b).cast("B")
        done = 0
        while done < len(view):
            done += super().write(view[done:])
        return done


def _checked_stdout() -> None:
    out = sys.stdout
    try:
        fd = out.fileno()
    except (AttributeError, ValueError, io.UnsupportedOperation):
        return  # not a real file (CliRunner, an embedding program): leave it alone
    out.flush()
    raw = io.FileIO(fd, "w", closefd=False)
    sys.stdout = io.TextIOWrapper(_WholeWrites(raw), encoding=out.encoding, errors=out.errors,
                                  line_buffering=out.line_buffering, write_through=False)


def main(argv: list[str] | None = None) -> None:
    """Console entry point. Commands exit non-zero through ``ctx.exit(code)``; domain errors
    become one ``Error: ...`` line on stderr with their exit code (see LazyGroup.invoke)."""
    _checked_stdout()
    cli.main(args=argv, prog_name="rbactool")
