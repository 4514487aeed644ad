"""Role diffs for review: what a change to a role grants and removes, literally and effectively.

Library API (pure: no I/O, no printing)::

    from rbactool.catalog import load_catalog
    from rbactool.diff import diff_roles, diff_role_sets

    d = diff_roles(old_role, new_role, load_catalog())   # RoleDiff
    d.grants_new_access, d.effective.added, d.summary()   # '+4 operations (3 credential-exposure), -0'
    report = diff_role_sets(old_roles, new_roles, load_catalog())   # DiffReport, roles matched

What is compared:

* literal -- name, description, each permission list of each block (added / removed strings,
  compared case-insensitively; a string whose only change is its case or surrounding blanks is
  *cosmetic*), each block's ABAC condition, and AssignableScopes (added / removed / cosmetic; an
  added scope that no old scope covers *widens* the role).
* effective -- the concrete operations granted before and after (wildcards expanded against the
  catalog, Not* subtracted per block, via ``effective.effective_operations``), as added and
  removed sets with display names and risk classes. Granted strings the catalog does not know
  are kept (``known=False``), so they still show up.
* new findings -- validator findings present for NEW and not for OLD (matched on code and value).
* catalog notes -- a changed wildcard whose namespace's catalog data is stale (expansion may be
  incomplete) or unknown.

*New access* (the CI gate): an effective operation NEW grants and OLD did not, an added
assignable scope no old scope covers, an ABAC condition removed or changed (a changed condition
may allow more: we cannot tell), or a role that exists only in NEW.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rbactool.catalog import compile_pattern, namespace_of
from rbactool.effective import EffectivePermissions, effective_operations
from rbactool.model import PERMISSION_FIELDS, Permission, RoleDefinition
from rbactool.risk import risk_classes
from rbactool.scopes import (
    MANAGEMENT_GROUP,
    RESOURCE,
    RESOURCE_GROUP,
    ROOT,
    SUBSCRIPTION,
    scope_segments,
    segments_cover,
    segments_kind,
)

if TYPE_CHECKING:
    from rbactool.catalog import Catalog
    from rbactool.config import Config
    from rbactool.findings import Finding

__all__ = [
    "SCHEMA_VERSION", "VERDICT_GRANTS", "VERDICT_NONE", "VERDICT_REMOVES", "CatalogNote", "ConditionChange",
    "DiffReport", "EffectiveChange", "EffectiveOperation", "FieldChange", "ListChange", "PermissionBlockDiff",
    "RoleDiff", "ScopeChange", "ScopeWidening", "diff_role_sets", "diff_roles", "match_roles",
]

SCHEMA_VERSION = 1

VERDICT_GRANTS = "grants new access"
VERDICT_REMOVES = "removes access only"
VERDICT_NONE = "no effective change"

ADDED = "added"
REMOVED = "removed"
CHANGED = "changed"
UNCHANGED = "unchanged"

#: Azure's spelling of each permission list, by model attribute.
LIST_NAMES = {attr: pascal for attr, _, pascal in PERMISSION_FIELDS}
_GRANT_ATTRS = ("actions", "data_actions")


# --------------------------------------------------------------------------- result types


def verdict(grants_new_access: bool, removes_access: bool) -> str:
    """The one-line verdict of a role diff or of a whole report."""
    if grants_new_access:
        return VERDICT_GRANTS
    if removes_access:
        return VERDICT_REMOVES
    return VERDICT_NONE


@dataclass(frozen=True)
class FieldChange:
    """A changed top-level string field (name, description, role id)."""

    old: str | None
    new: str | None

    @property
    def cosmetic(self) -> bool:
        """Only the case (or surrounding blanks) changed."""
        return (self.old or "").strip().lower() == (self.new or "").strip().lower()


@dataclass(frozen=True)
class Cosmetic:
    old: str
    new: str


@dataclass(frozen=True)
class ListChange:
    """Added and removed strings of one list, compared case-insensitively, sorted."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    cosmetic: tuple[Cosmetic, ...] = ()  # same string, other case/blanks

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.cosmetic)


@dataclass(frozen=True)
class ConditionChange:
    block: int
    kind: str  # "added" | "removed" | "changed"
    old: str | None
    new: str | None
    old_version: str | None = None
    new_version: str | None = None

    @property
    def possibly_new_access(self) -> bool:
        """A removed condition widens the block; a changed one may (we cannot evaluate ABAC)."""
        return self.kind in (REMOVED, CHANGED)


@dataclass(frozen=True)
class PermissionBlockDiff:
    """Literal changes of one permissions block (blocks are compared by position)."""

    block: int
    lists: tuple[tuple[str, ListChange], ...]  # (model attribute, change) for lists that changed
    condition: ConditionChange | None = None

    def __bool__(self) -> bool:
        return bool(self.lists or self.condition)

    def get(self, attr: str) -> ListChange:
        return dict(self.lists).get(attr, ListChange())


@dataclass(frozen=True)
class ScopeWidening:
    scope: str
    kind: str  # "broader" (covers an old scope) | "new-management-group" | "new-scope"
    covers: tuple[str, ...] = ()  # old scopes the new one lies above
    message: str = ""


@dataclass(frozen=True)
class ScopeChange:
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    cosmetic: tuple[Cosmetic, ...] = ()
    widened: tuple[ScopeWidening, ...] = ()
    #: Removed scopes not covered by any new scope (where the role can no longer be assigned).
    narrowed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.cosmetic)

    def note(self) -> str:
        """``; assignable scopes +[/subscriptions/s/resourceGroups/x] -[...] (widened)``, or "": where a
        role can be assigned is said out loud (wider is new access; a removed scope can orphan assignments)."""
        parts = [f"{sign}[{', '.join(scopes)}]" for sign, scopes in (("+", self.added), ("-", self.removed)) if scopes]
        if not parts:
            return ""
        return "; assignable scopes " + " ".join(parts) + (" (widened)" if self.widened else "")


@dataclass(frozen=True)
class EffectiveOperation:
    name: str
    data_action: bool
    display_name: str = ""
    risk_classes: tuple[str, ...] = ()
    provider: str = ""
    known: bool = True  # False: a granted string the catalog does not know
    #: Granted (on the side it is reported from) only by blocks with an ABAC condition.
    conditional: bool = False
    #: Why an operation granted on both sides is listed: its ABAC condition status changed.
    note: str = ""

    @property
    def key(self) -> tuple[str, bool]:
        return (self.name.lower(), self.data_action)


@dataclass(frozen=True)
class EffectiveChange:
    added: tuple[EffectiveOperation, ...] = ()
    removed: tuple[EffectiveOperation, ...] = ()
    old_count: int = 0
    new_count: int = 0

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)

    def risk_counts(self, which: str = ADDED) -> dict[str, int]:
        """Risk class -> number of added (or removed) operations carrying it, in RISK_CLASSES order."""
        from rbactool.risk import RISK_CLASSES

        ops = self.added if which == ADDED else self.removed
        counts = Counter(c for op in ops for c in op.risk_classes)
        return {c: counts[c] for c in RISK_CLASSES if counts[c]}

    def summary(self) -> str:
        """``+4 operations (3 credential-exposure), -0``."""
        def part(sign: str, ops: tuple, risks: dict[str, int]) -> str:
            text = f"{sign}{len(ops)}"
            if sign == "+":
                text += " operation" + ("" if len(ops) == 1 else "s")
            if risks:
                text += " (" + ", ".join(f"{n} {c}" for c, n in risks.items()) + ")"
            return text

        return f"{part('+', self.added, self.risk_counts(ADDED))}, {part('-', self.removed, self.risk_counts(REMOVED))}"


@dataclass(frozen=True)
class CatalogNote:
    """A changed wildcard whose expansion may be incomplete."""

    pattern: str
    list: str  # Azure's list name: Actions, NotActions, DataActions, NotDataActions
    change: str  # "added" | "removed"
    namespace: str
    as_of: str | None
    reason: str  # "stale" | "unknown-namespace" | "every-namespace"
    message: str
    #: An added grant wildcard that no old grant pattern covers: it may grant operations the
    #: catalog does not list (and operations Azure adds later).
    may_grant_more: bool = False


@dataclass(frozen=True)
class RoleDiff:
    old: RoleDefinition | None
    new: RoleDefinition | None
    status: str  # "added" | "removed" | "changed" | "unchanged"
    name: FieldChange | None = None
    description: FieldChange | None = None
    role_id: FieldChange | None = None
    permissions: tuple[PermissionBlockDiff, ...] = ()
    assignable_scopes: ScopeChange = field(default_factory=ScopeChange)
    effective: EffectiveChange = field(default_factory=EffectiveChange)
    catalog_notes: tuple[CatalogNote, ...] = ()
    new_findings: tuple[Finding, ...] = ()

    @property
    def display_name(self) -> str:
        role = self.new or self.old
        return role.name if role else ""

    @property
    def conditions(self) -> tuple[ConditionChange, ...]:
        return tuple(b.condition for b in self.permissions if b.condition is not None)

    @property
    def possible_new_access(self) -> tuple[str, ...]:
        """New access the catalog cannot show: an added wildcard no old pattern covers, or a removed
        NotAction whose strings the role still grants (the operations it subtracted may be unknown
        to the catalog). Counted as new access: a "no new access" gate must not be fooled by a gap
        in the catalog."""
        out = [f"{n.list} {n.pattern!r} may grant operations the catalog does not list"
               for n in self.catalog_notes if n.change == ADDED and n.may_grant_more]
        if self.new is not None and self.status == CHANGED:
            for b in self.permissions:
                if b.block >= len(self.new.permissions):
                    continue
                block = self.new.permissions[b.block]
                for attr, grant_attr in (("not_actions", "actions"), ("not_data_actions", "data_actions")):
                    remaining = [p.strip() for p in getattr(block, attr)]
                    grants = [p.strip() for p in getattr(block, grant_attr)]
                    for p in b.get(attr).removed:
                        if _covered_by(p, grants) and not _covered_by(p, remaining):
                            out.append(f"{LIST_NAMES[attr]} {p.strip()!r} removed: what it subtracted is granted again")
        return tuple(dict.fromkeys(out))

    @property
    def grants_new_access(self) -> bool:
        return bool(
            self.status == ADDED
            or self.effective.added
            or self.assignable_scopes.widened
            or any(c.possibly_new_access for c in self.conditions)
            or self.possible_new_access
        )

    @property
    def removes_access(self) -> bool:
        return bool(
            self.status == REMOVED
            or self.effective.removed
            or self.assignable_scopes.narrowed
            or any(c.kind == ADDED for c in self.conditions)
        )

    @property
    def differs(self) -> bool:
        """Anything reported at all, cosmetic changes included (pure reordering is not a change)."""
        return self.status != UNCHANGED

    @property
    def cosmetic_only(self) -> bool:
        """Differs, but every literal change is a case/blank change and nothing effective changed."""
        if self.status != CHANGED or self.effective:
            return False
        for fc in (self.name, self.description, self.role_id):
            if fc is not None and not fc.cosmetic:
                return False
        for b in self.permissions:
            if b.condition is not None or any(ch.added or ch.removed for _, ch in b.lists):
                return False
        sc = self.assignable_scopes
        return not (sc.added or sc.removed)

    @property
    def verdict(self) -> str:
        return verdict(self.grants_new_access, self.removes_access)

    def summary(self) -> str:
        return self.effective.summary()


@dataclass(frozen=True)
class DiffReport:
    """The diff of two sets of roles (matched by id, else by name)."""

    roles: tuple[RoleDiff, ...]
    catalog_snapshot: str | None = None
    catalog_origin: str | None = None

    @property
    def grants_new_access(self) -> bool:
        return any(r.grants_new_access for r in self.roles)

    @property
    def removes_access(self) -> bool:
        return any(r.removes_access for r in self.roles)

    @property
    def differs(self) -> bool:
        return any(r.differs for r in self.roles)

    @property
    def verdict(self) -> str:
        return verdict(self.grants_new_access, self.removes_access)

    @property
    def effective(self) -> EffectiveChange:
        """Every role's effective change, summed (an operation may count once per role)."""
        return EffectiveChange(
            added=tuple(op for r in self.roles for op in r.effective.added),
            removed=tuple(op for r in self.roles for op in r.effective.removed),
            old_count=sum(r.effective.old_count for r in self.roles),
            new_count=sum(r.effective.new_count for r in self.roles),
        )

    def counts(self) -> dict[str, int]:
        c = Counter(r.status for r in self.roles)
        return {s: c[s] for s in (ADDED, REMOVED, CHANGED, UNCHANGED)}

    def summary(self) -> str:
        c = self.counts()
        parts = [f"{c[s]} role{'' if c[s] == 1 else 's'} {s}" for s in (ADDED, REMOVED, CHANGED) if c[s]]
        if not parts:
            parts = [f"{c[UNCHANGED]} role{'' if c[UNCHANGED] == 1 else 's'} unchanged"]
        text = ", ".join(parts) + ": " + self.effective.summary()
        widened = sum(len(r.assignable_scopes.widened) for r in self.roles)
        if widened:
            text += f"; {widened} assignable scope{'' if widened == 1 else 's'} widened"
        conds = sum(1 for r in self.roles for cc in r.conditions if cc.possibly_new_access)
        if conds:
            text += f"; {conds} condition{'' if conds == 1 else 's'} removed or changed (possibly new access)"
        return text


# --------------------------------------------------------------------------- literal comparison


def _norm(s: str) -> str:
    return s.strip().lower()


def diff_strings(old: Iterable[str], new: Iterable[str]) -> ListChange:
    """Added/removed strings (case-insensitive, blanks around ignored) and cosmetic respellings."""
    old_map: dict[str, str] = {}
    for s in old:
        old_map.setdefault(_norm(s), s)
    new_map: dict[str, str] = {}
    for s in new:
        new_map.setdefault(_norm(s), s)
    added = tuple(sorted((new_map[k] for k in new_map.keys() - old_map.keys()), key=lambda s: (_norm(s), s)))
    removed = tuple(sorted((old_map[k] for k in old_map.keys() - new_map.keys()), key=lambda s: (_norm(s), s)))
    cosmetic = tuple(
        Cosmetic(old_map[k], new_map[k]) for k in sorted(old_map.keys() & new_map.keys()) if old_map[k] != new_map[k]
    )
    return ListChange(added, removed, cosmetic)


def _field(old: str | None, new: str | None) -> FieldChange | None:
    return None if (old or "") == (new or "") else FieldChange(old, new)


def _condition_change(b: int, old: Permission | None, new: Permission | None) -> ConditionChange | None:
    oc = old.condition if old else None
    nc = new.condition if new else None
    ov = old.condition_version if old else None
    nv = new.condition_version if new else None
    if (oc or None) == (nc or None) and (ov or None) == (nv or None):
        return None
    if not oc and not nc:
        return None  # only a version without a condition changed: no effect
    if not oc:
        kind = ADDED
    elif not nc:
        kind = REMOVED
    else:
        kind = CHANGED
    return ConditionChange(b, kind, oc, nc, ov, nv)


def diff_blocks(old: Sequence[Permission], new: Sequence[Permission]) -> tuple[PermissionBlockDiff, ...]:
    out = []
    for b in range(max(len(old), len(new))):
        ob = old[b] if b < len(old) else None
        nb = new[b] if b < len(new) else None
        lists = []
        for attr, _, _ in PERMISSION_FIELDS:
            ch = diff_strings(getattr(ob, attr) if ob else (), getattr(nb, attr) if nb else ())
            if ch:
                lists.append((attr, ch))
        block = PermissionBlockDiff(b, tuple(lists), _condition_change(b, ob, nb))
        if block:
            out.append(block)
    return tuple(out)


# --------------------------------------------------------------------------- scopes


_KIND_WORDS = {
    ROOT: "the tenant root", MANAGEMENT_GROUP: "management group", SUBSCRIPTION: "subscription",
    RESOURCE_GROUP: "resource group", RESOURCE: "resource",
}


def diff_scopes(old: Sequence[str], new: Sequence[str]) -> ScopeChange:
    ch = diff_strings(old, new)
    old_segs = [(scope_segments(s), s) for s in old]
    new_segs = [(scope_segments(s), s) for s in new]
    widened = []
    for scope in ch.added:
        segs = scope_segments(scope)
        if any(segments_cover(o, segs) for o, _ in old_segs):
            continue  # at or below a scope OLD already had: not wider
        kind = segments_kind(segs)
        below = tuple(sorted((s for o, s in old_segs if segments_cover(segs, o)), key=str.lower))
        if below:
            olds = ", ".join(f"{_KIND_WORDS[segments_kind(scope_segments(s))]} {s}" for s in below)
            widened.append(ScopeWidening(
                scope, "broader", below,
                f"widens: {_KIND_WORDS[kind]} {scope} covers {olds}",
            ))
        elif kind == MANAGEMENT_GROUP:
            widened.append(ScopeWidening(
                scope, "new-management-group", (),
                f"widens: new management group {scope} (every subscription under it; the hierarchy is "
                "not known offline)",
            ))
        else:
            widened.append(ScopeWidening(scope, "new-scope", (), f"widens: new {_KIND_WORDS[kind]} {scope}"))
    narrowed = tuple(
        s for s in ch.removed if not any(segments_cover(n, scope_segments(s)) for n, _ in new_segs)
    )
    return ScopeChange(ch.added, ch.removed, ch.cosmetic, tuple(widened), narrowed)


# --------------------------------------------------------------------------- effective


def _effective_keys(eff: EffectivePermissions) -> dict[tuple[str, bool], object]:
    """(lower-cased name, is data action) -> catalog Operation, or the granted string when unknown."""
    out: dict[tuple[str, bool], object] = {(op.name.lower(), False): op for op in eff.actions}
    out.update(((op.name.lower(), True), op) for op in eff.data_actions)
    for data, names in ((False, eff.unresolved_actions), (True, eff.unresolved_data_actions)):
        for name in names:
            out.setdefault((name.lower(), data), name)
    return out


def _unconditional_keys(eff: EffectivePermissions) -> set[tuple[str, bool]] | None:
    """Keys granted by at least one block without an ABAC condition; None when no block has one."""
    if not any(g.condition for g in eff.grants):
        return None
    out: set[tuple[str, bool]] = set()
    for g in eff.grants:
        if g.condition:
            continue
        out.update((op.name.lower(), op.is_data_action) for op in g.effective)
        if not g.operations and "*" not in g.pattern:
            out.add((g.pattern.lower(), g.is_data))
    return out


def _effective_operation(key: tuple[str, bool], op: object, conditional: bool = False,
                         note: str = "") -> EffectiveOperation:
    if isinstance(op, str):
        return EffectiveOperation(op, key[1], "", risk_classes(op, key[1]), namespace_of(op), False, conditional,
                                  note)
    return EffectiveOperation(
        op.name, op.is_data_action, op.display_name, risk_classes(op.name, op.is_data_action),  # type: ignore[attr-defined]
        op.provider, True, conditional, note,  # type: ignore[attr-defined]
    )


def _op_sort_key(op: EffectiveOperation) -> tuple:
    return (op.data_action, op.name.lower(), op.name)


NOW_UNCONDITIONAL = "was granted only under an ABAC condition; now unconditionally"
NOW_CONDITIONAL = "was granted unconditionally; now only under an ABAC condition"


def diff_effective(old: EffectivePermissions | None, new: EffectivePermissions | None) -> EffectiveChange:
    """Operations granted by NEW and not OLD (added), and the reverse (removed); sorted.

    Conditions count: an operation OLD granted only under an ABAC condition and NEW grants
    without one is *added* (with a note), and the reverse is *removed*.
    """
    om = _effective_keys(old) if old else {}
    nm = _effective_keys(new) if new else {}
    uo = _unconditional_keys(old) if old else None
    un = _unconditional_keys(new) if new else None

    def cond(keys: set | None, k: tuple[str, bool]) -> bool:
        return keys is not None and k not in keys

    added = [_effective_operation(k, nm[k], cond(un, k)) for k in nm.keys() - om.keys()]
    removed = [_effective_operation(k, om[k], cond(uo, k)) for k in om.keys() - nm.keys()]
    if uo is not None or un is not None:
        for k in nm.keys() & om.keys():
            was, now = cond(uo, k), cond(un, k)
            if was and not now:
                added.append(_effective_operation(k, nm[k], False, NOW_UNCONDITIONAL))
            elif now and not was:
                removed.append(_effective_operation(k, om[k], True, NOW_CONDITIONAL))
    return EffectiveChange(tuple(sorted(added, key=_op_sort_key)), tuple(sorted(removed, key=_op_sort_key)),
                           len(om), len(nm))


# --------------------------------------------------------------------------- catalog honesty


def _grant_patterns(role: RoleDefinition | None, data: bool) -> list[str]:
    if role is None:
        return []
    attr = "data_actions" if data else "actions"
    return [p.strip() for b in role.permissions for p in getattr(b, attr) if p.strip()]


def _covered_by(pattern: str, patterns: Iterable[str]) -> bool:
    """Whether some pattern matches every name *pattern* matches (a pattern matching *pattern*'s
    text, with its ``*`` taken literally, does)."""
    low = pattern.lower()
    return any(compile_pattern(p).match(low) for p in patterns)


def catalog_notes(
    blocks: Sequence[PermissionBlockDiff], old: RoleDefinition | None, catalog: Catalog
) -> tuple[CatalogNote, ...]:
    notes: dict[tuple, CatalogNote] = {}
    for b in blocks:
        for attr, ch in b.lists:
            for change, strings in ((ADDED, ch.added), (REMOVED, ch.removed)):
                for pattern in strings:
                    p = pattern.strip()
                    if "*" not in p:
                        continue
                    ns = namespace_of(p)
                    may_more = False
                    if change == ADDED and attr in _GRANT_ATTRS:
                        may_more = not _covered_by(p, _grant_patterns(old, attr == "data_actions"))
                    if "*" in ns:
                        stale = [i for i in catalog.providers() if not i.fresh]
                        oldest = min((i.as_of for i in stale if i.as_of), default=None)
                        note = CatalogNote(
                            p, LIST_NAMES[attr], change, ns, oldest, "every-namespace",
                            f"spans every namespace; catalog data for {len(stale)} of {len(catalog.providers())} "
                            f"namespaces is stale (oldest as of {oldest}): expansion may be incomplete",
                            may_more,
                        )
                    else:
                        info = catalog.provider(ns)
                        if info is None:
                            note = CatalogNote(
                                p, LIST_NAMES[attr], change, ns, None, "unknown-namespace",
                                f"the catalog has no operations of {ns}: this change's effect cannot be computed",
                                may_more,
                            )
                        elif not info.fresh:
                            note = CatalogNote(
                                p, LIST_NAMES[attr], change, info.name, info.as_of, "stale",
                                f"catalog data for {info.name} is as of {info.as_of}: expansion may be incomplete",
                                may_more,
                            )
                        else:
                            continue
                    notes.setdefault((note.list, note.pattern.lower(), note.change), note)
    return tuple(notes[k] for k in sorted(notes))


# --------------------------------------------------------------------------- findings


def _findings_and_effective(
    role: RoleDefinition, catalog: Catalog, config: Config | None, with_findings: bool
) -> tuple[EffectivePermissions, list[Finding]]:
    """Effective operations and (config-filtered) validator findings, sharing one expansion: the
    validator's own runner (``rbactool.validate.run_checks``) on one ``CheckContext``."""
    from rbactool.checks import CheckContext
    from rbactool.validate import apply_config, run_checks

    ctx = CheckContext(role, catalog)
    if not with_findings:
        return ctx.effective, []
    found = run_checks(ctx)
    if config is not None:
        active, _ = apply_config(found, config)
        return ctx.effective, list(active)
    return ctx.effective, found


def _finding_key(f: Finding) -> tuple[str, str]:
    return (f.code, (f.location.value or "").strip().lower())


def new_findings(old: Sequence[Finding], new: Sequence[Finding]) -> tuple[Finding, ...]:
    """Findings of NEW beyond those of OLD, matched on (code, value) as a multiset."""
    from rbactool.findings import sort_findings

    budget = Counter(_finding_key(f) for f in old)
    out = []
    for f in sort_findings(new):
        k = _finding_key(f)
        if budget[k] > 0:
            budget[k] -= 1
        else:
            out.append(f)
    return tuple(out)


# --------------------------------------------------------------------------- entry points


def diff_roles(
    old: RoleDefinition | None,
    new: RoleDefinition | None,
    catalog: Catalog,
    *,
    findings: bool = True,
    config: Config | None = None,
) -> RoleDiff:
    """Compare two versions of a role. ``None`` on one side: the role was added (or removed).

    ``findings=False`` skips the validator (no ``new_findings``); ``config`` applies a
    ``.rbactool.yaml`` (severity overrides and suppressions) to the findings.
    """
    if old is None and new is None:
        raise ValueError("diff_roles needs at least one role")
    if old is not None and new is not None and old == new:
        n = len(_effective_keys(effective_operations(new, catalog)))
        return RoleDiff(old, new, UNCHANGED, effective=EffectiveChange((), (), n, n))
    old_eff, old_findings = _findings_and_effective(old, catalog, config, findings) if old else (None, [])
    new_eff, new_found = _findings_and_effective(new, catalog, config, findings) if new else (None, [])
    blocks = diff_blocks(old.permissions if old else (), new.permissions if new else ())
    scopes = diff_scopes(old.assignable_scopes if old else (), new.assignable_scopes if new else ())
    if old is None or new is None:
        status = ADDED if old is None else REMOVED
        name = description = role_id = None
        # A whole role added or removed: its scopes are listed, not judged against nothing.
        scopes = ScopeChange(scopes.added, scopes.removed)
    else:
        name = _field(old.name, new.name)
        description = _field(old.description, new.description)
        role_id = _field(old.role_id, new.role_id)
        status = CHANGED
    effective = diff_effective(old_eff, new_eff)
    found = new_findings(old_findings, new_found) if new is not None else ()
    diff = RoleDiff(
        old, new, status, name, description, role_id, blocks, scopes, effective,
        catalog_notes(blocks, old, catalog), found,
    )
    if status == CHANGED and not (name or description or role_id or blocks or scopes or effective or found):
        # Equal up to ordering (or fields the diff does not compare): nothing to report.
        return RoleDiff(old, new, UNCHANGED, effective=effective)
    return diff


def _role_sort_key(d: RoleDiff) -> tuple:
    role = d.new or d.old
    assert role is not None
    return (role.name.lower(), role.name, (role.role_id or "").lower(), d.status)


def match_roles(
    old: Sequence[RoleDefinition],
    new: Sequence[RoleDefinition],
    *,
    key: Callable[[RoleDefinition], str | None] | None = None,
) -> list[tuple[RoleDefinition | None, RoleDefinition | None]]:
    """Pair roles: by id (GUID) when both have one, else by name (case-insensitive), in order.

    ``key`` (optional) pairs roles first by another identity, e.g. a roles spec's role key, so a
    role renamed in a spec is still one changed role. Unpaired roles come back as
    ``(role, None)`` (removed) or ``(None, role)`` (added).
    """
    old_left = list(old)
    new_left = list(new)
    pairs: list[tuple[RoleDefinition | None, RoleDefinition | None]] = []

    def take(key) -> None:
        nonlocal old_left, new_left
        index: dict[str, list[int]] = {}
        for i, r in enumerate(new_left):
            k = key(r)
            if k:
                index.setdefault(k, []).append(i)
        used: set[int] = set()
        remaining_old = []
        for r in old_left:
            k = key(r)
            cands = index.get(k) if k else None
            if cands:
                i = cands.pop(0)
                used.add(i)
                pairs.append((r, new_left[i]))
            else:
                remaining_old.append(r)
        old_left = remaining_old
        new_left = [r for i, r in enumerate(new_left) if i not in used]

    if key is not None:
        take(key)
    take(lambda r: (r.role_id or "").lower())
    take(lambda r: r.name.strip().lower())
    pairs.extend((r, None) for r in old_left)
    pairs.extend((None, r) for r in new_left)
    return pairs


def diff_role_sets(
    old: Sequence[RoleDefinition],
    new: Sequence[RoleDefinition],
    catalog: Catalog,
    *,
    pair_single: bool = False,
    key: Callable[[RoleDefinition], str | None] | None = None,
    findings: bool = True,
    config: Config | None = None,
) -> DiffReport:
    """Diff two sets of roles, matched by ``match_roles``; the result is sorted by role name.

    ``pair_single=True``: when each side holds exactly one role, compare those two whatever their
    names (``rbactool diff old.json new.json`` of a renamed role).
    """
    if pair_single and len(old) == 1 and len(new) == 1:
        pairs: list[tuple[RoleDefinition | None, RoleDefinition | None]] = [(old[0], new[0])]
    else:
        pairs = match_roles(old, new, key=key)
    diffs = sorted((diff_roles(o, n, catalog, findings=findings, config=config) for o, n in pairs),
                   key=_role_sort_key)
    return DiffReport(tuple(diffs), catalog.snapshot_date, catalog.origin)
