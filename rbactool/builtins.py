"""Azure's built-in role definitions, shipped offline so a role can be named and resolved.

``load_builtin_roles().resolve("AzureML Data Scientist")`` gives the role and its GUID (the same
in every cloud) without calling Azure.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import gzip
import json
from collections.abc import Iterator
from pathlib import Path

from rbactool.catalog import builtin_roles_source, packaged_data_path
from rbactool.errors import CatalogError
from rbactool.model import RoleDefinition, role_from_dict
from rbactool.readers import read_json_file, shorten


class BuiltinRoles:
    """The built-in roles, indexed by name and GUID. A role is built (``role_from_dict``) the first
    time it is asked for: a validation run asks only whether a name is a built-in's, and building
    all 928 roles was a third of a cold ``rbactool validate role.json``."""

    def __init__(self, roles: tuple[RoleDefinition, ...] | list[dict], snapshot_date: str, *, source: str = ""):
        self.snapshot_date = snapshot_date
        self._source = source
        self._raw: list = list(roles)
        self._built: dict[int, RoleDefinition] = {
            i: r for i, r in enumerate(self._raw) if isinstance(r, RoleDefinition)}
        self._by_name: dict[str, int] = {}
        self._by_id: dict[str, int] = {}
        for i, r in enumerate(self._raw):
            name, guid = (r.name, r.role_id) if isinstance(r, RoleDefinition) else _name_and_id(r, source, i)
            self._by_name.setdefault(name.lower(), i)
            if guid:
                self._by_id.setdefault(guid.lower(), i)

    def _role(self, i: int) -> RoleDefinition:
        role = self._built.get(i)
        if role is None:
            try:
                role = role_from_dict(self._raw[i], source=self._source, pointer_prefix=f"/roles/{i}")
            except ValueError as e:  # RoleFormatError: a broken cache entry
                raise CatalogError(f"{self._source}: built-in roles cannot be loaded: {shorten(str(e), 120)}") from e
            self._built[i] = role
        return role

    def __len__(self) -> int:
        return len(self._raw)

    def all(self) -> tuple[RoleDefinition, ...]:
        return tuple(self._role(i) for i in range(len(self._raw)))

    def names(self) -> frozenset[str]:
        """Every built-in role name, lower-cased (no role is built)."""
        return frozenset(self._by_name)

    def id_of(self, name: str) -> str | None:
        """The GUID of the built-in role with this name (case-insensitive), or None; builds no role."""
        i = self._by_name.get(name.lower())
        if i is None:
            return None
        r = self._built.get(i) or self._raw[i]
        return r.role_id if isinstance(r, RoleDefinition) else _name_and_id(r, self._source, i)[1]

    def has_name(self, name: str) -> bool:
        return name.lower() in self._by_name

    def by_name(self, name: str) -> RoleDefinition | None:
        i = self._by_name.get(name.lower())
        return None if i is None else self._role(i)

    def by_id(self, guid: str) -> RoleDefinition | None:
        i = self._by_id.get(guid.lower())
        return None if i is None else self._role(i)

    def resolve(self, ref: str) -> RoleDefinition | None:
        """A built-in role by name, GUID, or full role-definition id."""
        role = self.by_name(ref)
        if role is None:
            role = self.by_id(ref.rstrip("/").rsplit("/", 1)[-1])
        return role

    def closest_names(self, name: str, n: int = 3) -> list[str]:
        lowered = {k: self._role(i).name for k, i in self._by_name.items()}
        return [lowered[m] for m in difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)]


def _name_and_id(raw: object, source: str, i: int) -> tuple[str, str | None]:
    """A raw role's name and GUID as ``role_from_dict`` reads them (ARM resource, an ``az role
    definition list`` row, or the az shape), without building the role."""
    name = guid = None
    if isinstance(raw, dict):
        if isinstance(raw.get("properties"), dict):
            name, guid = raw["properties"].get("roleName"), raw.get("name")
        elif "roleName" in raw:
            name, guid = raw.get("roleName"), raw.get("name")
        else:
            keys = {k.lower(): k for k in raw if isinstance(k, str)}
            name = raw.get(keys.get("name", keys.get("rolename", "")))
            guid = raw.get(keys.get("id", ""))
    if not isinstance(name, str):
        raise CatalogError(f"{source}: built-in roles cannot be loaded: /roles/{i} has no role name")
    guid = guid.rstrip("/").rsplit("/", 1)[-1] if isinstance(guid, str) and guid else None
    return name, guid


#: While ``pinned()`` runs: the built-in roles, resolved at most once (None until first asked).
_PINNED: list[BuiltinRoles | None] = []


def load_builtin_roles() -> BuiltinRoles:
    """The built-in roles ``rbactool catalog refresh`` cached from public Azure, else the packaged
    snapshot (see ``catalog.builtin_roles_source``)."""
    if _PINNED:
        if _PINNED[-1] is None:
            _PINNED[-1] = _load(builtin_roles_source())
        return _PINNED[-1]
    return _load(builtin_roles_source())


@contextlib.contextmanager
def pinned() -> Iterator[None]:
    """Within the block, ``load_builtin_roles()`` looks for a refreshed cache once, not on every call
    (a validation run asks once per role and check; each look is a few ``stat`` calls)."""
    _PINNED.append(None)
    try:
        yield
    finally:
        _PINNED.pop()


@functools.lru_cache(maxsize=4)
def _load(cached: str | None) -> BuiltinRoles:
    path = Path(cached) if cached else packaged_data_path("builtin-roles.json.gz")
    try:
        if cached:  # the cache is input like any other (rbactool.readers); the packaged file is ours
            doc = read_json_file(path, what="built-in roles cache", error=CatalogError)
        else:
            doc = json.loads(gzip.decompress(path.read_bytes()))
        roles = doc["roles"]
        snapshot_date = doc["snapshot_date"]
        if not isinstance(roles, list) or not isinstance(snapshot_date, str):
            raise TypeError("'roles' must be a list and 'snapshot_date' a string")
        builtins = BuiltinRoles(roles, snapshot_date, source=str(path))
        if cached:  # input like any other: every role is read now, so a broken one is refused here
            builtins.all()
    except (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise CatalogError(f"{path}: built-in roles cannot be loaded: {shorten(str(e), 120)}") from e
    return builtins
