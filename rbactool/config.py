"""``.rbactool.yaml``: the validation gate's settings, found upward from the current directory.

``validate``, ``create``, ``plan`` and ``apply`` all use it (``--config PATH`` / ``--no-config``),
through the same gate (``rbactool.validate.gate``), and each names the config it used on stderr.

```yaml
fail_on: security-warning          # error (default) | security-warning | warning | suggestion | none
catalog_max_age_days: 180          # CATALOG_OUTDATED after this many days
severity:                          # change the type of a finding code
  DUPLICATE_PERMISSION: warning
ignore:                            # every entry needs a reason; fields are ANDed, list values ORed
  - code: CREDENTIAL_EXPOSURE
    role: "Endpoint operator*"     # globs, case-insensitive: code, file, role, operation
    operation: "*/onlineEndpoints/listKeys/action"
    reason: "operators rotate keys by design (SEC-123)"
```

Globs are case-insensitive and ``*`` also matches ``/``. A ``file`` glob without a ``/`` also
matches the file's base name. A finding matches ``operation`` when its offending value matches,
or when every operation it names matches. Suppressed findings are kept in the report (and the JSON/SARIF output), never
silently dropped. Unknown keys, unknown codes and entries without a reason are ConfigError.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rbactool.errors import InputError, fail_on_label  # noqa: F401 (its home is errors; kept importable here)
from rbactool.findings import ERROR, FAIL_ON_CHOICES, RULES, TYPES, Finding, parse_type
from rbactool.readers import clip

CONFIG_NAMES = (".rbactool.yaml", ".rbactool.yml")
DEFAULT_CATALOG_MAX_AGE_DAYS = 180
_MATCH_FIELDS = ("code", "file", "role", "operation")


class ConfigError(InputError):
    """``.rbactool.yaml`` is invalid (exit 3)."""


@dataclass(frozen=True)
class Ignore:
    reason: str
    code: tuple[str, ...] = ()
    file: tuple[str, ...] = ()
    role: tuple[str, ...] = ()
    operation: tuple[str, ...] = ()
    origin: str = "config"

    def matches(self, finding: Finding) -> bool:
        loc = finding.location
        if self.code and finding.code not in self.code:
            return False
        if self.file and not _file_glob(self.file, loc.file or ""):
            return False
        if self.role and not _any_glob(self.role, loc.role or ""):
            return False
        if self.operation:
            value_ok = loc.value is not None and _any_glob(self.operation, loc.value.strip())
            ops_ok = bool(finding.operations) and all(_any_glob(self.operation, o) for o in finding.operations)
            if not (value_ok or ops_ok):
                return False
        return True


def _file_glob(patterns: Iterable[str], path: str) -> bool:
    """A glob with a '/' matches the path as given; one without also matches the file's base name."""
    norm = path.replace("\\", "/")
    base = norm.rsplit("/", 1)[-1]
    return any(_any_glob([p], norm) or ("/" not in p and _any_glob([p], base)) for p in patterns)


def _any_glob(patterns: Iterable[str], value: str) -> bool:
    low = value.lower()
    return any(fnmatch.fnmatchcase(low, p.lower()) for p in patterns)


@dataclass(frozen=True)
class Config:
    fail_on: str | None = ERROR  # a finding type, or None for "never"
    severity: dict[str, str] = field(default_factory=dict)
    ignores: tuple[Ignore, ...] = ()
    catalog_max_age_days: int = DEFAULT_CATALOG_MAX_AGE_DAYS
    path: str | None = None

    def __hash__(self) -> int:  # severity is a dict; hash by identity is enough
        return id(self)

    def suppression(self, finding: Finding) -> Ignore | None:
        for ign in self.ignores:
            if ign.matches(finding):
                return ign
        return None


_EXPECTED = {
    "fail_on": "one of error, security-warning, warning, suggestion, none",
    "severity": "a mapping of finding codes to types",
    "ignore": "a list of entries",
    "catalog_max_age_days": "a non-negative integer",
}


def parse_fail_on(value: str) -> str | None:
    """A ``fail_on`` / ``--fail-on`` value -> a finding type, or None for ``none``; ConfigError otherwise."""
    if not isinstance(value, str):
        raise ConfigError(f"fail_on must be {_EXPECTED['fail_on']}, got {clip(value)}")
    if value.strip().lower() == "none":
        return None
    try:
        return parse_type(value)
    except ValueError:
        raise ConfigError(f"fail_on: unknown value {clip(value)} (one of {', '.join(FAIL_ON_CHOICES)})") from None


def config_from_dict(doc: Any, *, origin: str = "<config>") -> Config:
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ConfigError(f"{origin}: expected a mapping at the top level")
    known = {"fail_on", "severity", "ignore", "catalog_max_age_days"}
    for key in doc:
        if key not in known:
            raise ConfigError(f"{origin}: unknown key {clip(key)} (known: {', '.join(sorted(known))})")
    for key, value in doc.items():
        if value is None:  # `fail_on:` with nothing after it is not `none`
            raise ConfigError(f"{origin}: {key} has no value ({_EXPECTED[key]}, or remove the key)")
    fail_on: str | None = ERROR
    if "fail_on" in doc:
        value = doc["fail_on"]
        try:
            fail_on = parse_fail_on(value)
        except ConfigError as e:
            raise ConfigError(f"{origin}: {e}") from e
    severity = {}
    sev = doc.get("severity", {})
    if not isinstance(sev, dict):
        raise ConfigError(f"{origin}: severity must map finding codes to types")
    for code, t in sev.items():
        _check_code(code, origin, "severity")
        if not isinstance(t, str):
            raise ConfigError(f"{origin}: severity.{code} must be a finding type "
                              f"({', '.join(x.lower() for x in TYPES)}), got {clip(t)}")
        try:
            severity[code] = parse_type(t)
        except ValueError as e:
            raise ConfigError(f"{origin}: severity.{code}: {e}") from e
    age = doc.get("catalog_max_age_days", DEFAULT_CATALOG_MAX_AGE_DAYS)
    if not isinstance(age, int) or isinstance(age, bool) or age < 0:
        raise ConfigError(f"{origin}: catalog_max_age_days must be a non-negative integer, got {clip(age)}")
    ignores = doc.get("ignore", [])
    if not isinstance(ignores, list):
        raise ConfigError(f"{origin}: ignore must be a list of entries")
    return Config(
        fail_on=fail_on,
        severity=severity,
        ignores=tuple(_ignore(e, i, origin) for i, e in enumerate(ignores)),
        catalog_max_age_days=age,
        path=origin,
    )


def _check_code(code: Any, origin: str, where: str) -> None:
    if not isinstance(code, str) or code not in RULES:
        raise ConfigError(
            f"{origin}: {where}: unknown finding code {clip(code)} (see `rbactool validate --list-rules`)"
        )


def _ignore(entry: Any, i: int, origin: str) -> Ignore:
    where = f"ignore[{i}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{origin}: {where} must be a mapping with a reason")
    for key in entry:
        if key not in (*_MATCH_FIELDS, "reason"):
            raise ConfigError(
                f"{origin}: {where}: unknown key {clip(key)} (known: code, file, role, operation, reason)")
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ConfigError(f"{origin}: {where}: every ignore entry needs a non-empty reason")
    fields: dict[str, tuple[str, ...]] = {}
    for key in _MATCH_FIELDS:
        if key not in entry:
            continue
        v = entry[key]
        values = v if isinstance(v, list) else [v]
        if not values or not all(isinstance(x, str) and x for x in values):
            raise ConfigError(f"{origin}: {where}.{key} must be a non-empty string or list of strings")
        fields[key] = tuple(values)
    if not fields:
        raise ConfigError(f"{origin}: {where} matches everything: give at least one of code, file, role, operation")
    for code in fields.get("code", ()):
        _check_code(code, origin, f"{where}.code")
    return Ignore(reason=reason.strip(), origin=f"{origin}: {where}", **fields)


def load_config(path: str | os.PathLike) -> Config:
    from rbactool.readers import loads_yaml, read_file

    p = Path(path)
    text = read_file(p, what="config", error=ConfigError)
    return config_from_dict(loads_yaml(text, str(p), ConfigError), origin=str(p))


def find_config(start: str | os.PathLike | None = None) -> Path | None:
    """The nearest ``.rbactool.yaml`` in *start* (default: the current directory) or above."""
    here = Path(start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        for name in CONFIG_NAMES:
            candidate = d / name
            if candidate.is_file():
                return candidate
    return None


def cli_ignores(codes: Iterable[str]) -> tuple[Ignore, ...]:
    out = []
    for code in codes:
        _check_code(code, "--ignore", "--ignore")
        out.append(Ignore(reason="--ignore on the command line", code=(code,), origin="--ignore"))
    return tuple(out)


def resolve_config(config_path: str | None = None, no_config: bool = False) -> Config:
    """The config a command uses: none with --no-config, --config PATH, else .rbactool.yaml found
    from the current directory upwards, else the defaults."""
    if no_config:
        return Config()
    if config_path:
        return load_config(config_path)
    found = find_config()
    return load_config(found) if found else Config()


def gate_config(config_path: str | None = None, no_config: bool = False, fail_on: str | None = None) -> Config:
    """The config of the validation gate: ``resolve_config`` (.rbactool.yaml, --config or
    --no-config), then a --fail-on value (``error``, ``security-warning``, ..., ``none``) on top."""
    config = resolve_config(config_path, no_config)
    if fail_on is not None:
        config = replace(config, fail_on=parse_fail_on(fail_on))
    return config


def describe_config(config: Config, *, no_config: bool = False) -> str:
    """Which config a command uses, for its one-line announcement: 'config .rbactool.yaml (2 ignores,
    1 severity override)', 'no config (--no-config)' or 'no config (no .rbactool.yaml found)'."""
    if config.path is None:
        return "no config (--no-config)" if no_config else "no config (no .rbactool.yaml found)"
    path = config.path
    try:
        rel = os.path.relpath(path)
        path = rel if not rel.startswith("..") else path
    except ValueError:  # another drive (Windows)
        pass
    n, m = len(config.ignores), len(config.severity)
    return (f"config {path} ({n} ignore{'' if n == 1 else 's'}, "
            f"{m} severity override{'' if m == 1 else 's'})")


