"""What the ARM handlers share: state, built-in roles, the action checker, the caller matcher."""

from __future__ import annotations

import functools

from rbactool.builtins import load_builtin_roles
from rbactool.catalog import compile_pattern
from rbactool.emulator.actions import ActionChecker, packaged_catalog
from rbactool.emulator.armerror import authorization_failed
from rbactool.emulator.routing import Hierarchy
from rbactool.emulator.state import PermissionBlock, RoleDefinitionRecord, State


@functools.lru_cache(maxsize=1)
def builtin_records() -> dict[str, RoleDefinitionRecord]:
    """The 928 built-in roles, keyed by lower-cased GUID, in the packaged order."""
    out = {}
    for r in load_builtin_roles().all():
        if not r.role_id:
            continue
        out[r.role_id.lower()] = RoleDefinitionRecord(
            guid=r.role_id,
            role_name=r.name,
            description=r.description,
            permissions=tuple(
                PermissionBlock(p.actions, p.not_actions, p.data_actions, p.not_data_actions,
                                p.condition, p.condition_version)
                for p in r.permissions
            ),
            assignable_scopes=tuple(r.assignable_scopes) or ("/",),
            is_custom=False,
            created_on=r.created_on,
            updated_on=r.updated_on,
        )
    return out


@functools.lru_cache(maxsize=4096)
def _regex(pattern: str):
    return compile_pattern(pattern)


def block_allows(block: PermissionBlock, action: str, *, data: bool = False) -> bool:
    allow = block.data_actions if data else block.actions
    deny = block.not_data_actions if data else block.not_actions
    low = action.lower()
    return any(_regex(p).match(low) for p in allow) and not any(_regex(p).match(low) for p in deny)


class Backend:
    def __init__(self, state: State, extra_operations: dict[str, bool] | None = None):
        self.state = state
        self.builtins = builtin_records()
        self.builtin_names = {r.role_name.lower() for r in self.builtins.values()}
        self.extra_operations: dict[str, bool] = dict(extra_operations or {})
        #: operation name -> (displayName, description) of the extra operations
        self.extra_texts: dict[str, tuple[str, str]] = {}
        self.checker = ActionChecker(packaged_catalog(), self.extra_operations)

    @property
    def config(self):
        return self.state.config

    @property
    def hierarchy(self) -> Hierarchy:
        st = self.state
        return Hierarchy(st.management_groups, st.mg_tree, st.tenant_id if st.mg_tree else None)

    def role(self, guid: str) -> RoleDefinitionRecord | None:
        low = guid.lower()
        return self.builtins.get(low) or self.state.custom_roles.get(low)

    # -------------------------------------------------------------- caller permissions
    def caller_blocks(self, caller: str, scope: str) -> list[PermissionBlock] | None:
        """The permission blocks the caller holds at *scope*; None when the caller has no table entry."""
        grants = self.state.caller_grants.get(caller.lower())
        if grants is None:
            return None
        h = self.hierarchy
        blocks: list[PermissionBlock] = []
        for g in grants:
            role = self.role(g.role)
            if role is not None and h.at_or_above(g.scope, scope):
                blocks.extend(role.permissions)
        return blocks

    def allowed(self, caller: str, action: str, scope: str) -> bool:
        if not self.config.enforce_permissions:
            return True
        blocks = self.caller_blocks(caller, scope) or []
        return any(block_allows(b, action) for b in blocks)

    def require(self, caller: str, action: str, scope: str, resource_id: str) -> None:
        """403 AuthorizationFailed unless the caller may perform *action* at *scope*."""
        if not self.allowed(caller, action, scope):
            raise authorization_failed(caller, action, resource_id)
