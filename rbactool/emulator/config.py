"""Emulator settings: paging, eventual-consistency delays, strictness, throttling.

Everything defaults to *off* (deterministic tests). ``preset("realistic")`` turns on delays in the
ranges real ARM shows (shortened: a few seconds instead of minutes).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any

#: api-version values accepted (all served with the 2022-04-01 shapes): the SDK's 2022-04-01, azure-cli's
#: 2022-05-01-preview for definitions, and the older versions other tools and the REST examples send.
SUPPORTED_API_VERSIONS = (
    "2022-04-01", "2022-05-01-preview", "2022-01-01-preview", "2021-03-01-preview", "2020-10-01",
    "2020-10-01-preview", "2020-08-01-preview", "2020-04-01-preview", "2020-03-01-preview",
    "2018-09-01-preview", "2018-07-01", "2018-01-01-preview", "2017-05-01", "2015-07-01", "2015-06-01",
)
DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-00000000c0de"
DEFAULT_TENANT = "00000000-0000-0000-0000-0000000000aa"
DEFAULT_CALLER = "00000000-0000-0000-0000-0000000000cc"


@dataclass(frozen=True)
class EmulatorConfig:
    #: Items per list page (0 = unlimited, as real ARM behaves for these lists).
    page_size: int = 0
    #: Extra time every ARM request takes (network + ARM latency), e.g. to observe client concurrency.
    response_delay_s: float = 0.0
    #: A new custom role is invisible (404 / absent / RoleDefinitionDoesNotExist) this long.
    role_definition_replication_delay_s: float = 0.0
    #: Assignable scopes added by an update become usable for assignments after this long.
    assignable_scope_replication_delay_s: float = 0.0
    #: Default ``visible_after_s`` of principals added without one.
    principal_visibility_delay_s: float = 0.0
    #: After a custom role is deleted, its name stays taken this long.
    deleted_role_name_tombstone_s: float = 0.0
    #: After an assignment is deleted, its role still counts as assigned this long.
    assignment_delete_propagation_s: float = 0.0
    #: A new assignment is absent from lists this long.
    assignment_list_delay_s: float = 0.0
    #: Check action strings against the operations catalog (InvalidActionOrNotAction).
    validate_actions: bool = True
    #: Reject assignments to principals the directory does not know, even with principalType set.
    strict_principals: bool = False
    #: Refuse custom roles with data actions and a management group among their assignable scopes
    #: (older docs); by default they are created and only assignment at the group itself fails.
    reject_data_actions_with_management_group: bool = False
    #: Accept only this exact bearer token (None: any bearer token).
    required_token: str | None = None
    #: Enforce the caller-permission table (403 AuthorizationFailed / LinkedAuthorizationFailed).
    enforce_permissions: bool = False
    #: Token-bucket throttling with ARM's hourly limits scaled by ``throttle_scale``.
    throttle: bool = False
    throttle_reads_per_hour: int = 12000
    throttle_writes_per_hour: int = 1200
    #: Custom-role limit per tenant and assignment limit per subscription.
    max_custom_roles: int = 5000
    max_assignments_per_subscription: int = 4000
    #: 404 SubscriptionNotFound for subscriptions not configured (--subscription).
    check_subscriptions: bool = False
    #: Base URL used in nextLink (None: the request's Host header).
    public_url: str | None = None

    def replace(self, **changes: Any) -> EmulatorConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


CONFIG_FIELDS = frozenset(f.name for f in fields(EmulatorConfig))

PRESETS: dict[str, dict[str, Any]] = {
    "off": {},
    # Shortened versions of what ARM does (minutes there, seconds here): long enough that a client
    # without retries fails, short enough for a test suite.
    "realistic": {
        "role_definition_replication_delay_s": 5.0,
        "assignable_scope_replication_delay_s": 5.0,
        "principal_visibility_delay_s": 10.0,
        "deleted_role_name_tombstone_s": 10.0,
        "assignment_delete_propagation_s": 3.0,
        "assignment_list_delay_s": 2.0,
    },
}


def check_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Validate a partial config update; raises ValueError naming the bad key or value."""
    if "delay_preset" in changes:
        changes = dict(changes)
        name = changes.pop("delay_preset")
        if name not in PRESETS:
            raise ValueError(f"unknown delay preset {name!r} (one of {', '.join(PRESETS)})")
        changes = {**PRESETS[name], **changes}
    defaults = EmulatorConfig()
    out = {}
    for key, value in changes.items():
        if key not in CONFIG_FIELDS:
            raise ValueError(f"unknown config key {key!r}")
        default = getattr(defaults, key)
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ValueError(f"config {key} must be true or false")
        elif isinstance(default, (int, float)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"config {key} must be a non-negative number")
            if isinstance(default, int) and not isinstance(default, bool):
                value = int(value)
        elif value is not None and not isinstance(value, str):
            raise ValueError(f"config {key} must be a string or null")
        out[key] = value
    return out


def check_ids(tenant: str | None, subscriptions: tuple[str, ...] | list[str]) -> None:
    """``rbactool emulator --tenant/--subscription``: each must be a GUID (InputError otherwise)."""
    from rbactool.errors import InputError
    from rbactool.scopes import is_guid

    if tenant is not None and not is_guid(tenant):
        raise InputError(f"--tenant must be a GUID like 00000000-0000-0000-0000-000000000000, got {tenant!r}")
    for s in subscriptions:
        if not is_guid(s):
            raise InputError(f"--subscription must be a GUID like 00000000-0000-0000-0000-000000000000, got {s!r}")
