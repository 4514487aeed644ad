"""ARM scopes: parse, validate, compare.

A scope is one of
  /                                                        tenant root
  /providers/Microsoft.Management/managementGroups/{id}     management group
  /subscriptions/{guid}                                    subscription
  /subscriptions/{guid}/resourceGroups/{name}              resource group
  .../providers/{Namespace}/{type}/{name}[/{type}/{name}...][/providers/...]   resource

Comparison is case-insensitive (ARM's rule); the caller's casing is kept for output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rbactool.errors import ParameterError, ScopeError
from rbactool.readers import clip

ROOT = "root"
MANAGEMENT_GROUP = "managementGroup"
SUBSCRIPTION = "subscription"
RESOURCE_GROUP = "resourceGroup"
RESOURCE = "resource"

_GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Azure: 1-90 chars, Unicode letters and digits, '_', '-', '.', '(', ')'; not ending in '.'.
_RG_RE = re.compile(r"^[\w\-.()]{1,90}$")
# Management group id: 1-90 chars of letters, digits, '-', '_', '(', ')', '.'; not ending in '.'.
_MG_RE = re.compile(r"^[A-Za-z0-9\-_().]{1,90}$")
_NAMESPACE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z0-9]+)+$")
_SEGMENT_RE = re.compile(r"^[^/?#\\\s\"'<>*%&:]+$")


def is_guid(value: str) -> bool:
    return isinstance(value, str) and bool(_GUID_RE.match(value))


def check_guid(value: str, what: str = "subscription") -> str:
    """Return the GUID, or raise ParameterError naming *what*."""
    if not is_guid(value):
        raise ParameterError(f"{what} must be a GUID like 00000000-0000-0000-0000-000000000000, got {clip(value)}")
    return value


def _check_azure_name(value: str, what: str, pattern: re.Pattern[str], kind: str) -> str:
    """Azure's rule for resource-group names and management-group ids: 1-90 allowed characters,
    not ending in '.'."""
    if not isinstance(value, str) or not pattern.match(value) or value.endswith("."):
        raise ParameterError(
            f"{what} {clip(value)} is not a valid {kind} "
            "(1-90 letters, digits, '-', '_', '.', '(', ')'; must not end with '.')"
        )
    return value


def check_resource_group_name(value: str, what: str = "resource_group") -> str:
    return _check_azure_name(value, what, _RG_RE, "resource group name")


def check_management_group_id(value: str, what: str = "management_group") -> str:
    return _check_azure_name(value, what, _MG_RE, "management group id")


@dataclass(frozen=True, eq=False)
class Scope:
    """A parsed ARM scope. Equality and hashing ignore case; ``str()`` keeps the given casing."""

    text: str
    kind: str
    management_group: str | None = None
    subscription: str | None = None
    resource_group: str | None = None
    # (namespace, ((type, name), ...)) for each /providers/ section of a resource scope
    resources: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = field(default=())

    def __str__(self) -> str:
        return self.text

    @property
    def key(self) -> str:
        return self.text.lower()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Scope):
            return self.key == other.key
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.key)

    @property
    def segments(self) -> tuple[str, ...]:
        return scope_segments(self.text)

    def is_at_or_below(self, other: Scope) -> bool:
        """True when this scope is *other* or lies under it.

        Management-group hierarchy is not known offline: a subscription is never reported as
        below a management group here (only the tenant root covers everything).
        """
        return segments_cover(other.segments, self.segments)

    def may_be_at_or_below(self, other: Scope) -> bool:
        """Like is_at_or_below, but True when it cannot be known offline: anything under the
        tenant could sit below a management group (ARM has the hierarchy; rbactool does not)."""
        if self.is_at_or_below(other):
            return True
        return other.kind == MANAGEMENT_GROUP and self.kind != ROOT

    def is_below(self, other: Scope) -> bool:
        return self != other and self.is_at_or_below(other)

    @property
    def resource_type(self) -> str | None:
        """Full resource type of a resource scope, e.g. Microsoft.MachineLearningServices/workspaces."""
        if not self.resources:
            return None
        namespace, pairs = self.resources[-1]
        return "/".join([namespace, *(t for t, _ in pairs)])

    @property
    def subscription_scope(self) -> Scope | None:
        if self.subscription is None:
            return None
        return parse_scope(f"/subscriptions/{self.subscription}")


def scope_segments(text: str) -> tuple[str, ...]:
    """The lower-cased segments of a scope string, valid or not (a role's AssignableScopes may hold
    placeholders such as ``<subscriptionId>``: they are compared as text). ``/`` has none."""
    return tuple(s for s in text.strip().lower().split("/") if s)


def segments_kind(segments: tuple[str, ...]) -> str:
    """The kind of scope ``scope_segments`` returned, without validating it (anything deeper than a
    resource group, or not recognised, is a ``RESOURCE``)."""
    if not segments:
        return ROOT
    if (segments[0] == "providers" and len(segments) == 4
            and segments[1:3] == ("microsoft.management", "managementgroups")):
        return MANAGEMENT_GROUP
    if segments[0] == "subscriptions" and len(segments) == 2:
        return SUBSCRIPTION
    if segments[0] == "subscriptions" and len(segments) == 4 and segments[2] == "resourcegroups":
        return RESOURCE_GROUP
    return RESOURCE


def segments_cover(outer: tuple[str, ...], inner: tuple[str, ...]) -> bool:
    """Whether the scope of segments *outer* is *inner* or above it (the tenant root covers everything).

    The management-group hierarchy is not known offline: a management group covers only itself.
    """
    return len(inner) >= len(outer) and inner[: len(outer)] == outer


def parse_scope(text: str) -> Scope:
    """Parse and validate an ARM scope string. Raises ScopeError with a one-line reason."""
    if not isinstance(text, str) or not text:
        raise ScopeError(f"scope must be a non-empty string, got {clip(text, 200)}")
    if "*" in text:
        raise ScopeError(f"scope {clip(text, 200)} contains '*': wildcards are not allowed in scopes")
    if not text.startswith("/"):
        raise ScopeError(f"scope {clip(text, 200)} must start with '/'")
    if text == "/":
        return Scope("/", ROOT)
    stripped = text.rstrip("/")
    parts = stripped.split("/")[1:]
    if any(p == "" for p in parts):
        raise ScopeError(f"scope {clip(text, 200)} has an empty segment ('//')")
    for p in parts:
        if not _SEGMENT_RE.match(p):
            raise ScopeError(f"scope {clip(text, 200)} has an invalid segment {clip(p)}")
    low = [p.lower() for p in parts]

    if low[0] == "providers":
        if len(parts) == 4 and low[1] == "microsoft.management" and low[2] == "managementgroups":
            check_management_group_id(parts[3], "management group id")
            return Scope(stripped, MANAGEMENT_GROUP, management_group=parts[3])
        raise ScopeError(
            f"scope {clip(text, 200)} is not a management group scope "
            "(/providers/Microsoft.Management/managementGroups/{id})"
        )
    if low[0] != "subscriptions":
        raise ScopeError(f"scope {clip(text, 200)} must start with /subscriptions/ or /providers/Microsoft.Management/")
    if len(parts) < 2:
        raise ScopeError(f"scope {clip(text, 200)} is missing the subscription id")
    if not is_guid(parts[1]):
        raise ScopeError(f"scope {clip(text, 200)}: subscription id {clip(parts[1])} is not a GUID")
    sub = parts[1]
    if len(parts) == 2:
        return Scope(stripped, SUBSCRIPTION, subscription=sub)
    rest, rest_low = parts[2:], low[2:]
    rg = None
    if rest_low[0] == "resourcegroups":
        if len(rest) < 2:
            raise ScopeError(f"scope {clip(text, 200)} is missing the resource group name")
        try:
            check_resource_group_name(rest[1], "resource group name")
        except ParameterError as e:
            raise ScopeError(f"scope {clip(text, 200)}: {e}") from e
        rg = rest[1]
        if len(rest) == 2:
            return Scope(stripped, RESOURCE_GROUP, subscription=sub, resource_group=rg)
        rest, rest_low = rest[2:], rest_low[2:]
    resources = _parse_provider_sections(text, rest, rest_low)
    return Scope(stripped, RESOURCE, subscription=sub, resource_group=rg, resources=resources)


def _parse_provider_sections(text, rest, rest_low):
    sections = []
    i = 0
    while i < len(rest):
        if rest_low[i] != "providers":
            raise ScopeError(f"scope {clip(text, 200)}: expected 'providers' at segment {clip(rest[i])}")
        if i + 1 >= len(rest):
            raise ScopeError(f"scope {clip(text, 200)} is missing the provider namespace after 'providers'")
        namespace = rest[i + 1]
        if not _NAMESPACE_RE.match(namespace):
            raise ScopeError(
                f"scope {clip(text, 200)}: {clip(namespace)} is not a provider namespace like Microsoft.Compute")
        i += 2
        pairs = []
        while i < len(rest) and rest_low[i] != "providers":
            if i + 1 >= len(rest):
                raise ScopeError(f"scope {clip(text, 200)}: resource type {clip(rest[i])} has no name")
            pairs.append((rest[i], rest[i + 1]))
            i += 2
        if not pairs:
            raise ScopeError(f"scope {clip(text, 200)}: provider {clip(namespace)} names no resource type and name")
        sections.append((namespace, tuple(pairs)))
    if not sections:
        raise ScopeError(f"scope {clip(text, 200)} is not a valid ARM scope")
    return tuple(sections)


def subscription_scope(subscription: str) -> str:
    return f"/subscriptions/{check_guid(subscription, 'subscription')}"


def resource_group_scope(subscription: str, resource_group: str) -> str:
    check_resource_group_name(resource_group)
    return f"{subscription_scope(subscription)}/resourceGroups/{resource_group}"


def management_group_scope(management_group: str) -> str:
    check_management_group_id(management_group)
    return f"/providers/Microsoft.Management/managementGroups/{management_group}"
