"""Azure's built-in role definitions, shipped offline so a role can be named and resolved.

``load_builtin_roles().resolve("AzureML Data Scientist")`` gives the role and its GUID (the same
in every cloud) without calling Azure.
"""

from __future__ import annotations

import functools
import gzip
import json
from pathlib import Path

from rbactool.catalog import builtin_roles_source, packaged_data_path
from rbactool.errors import CatalogError
from rbactool.model import RoleDefinition, role_from_dict
from rbactool.readers import read_json_file, shorten


class BuiltinRoles:
    """The built-in roles, indexed by name and GUID. From the packaged snapshot (rbactool's own
    file) a role's model is built only when it is asked for: ``assign --role Reader`` builds one
    role, not 928 (``all()`` builds every one)."""

    def __init__(self, roles: tuple[RoleDefinition, ...], snapshot_date: str, *, raw: list[dict] | None = None,
                 source: str = ""):
        self.snapshot_date = snapshot_date
        self._source = source
        if raw is None:
            self._raw: list = list(roles)
            self._built: dict[int, RoleDefinition] = dict(enumerate(roles))
            keys = [(r.name, r.role_id) for r in roles]
        else:
            self._raw, self._built = raw, {}
            keys = [(r["roleName"], r["name"]) for r in raw]
        self._by_name = {name.lower(): i for i, (name, _) in enumerate(keys)}
        self._by_id = {guid.lower(): i for i, (_, guid) in enumerate(keys) if guid}

    def _role(self, i: int) -> RoleDefinition:
        role = self._built.get(i)
        if role is None:
            role = self._built[i] = role_from_dict(self._raw[i], source=self._source, pointer_prefix=f"/roles/{i}")
        return role

    def __len__(self) -> int:
        return len(self._raw)

    def all(self) -> tuple[RoleDefinition, ...]:
        return tuple(self._role(i) for i in range(len(self._raw)))

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
        import difflib

        lowered = {self.name_of(i).lower(): self.name_of(i) for i in range(len(self._raw))}
        return [lowered[m] for m in difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)]

    def name_of(self, i: int) -> str:
        r = self._raw[i]
        return r.name if isinstance(r, RoleDefinition) else r["roleName"]


def load_builtin_roles() -> BuiltinRoles:
    """The built-in roles ``rbactool catalog refresh`` cached from public Azure, else the packaged
    snapshot (see ``catalog.builtin_roles_source``)."""
    return _load(builtin_roles_source())


@functools.lru_cache(maxsize=4)
def _load(cached: str | None) -> BuiltinRoles:
    path = Path(cached) if cached else packaged_data_path("builtin-roles.json.gz")
    try:
        if cached:  # the cache is input like any other (rbactool.readers): every role is checked now
            doc = read_json_file(path, what="built-in roles cache", error=CatalogError)
            roles = tuple(
                role_from_dict(r, source=str(path), pointer_prefix=f"/roles/{i}")
                for i, r in enumerate(doc["roles"])
            )
            return BuiltinRoles(roles, doc["snapshot_date"])
        # the packaged file is ours (tests/test_validate_builtins.py builds every role of it)
        doc = json.loads(gzip.decompress(path.read_bytes()))
        return BuiltinRoles((), doc["snapshot_date"], raw=doc["roles"], source=str(path))
    except (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise CatalogError(f"{path}: built-in roles cannot be loaded: {shorten(str(e), 120)}") from e
