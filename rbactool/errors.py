"""Domain errors. Each carries the process exit code the CLI maps it to.

Exit codes (mapped once, in cli.main): 0 ok; 1 findings or differences; 2 usage error;
3 invalid input (template, role file, spec, catalog, scope); 4 Azure failure; 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INVALID_INPUT = 3
EXIT_AZURE = 4
EXIT_INTERRUPTED = 130


class RbactoolError(Exception):
    """Base class of every error rbactool raises on purpose."""

    exit_code = EXIT_INVALID_INPUT


class InputError(RbactoolError):
    """The user's input is invalid (exit 3)."""

    exit_code = EXIT_INVALID_INPUT


class RoleFormatError(InputError):
    """A role definition document cannot be read."""


class ScopeError(InputError, ValueError):
    """An ARM scope string is malformed."""


class ParameterError(InputError, ValueError):
    """A template parameter is missing or has a bad value."""


class TemplateError(InputError):
    """A template is unknown, broken, or renders something that is not a role."""


class SpecError(InputError):
    """A roles spec (roles/*.yaml) is invalid."""


class CatalogError(InputError):
    """The operations catalog or built-in roles data cannot be loaded."""


class OutputError(InputError):
    """An output path cannot be written."""


class AzureOperationError(RbactoolError):
    """A call to Azure failed (exit 4)."""

    exit_code = EXIT_AZURE

    def __init__(self, message: str, *, status_code: int | None = None, error_code: str | None = None,
                 connection: bool = False):
        super().__init__(message)
        self.status_code = status_code
        self.error_code = error_code
        # True when no ARM answer came back at all (refused, reset, TLS or DNS failure): the endpoint
        # may be gone, which apply treats differently from an error ARM answered with.
        self.connection = connection


class Cancelled(RbactoolError):
    """The run was interrupted (Ctrl-C) while this step waited."""


def fail_on_label(fail_on: str | None) -> str:
    """A threshold as the command line spells it: 'security-warning', 'none'."""
    return fail_on.lower().replace("_", "-") if fail_on else "none"


class ValidationRefused(InputError):
    """The gate refused the roles: a finding at or above the threshold (exit 3)."""

    def __init__(self, report, what: str = "the roles", bypass: str = "--fail-on none"):
        self.report = report
        super().__init__(f"{len(report.blocking())} finding(s) at or above {fail_on_label(report.fail_on)} in {what} "
                         "(see `rbactool validate`): fix them, suppress them in .rbactool.yaml (with a reason), "
                         f"or pass {bypass}")


#: An empty --condition would read as "no condition": removing one is --clear-condition, said out loud.
EMPTY_CONDITION = ("--condition is empty: to remove the assignment's condition give --clear-condition "
                   "(this widens access: the role then applies unconditionally)")
