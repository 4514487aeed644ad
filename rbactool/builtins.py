"""Azure's built-in role definitions, shipped offline so a role can be named and resolved.

``load_builtin_roles().resolve("AzureML Data Scientist")`` gives the role and its GUID (the same
in every cloud) without calling Azure.
"""

from __future__ import annotations

import difflib
import functools
import gzip
import json
from pathlib import Path

from rbactool.catalog import builtin_roles_source, packaged_data_path
from rbactool.errors import CatalogError
from rbactool.model import RoleDefinition, role_from_dict
from rbactool.readers import read_json_file, shorten


class BuiltinRoles:
    def __init__(self, roles: tuple[RoleDefinition, ...], snapshot_date: str):
        self.snapshot_date = snapshot_date
        self._roles = roles
        self._by_name = {r.name.lower(): r for r in roles}
        self._by_id = {r.role_id.lower(): r for r in roles if r.role_id}

    def __len__(self) -> int:
        return len(self._roles)

    def all(self) -> tuple[RoleDefinition, ...]:
        return self._roles

    def by_name(self, name: str) -> RoleDefinition | None:
        return self._by_name.get(name.lower())

    def by_id(self, guid: str) -> RoleDefinition | None:
        return self._by_id.get(guid.lower())

    def resolve(self, ref: str) -> RoleDefinition | None:
        """A built-in role by name, GUID, or full role-definition id."""
        role = self.by_name(ref)
        if role is None:
            role = self.by_id(ref.rstrip("/").rsplit("/", 1)[-1])
        return role

    def closest_names(self, name: str, n: int = 3) -> list[str]:
        lowered = {r.name.lower(): r.name for r in self._roles}
        return [lowered[m] for m in difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)]


def load_builtin_roles() -> BuiltinRoles:
    """The built-in roles ``rbactool catalog refresh`` cached from public Azure, else the packaged
    snapshot (see ``catalog.builtin_roles_source``)."""
    return _load(builtin_roles_source())


@functools.lru_cache(maxsize=4)
def _load(cached: str | None) -> BuiltinRoles:
    path = Path(cached) if cached else packaged_data_path("builtin-roles.json.gz")
    try:
        if cached:  # the cache is input like any other (rbactool.readers); the packaged file is ours
            doc = read_json_file(path, what="built-in roles cache", error=CatalogError)
        else:
            doc = json.loads(gzip.decompress(path.read_bytes()))
        roles = tuple(
            role_from_dict(r, source=str(path), pointer_prefix=f"/roles/{i}")
            for i, r in enumerate(doc["roles"])
        )
        snapshot_date = doc["snapshot_date"]
    except (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise CatalogError(f"{path}: built-in roles cannot be loaded: {shorten(str(e), 120)}") from e
    return BuiltinRoles(roles, snapshot_date)
