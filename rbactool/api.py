"""rbactool's library API: the README's tour from Python (a notebook, a pipeline step, a function).

Offline (no network, no ``azure.*`` import)::

    import rbactool
    roles = rbactool.load_roles("out/scoring.json")          # any shape rbactool reads
    role = rbactool.render_template("online-endpoint-scoring", subscription=SUB, resource_group="ml-rg")
    report = rbactool.validate_roles([role])                  # the gate `rbactool validate` uses
    change = rbactool.diff_roles(old, new)                    # literal + effective, with risk classes
    info = rbactool.explain_target("Microsoft.Compute/virtualMachines/*")

Azure (or ``rbactool emulator``)::

    azure = rbactool.connect(subscription=SUB)               # settings as the CLI reads them
    plan = azure.plan("roles/online-endpoints.yaml")          # reads only
    report = azure.apply(plan)

Every error is an ``rbactool.errors.RbactoolError`` (with the CLI's ``exit_code``); nothing here
prints, exits or touches process state. Text, markdown and JSON renderings of the results live in
``rbactool.output``, ``rbactool.diff_format``, ``rbactool.plan_format`` and
``rbactool.operations_format``; the commands are these calls plus those formatters.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rbactool.errors import RbactoolError

if TYPE_CHECKING:  # imported lazily below: `import rbactool` stays fast and offline
    import threading
    from collections.abc import Callable

    from rbactool.access import EscalationReport, PrincipalAccess, WhoCan
    from rbactool.activity import ActivityLog
    from rbactool.assignments import Assignment
    from rbactool.azure_adapter import AzureGateway, GatewayPool
    from rbactool.catalog import Catalog, CatalogSource
    from rbactool.catalog_build import Refreshed
    from rbactool.catalog_info import CatalogInfo
    from rbactool.config import Config, Ignore
    from rbactool.diff import DiffReport, RoleDiff
    from rbactool.estate import Estate, EstateDB
    from rbactool.findings import Finding
    from rbactool.html_report import ReportPage
    from rbactool.inputs import Document
    from rbactool.model import RoleDefinition
    from rbactool.operations import AssignResult, ResolvedRole, RoleResult
    from rbactool.plan import ApplyReport, DesiredState, Outcome, Plan
    from rbactool.render import TemplateEntry
    from rbactool.rightsizing import Rightsizing
    from rbactool.scopes import Scope
    from rbactool.spec import RolesSpec
    from rbactool.usage_analysis import UsageReport
    from rbactool.validate import Report, RoleDocuments

__all__ = [
    "Azure",
    "canonical_text",
    "catalog_info",
    "catalog_source",
    "connect",
    "desired_state",
    "diff_role_sets",
    "diff_roles",
    "document_names",
    "dumps_role",
    "dumps_roles",
    "dumps_spec",
    "effective_operations",
    "explain_target",
    "find_escalations",
    "ignore_codes",
    "list_templates",
    "load_catalog",
    "load_config",
    "load_role",
    "load_roles",
    "load_seed",
    "load_spec",
    "open_snapshot",
    "parse_roles",
    "parse_scope",
    "principal_access",
    "read_activity_logs",
    "read_document",
    "read_role_documents",
    "render_spec",
    "render_spec_by_key",
    "render_spec_revision",
    "render_template",
    "report",
    "resolve_role_argument",
    "resolve_roles",
    "rightsize",
    "usage",
    "validate_roles",
    "who_can",
    "write_files",
    "write_snapshot",
    "write_spec",
]

PathLike = str | os.PathLike


def _role(value: Any, what: str = "role") -> RoleDefinition:
    """*value* if it is a RoleDefinition, else InputError (not an AttributeError deep inside)."""
    from rbactool.errors import InputError
    from rbactool.model import RoleDefinition as _Role

    if not isinstance(value, _Role):
        hint = f"; for a role name or file use resolve_roles({value!r})" if isinstance(value, str) else ""
        raise InputError(f"{what}: expected a RoleDefinition, got {type(value).__name__}{hint}")
    return value


def _roles(values: Iterable[Any], what: str = "roles") -> list[RoleDefinition]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        from rbactool.errors import InputError

        raise InputError(f"{what}: expected a list of RoleDefinition, got {type(values).__name__}")
    return [_role(v, what) for v in values]


# --------------------------------------------------------------------------- roles


def load_roles(path: PathLike) -> list[RoleDefinition]:
    """Every role in a JSON file: the az CLI shape, the ARM resource, or an ``az role definition list``
    array / REST ``value`` page (``RoleDefinition.shape`` says which)."""
    from rbactool.model import load_roles as _load

    return _load(path)


def parse_roles(text: str, *, source: str | None = None) -> list[RoleDefinition]:
    """Every role in JSON text (read with rbactool's input limits: depth, size, duplicate keys)."""
    from rbactool.model import parse_roles as _parse

    return _parse(text, source=source)


def load_role(path: PathLike) -> RoleDefinition:
    """The one role in a JSON file (a file holding several is refused)."""
    from rbactool.model import load_role as _load

    return _load(path)


def dumps_role(role: RoleDefinition, shape: str = "az") -> str:
    """Canonical JSON of a role: ``az`` (what ``az role definition create`` takes), ``arm`` or ``az-list``."""
    from rbactool.model import dumps_role as _dumps

    return _dumps(_role(role), shape)


def dumps_roles(roles: Iterable[RoleDefinition], shape: str = "az-list") -> str:
    """Canonical JSON of a list of roles, each in *shape* (``az-list``: as ``az role definition list``
    prints; ``rbactool render --roles`` to stdout uses ``az`` or ``arm``)."""
    from rbactool.model import dumps_roles as _dumps

    return _dumps(_roles(roles), shape)


def canonical_text(text: str, source: str, shape: str | None = None, *, extract: bool = True,
                   scope: Mapping[str, str | None] | None = None) -> str:
    """The canonical form of a role document (``rbactool convert``): fixed key order, 2-space
    indent, permissions de-duplicated; *shape* None keeps the document's own shape. The roles of an
    ARM template, ``.bicep`` or Terraform file are extracted as a list; ``extract=False`` refuses
    such a document (``convert --check`` / ``--in-place`` rewrite role files only)."""
    from rbactool.documents import canonical_text as _canonical

    return _canonical(text, source, shape, extract=extract, scope=scope)


def document_names(arguments: Sequence[str]) -> list[str]:
    """Files as given, directories searched recursively for ``*.json`` (sorted), ``-`` for stdin."""
    from rbactool.inputs import document_names as _names

    return _names(arguments)


def read_document(name: str) -> Document:
    """A file, or ``-`` (standard input), read once within the input limits (``.name``, ``.where``, ``.text``)."""
    from rbactool.inputs import read_document as _read

    return _read(name)


def write_files(files: Mapping[PathLike, str], *, what: str = "-o") -> None:
    """Write every file or none (atomically: temp files, then rename); ``-`` is stdout.
    *what* names the option in an error."""
    from rbactool.files import write_files as _write

    _write({Path(k): v for k, v in files.items()}, what=what)


def list_templates(template_dirs: Iterable[PathLike] = ()) -> list[TemplateEntry]:
    """Every template on the search path (*template_dirs*, ``$RBACTOOL_TEMPLATES``, shipped), each
    loaded on its own: a broken one carries its ``error`` instead of a ``template``."""
    from rbactool.render import scan_templates
    from rbactool.render import template_dirs as search_path

    return scan_templates(search_path(tuple(template_dirs)))


def render_template(name: str, values: Mapping[str, Any] | None = None, *, subscription: str | None = None,
                    resource_group: str | None = None, management_group: str | None = None,
                    assignable_scopes: Sequence[str] | None = None,
                    template_dirs: Iterable[PathLike] = (), set_values: Iterable[str] = ()) -> RoleDefinition:
    """Render a template (shipped, in *template_dirs* or ``$RBACTOOL_TEMPLATES``) in rbactool's sandbox.
    *set_values*: ``KEY=VALUE`` strings as ``--set`` takes them, on top of *values*."""
    from rbactool.render import load_template, parse_set_options, render_role
    from rbactool.render import template_dirs as search_path

    template = load_template(name, search_path(tuple(template_dirs)))
    values = {**(values or {}), **parse_set_options(set_values)}
    return render_role(template, values, subscription=subscription, resource_group=resource_group,
                       management_group=management_group, assignable_scopes=assignable_scopes)


def resolve_roles(argument: str, *, values: Mapping[str, Any] | None = None, set_values: Iterable[str] = (),
                  scope: Mapping[str, str | None] | None = None, template_dirs: Iterable[PathLike] = (),
                  to_create: bool = False) -> list[RoleDefinition]:
    """What a CLI argument names, as ``rbactool diff`` reads OLD and NEW: a file, a directory of
    ``*.json``, ``-``, ``REV:path``, a template (rendered with *values*, ``KEY=VALUE`` *set_values*
    and *scope*) or a built-in role. *to_create* (``rbactool create``): only a file or a template,
    rendered at the scope given (no placeholder subscription) and left to the gate to check."""
    from rbactool.inputs import CREATE_KINDS, DIFF_KINDS, RenderOptions, resolve

    options = RenderOptions(values=dict(values or {}), set_values=tuple(set_values), scope=dict(scope or {}),
                            template_dirs=tuple(template_dirs), placeholder=not to_create, schema=not to_create)
    return list(resolve(argument, CREATE_KINDS if to_create else DIFF_KINDS, options).roles)


def resolve_role_argument(argument: str, scope: str, *,
                          template_dirs: Iterable[PathLike] = ()) -> str | RoleDefinition:
    """``rbactool assign --role``: a role file or a template (rendered at *scope*) as its role;
    a role's name, GUID or id as given (``Azure.assign`` resolves it)."""
    from rbactool.inputs import role_reference

    return role_reference(argument, scope, template_dirs=tuple(template_dirs))


def parse_scope(scope: str) -> Scope:
    """An ARM scope, checked and normalised (``str()`` of it is canonical; ``.subscription``,
    ``.resource_group``); ``ScopeError`` when malformed."""
    from rbactool.scopes import parse_scope as _parse

    return _parse(scope)


def load_spec(path: PathLike) -> RolesSpec:
    """Read and check a roles spec (``roles/*.yaml``); its paths must stay inside its repository."""
    from rbactool.spec import load_spec as _load

    return _load(path)


def render_spec(spec: RolesSpec | PathLike, *, template_dirs: Iterable[PathLike] = (),
                overrides: Mapping[str, str | None] | None = None,
                fallbacks: Mapping[str, str | None] | None = None) -> list[RoleDefinition]:
    """Every role of a spec, rendered (``overrides``: ``subscription``/``resource_group``/
    ``management_group`` replacing the spec's defaults, as ``-s/-g/-m`` do; ``fallbacks``: used
    only where the spec gives none, as ``$AZURE_SUBSCRIPTION_ID`` is)."""
    return list(render_spec_by_key(spec, template_dirs=template_dirs, overrides=overrides,
                                   fallbacks=fallbacks).values())


def render_spec_by_key(spec: RolesSpec | PathLike, *, template_dirs: Iterable[PathLike] = (),
                       overrides: Mapping[str, str | None] | None = None,
                       fallbacks: Mapping[str, str | None] | None = None) -> dict[str, RoleDefinition]:
    """``render_spec``, each role under its key in the spec (``render --roles -o DIR`` writes ``KEY.json``)."""
    from rbactool.spec import render_spec as _render

    spec = spec if not isinstance(spec, (str, os.PathLike)) else load_spec(spec)
    rendered = _render(spec, extra_template_dirs=tuple(template_dirs), overrides=overrides, fallbacks=fallbacks)
    return {r.key: r.role for r in rendered}


def render_spec_revision(path: PathLike, revision: str | None = None, *, template_dirs: Iterable[PathLike] = (),
                         overrides: Mapping[str, str | None] | None = None,
                         fallbacks: Mapping[str, str | None] | None = None) -> list[RoleDefinition]:
    """A spec's roles as they are at a git *revision* (spec, role files and templates from git), or
    in the working tree (None); each role's source ends in ``#key``, which ``diff_role_sets``
    pairs by with ``by_spec_key`` (``rbactool diff --roles SPEC --base REV``)."""
    from rbactool.spec import render_spec_at_revision, render_spec_working_tree

    kwargs = {"overrides": dict(overrides or {}), "fallbacks": dict(fallbacks or {}),
              "template_dirs": tuple(template_dirs)}
    if revision is None:
        return render_spec_working_tree(Path(path), **kwargs)
    return render_spec_at_revision(Path(path), revision, **kwargs)


def desired_state(spec: RolesSpec | PathLike, *, template_dirs: Iterable[PathLike] = (),
                  overrides: Mapping[str, str | None] | None = None,
                  fallbacks: Mapping[str, str | None] | None = None, writes: bool = False) -> DesiredState:
    """What a spec says should exist (its roles rendered, its assignments checked; offline):
    ``Azure.plan_state`` compares it with Azure. *writes* (apply, prune) needs the spec's ``name:``."""
    from rbactool.plan import desired_from_spec

    spec = spec if not isinstance(spec, (str, os.PathLike)) else load_spec(spec)
    return desired_from_spec(spec, template_dirs=tuple(template_dirs), overrides=overrides, fallbacks=fallbacks,
                             writes=writes)


def dumps_spec(doc: Mapping[str, Any]) -> str:
    """A spec dict (from ``Azure.export``) as YAML text."""
    from rbactool.export import spec_yaml

    return spec_yaml(dict(doc))


# --------------------------------------------------------------------------- checks


def load_catalog(path: PathLike | None = None, *, source: CatalogSource | None = None) -> Catalog:
    """The operations catalog offline commands use (``path``, ``$RBACTOOL_CATALOG``, a cache
    refreshed from public Azure, else the packaged snapshot), or the one *source* names."""
    from rbactool.catalog import load_catalog as _load
    from rbactool.catalog import load_source

    return load_source(source) if source is not None else _load(path)


def catalog_source(path: PathLike | None = None, *, endpoint: str | None = None,
                   tenant: str | None = None) -> CatalogSource:
    """Which catalog a command uses (``.describe()`` says it): *path* or ``$RBACTOOL_CATALOG``,
    else the newest cache refreshed from *endpoint* (and *tenant*), else one refreshed from
    public Azure, else the packaged snapshot. Nothing is loaded."""
    from rbactool.catalog import resolve_source

    return resolve_source(path, endpoint=endpoint, tenant=tenant)


def catalog_info(path: PathLike | None = None, *, arm_endpoint: str | None = None,
                 namespaces: Sequence[str] = ()) -> CatalogInfo:
    """``rbactool catalog info``: the catalog in use (for *arm_endpoint*, or offline), the caches,
    and how fresh each of *namespaces* is."""
    from rbactool.catalog_info import catalog_info as _info

    return _info(str(path) if path is not None else None, arm_endpoint=arm_endpoint, namespaces=namespaces)


def load_config(path: PathLike | None = None, *, no_config: bool = False, fail_on: str | None = None,
                catalog_max_age_days: int | None = None) -> Config:
    """A ``.rbactool.yaml`` (suppressions, severity overrides, ``fail_on``): *path*, else the nearest
    one from the current directory upwards, else the defaults (*no_config*: the defaults), with
    *fail_on* (``"security-warning"``, ...) and *catalog_max_age_days* on top when given."""
    from dataclasses import replace

    from rbactool.config import gate_config

    config = gate_config(str(path) if path is not None else None, no_config, fail_on)
    if catalog_max_age_days is not None:
        config = replace(config, catalog_max_age_days=catalog_max_age_days)
    return config


def ignore_codes(codes: Iterable[str]) -> tuple[Ignore, ...]:
    """``--ignore CODE`` suppressions (each code checked) for ``validate_roles(extra_ignores=...)``."""
    from rbactool.config import cli_ignores

    return cli_ignores(codes)


def read_role_documents(names: Sequence[str], specs: Sequence[PathLike] = (), *,
                        scope: Mapping[str, str | None] | None = None) -> RoleDocuments:
    """What ``rbactool validate`` checks: each document (files, directories, ``-``) read with
    structure problems as findings, not errors -- a file that cannot be read is a FILE_UNREADABLE
    finding (``.unreadable``) unless it is the only input -- then each spec's roles; ``.roles``,
    ``.findings``, ``.texts``, ``.files``, ``.inputs`` go to ``validate_roles``. *scope* resolves
    template expressions."""
    from rbactool.validate import read_role_documents as _read

    return _read(names, specs, scope=scope)


def validate_roles(roles: Iterable[RoleDefinition], *, config: Config | None = None,
                   catalog: Catalog | None = None, fail_on: str | None = None,
                   extra_findings: Iterable[Finding] = (), extra_ignores: Sequence[Ignore] = (),
                   files: Sequence[str] = (), inputs: Sequence = ()) -> Report:
    """Every check on every role with the config's overrides and suppressions: the same gate as
    ``rbactool validate``, ``create``, ``plan`` and ``apply``. ``report.failed()`` is the verdict
    (at or above *fail_on*, e.g. ``"security-warning"``, else the config's). *extra_findings*
    (from ``read_role_documents``) are reported with the rest; *files* names the inputs and
    *inputs* (``RoleDocuments.inputs``) says what each was read as (``report.unreadable``)."""
    from rbactool.config import parse_fail_on
    from rbactool.validate import USE_FAIL_ON, gate

    threshold = USE_FAIL_ON if fail_on is None else parse_fail_on(fail_on)
    return gate(_roles(roles), catalog or load_catalog(), config, fail_on=threshold, extra_findings=extra_findings,
                extra_ignores=extra_ignores, files=files, inputs=inputs)


def effective_operations(role: RoleDefinition, *, catalog: Catalog | None = None):
    """The operations a role grants, wildcards expanded and NotActions subtracted per block."""
    from rbactool.effective import effective_operations as _effective

    return _effective(_role(role), catalog or load_catalog())


def diff_roles(old: RoleDefinition | None, new: RoleDefinition | None, *,
               catalog: Catalog | None = None, config: Config | None = None) -> RoleDiff:
    """What a change to one role grants and removes (``None``: the role is added or removed)."""
    from rbactool.diff import diff_roles as _diff

    old = None if old is None else _role(old, "old")
    new = None if new is None else _role(new, "new")
    return _diff(old, new, catalog or load_catalog(), config=config)


def diff_role_sets(old: Iterable[RoleDefinition], new: Iterable[RoleDefinition], *,
                   catalog: Catalog | None = None, config: Config | None = None, pair_single: bool = False,
                   findings: bool = True, by_spec_key: bool = False) -> DiffReport:
    """The diff of two sets of roles, matched by id, else by name (``rbactool diff DIR DIR``);
    *pair_single*: two single roles are compared whatever their names; *by_spec_key*: matched by
    spec key (roles from ``render_spec_revision``); *findings*: run the validator on the new roles."""
    from rbactool.diff import diff_role_sets as _diff
    from rbactool.spec import spec_key

    return _diff(_roles(old, "old"), _roles(new, "new"), catalog or load_catalog(), config=config,
                 pair_single=pair_single, findings=findings, key=spec_key if by_spec_key else None)


def explain_target(target: str, *, catalog: Catalog | None = None,
                   scope: Mapping[str, str | None] | None = None) -> dict:
    """What a permission pattern, a role file, a template or a built-in role grants, operation by
    operation (the JSON ``rbactool explain --format json`` prints). *scope* (``subscription``,
    ``resource_group``, ``management_group``) resolves ARM template and Terraform expressions."""
    from rbactool.explain import explain_data
    from rbactool.inputs import RenderOptions

    options = RenderOptions(scope=dict(scope)) if scope else None
    return explain_data(target, catalog or load_catalog(), options)


# --------------------------------------------------------------------------- Azure


# --------------------------------------------------------------------------- access analysis


def load_seed(path: PathLike) -> Estate:
    """An estate from a seed file (YAML or JSON; the format of ``rbactool emulator --seed``), with
    Azure's built-in roles, read with rbactool's input limits."""
    from rbactool.builtins import load_builtin_roles
    from rbactool.estate import estate_from_seed, read_seed_document

    return estate_from_seed(read_seed_document(path), source=str(path), builtin_roles=load_builtin_roles().all())


def write_snapshot(estate: Estate, path: PathLike) -> Path:
    """Write an estate to a snapshot file (SQLite, mode 0600, atomic; docs/snapshot.md)."""
    from rbactool.estate import write_estate

    return write_estate(estate, path)


def open_snapshot(path: PathLike) -> EstateDB:
    """A snapshot file opened read-only for ``who_can``, ``principal_access`` and ``find_escalations``."""
    from rbactool.estate import open_estate

    return open_estate(path)


def _snapshot(snapshot: EstateDB | PathLike) -> EstateDB:
    from rbactool.estate import EstateDB as _DB

    return snapshot if isinstance(snapshot, _DB) else open_snapshot(snapshot)


def who_can(snapshot: EstateDB | PathLike, operation: str, scope: str, *, catalog: Catalog | None = None) -> WhoCan:
    """Every principal that can perform *operation* (an action or data action) at *scope*: through
    assignments at the scope or any ancestor, groups expanded, deny assignments subtracted, each
    answer with its path; PIM-eligible principals and denied grants listed apart."""
    from rbactool.access import who_can as _who_can

    return _who_can(_snapshot(snapshot), operation, scope, catalog or load_catalog())


def principal_access(snapshot: EstateDB | PathLike, principal: str, *, scope: str | None = None,
                     catalog: Catalog | None = None) -> PrincipalAccess:
    """Everything a principal (object id or name) can do, via its groups too: each assignment with
    its role, effective operation counts and risk classes; deny assignments that name it."""
    from rbactool.access import principal_access as _access

    return _access(_snapshot(snapshot), principal, catalog or load_catalog(), scope=scope)


def find_escalations(snapshot: EstateDB | PathLike) -> EscalationReport:
    """Principals who can give themselves or others more access (role assignment writes, with
    delegation conditions evaluated; role definition writes over assigned custom roles)."""
    from rbactool.access import escalations

    return escalations(_snapshot(snapshot))


def report(*, snapshot: EstateDB | PathLike | None = None, paths: Sequence[str] = (), specs: Sequence[PathLike] = (),
           catalog: Catalog | None = None, config: Config | None = None,
           logs: Iterable[PathLike] = ()) -> ReportPage:
    """One self-contained HTML page (``.html``; ``.summary`` holds the figures it shows): of a
    snapshot (escalation paths, privileged principals, risky grants, the scope tree, who-can and
    principal views answered in the page, every custom role with its validator findings), or of
    the custom roles in role files (*paths*, as ``document_names`` takes them) and roles specs
    (*specs*), without Azure; *logs* (Activity Log exports, with a snapshot) add a "Used vs granted"
    view (``usage``). See docs/report.md."""
    from rbactool import html_report as _report

    catalog = catalog or load_catalog()

    def effective(role):
        return effective_operations(role, catalog=catalog)

    logs = list(logs)
    if logs and snapshot is None:
        raise RbactoolError("report: Activity Log exports (logs) need a snapshot")
    if snapshot is not None:
        if paths or specs:
            raise RbactoolError("report: give a snapshot or role files and specs, not both")
        db = _snapshot(snapshot)
        customs = [r for r in db.roles() if r.is_custom]
        validation = validate_roles(customs, catalog=catalog, config=config, fail_on="none") if customs else None
        data = _report.estate_data(db, catalog, effective=effective, validation=validation,
                                   escalations=find_escalations(db))
        if logs:  # used vs granted (Activity Log exports): a "Used vs granted" view
            data["usage"] = _report.usage_data(usage(db, logs, catalog=catalog).to_dict())
    else:
        docs = read_role_documents(document_names(list(paths)), specs)
        validation = validate_roles(docs.roles, catalog=catalog, config=config, fail_on="none",
                                    extra_findings=docs.findings, files=docs.files)
        data = _report.roles_data(list(docs.roles), catalog, effective=effective, validation=validation,
                                  files=docs.files)
    return _report.page(data)


# --------------------------------------------------------------------------- use vs grants (Activity Log)


def read_activity_logs(paths: Iterable[PathLike], *, since: str | None = None) -> ActivityLog:
    """Activity Log exports streamed (``az monitor activity-log list`` JSON, diagnostic-settings
    JSON lines, Log Analytics ``AzureActivity`` JSON or CSV; gzip or not) and folded per caller,
    operation and scope; *since*: a date or date-time, earlier events skipped. Malformed events are
    counted (``.malformed``, ``.problems``); a file in none of these shapes is an ``InputError``."""
    from rbactool.activity import parse_since
    from rbactool.activity import read_activity_logs as _read

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    return _read([str(p) for p in paths], since=parse_since(since) if since else None)


def _logs(logs: ActivityLog | Iterable[PathLike], since: str | None) -> ActivityLog:
    from rbactool.activity import ActivityLog as _Log

    return logs if isinstance(logs, _Log) else read_activity_logs(logs, since=since)


def usage(snapshot: EstateDB | PathLike, logs: ActivityLog | Iterable[PathLike], *, since: str | None = None,
          principal: str | None = None, catalog: Catalog | None = None) -> UsageReport:
    """What identities used (the Activity Log *logs*: paths or a ``read_activity_logs`` result)
    against what the snapshot grants them: per identity the effective operations granted, those
    used, and a used / granted ratio over the observable ones; per assignment its uses
    (``unobserved_assignments()``: none). ``.to_dict()`` is ``rbactool usage --format json``."""
    from rbactool.usage_analysis import usage_report

    db = _snapshot(snapshot)
    who = None
    if principal is not None:
        from rbactool.access import resolve_principal

        who = resolve_principal(db, principal)
    return usage_report(db, _logs(logs, since), catalog or load_catalog(), principal=who)


def rightsize(snapshot: EstateDB | PathLike, principal: str, logs: ActivityLog | Iterable[PathLike], *,
              since: str | None = None, data_logs: ActivityLog | Iterable[PathLike] | None = None,
              name: str | None = None, catalog: Catalog | None = None) -> Rightsizing:
    """A least-privilege custom role for *principal* from its use in *logs*: ``.role`` (for
    ``dumps_role``), ``.spec`` (a roles spec moving the principal onto it, for ``dumps_spec``),
    ``.diff`` (current effective access vs the proposal) and ``.removals_only``. Reads are kept at
    today's level for the namespaces used; data actions as today unless *data_logs* are given."""
    from rbactool.rightsizing import rightsize as _rightsize

    data = None if data_logs is None else _logs(data_logs, since)
    return _rightsize(_snapshot(snapshot), _logs(logs, since), catalog or load_catalog(), principal,
                      data_log=data, name=name)


class Azure:
    """A connection to Azure, or to any ARM endpoint such as ``rbactool emulator``. Settings as the
    CLI takes them: the arguments, then ``$RBACTOOL_ARM_ENDPOINT``, ``$RBACTOOL_CA_BUNDLE``,
    ``$RBACTOOL_ACCESS_TOKEN``, ``$AZURE_SUBSCRIPTION_ID``; the credential is
    ``DefaultAzureCredential`` unless given. No request is made until a method is called.

    *retry_timeout*: how long writes wait for Azure to replicate a new role or principal (default
    90 s); *progress*: called with a line at each wait or retry; *cancel*: a ``threading.Event``
    that stops plan and apply (and their throttling waits) when set. ``conn`` holds the settings
    (``conn.endpoint``, ``conn.cloud``, ``conn.describe()``); ``requests`` counts what was sent."""

    def __init__(self, *, subscription: str | None = None, cloud: str | None = None,
                 arm_endpoint: str | None = None, ca_bundle: str | None = None, credential=None,
                 retry_timeout: float | None = None, progress: Callable[[str], None] | None = None,
                 cancel: threading.Event | None = None):
        from rbactool.azure_adapter import connection_settings

        self.conn = connection_settings(cloud=cloud, endpoint=arm_endpoint, ca_bundle=ca_bundle,
                                        subscription=subscription)
        self.credential = credential
        self.retry_timeout = retry_timeout
        self.progress = progress
        self.cancel = cancel
        self._gateway: AzureGateway | None = None
        self._pool: GatewayPool | None = None

    @property
    def gateway(self) -> AzureGateway:
        """The gateway (``rbactool.operations.Gateway``) the methods use; made on first use."""
        if self._gateway is None:
            from rbactool.azure_adapter import AzureGateway

            self._gateway = AzureGateway(self.conn, credential=self.credential)
        return self._gateway

    @property
    def pool(self) -> GatewayPool:
        """The gateways (one per worker thread, one throttling gate) ``plan`` and ``apply`` use."""
        if self._pool is None:
            from rbactool.azure_adapter import GatewayPool
            from rbactool.waits import ThrottleGate

            self._pool = GatewayPool(self.conn, gate=ThrottleGate(self.cancel))
        return self._pool

    @property
    def requests(self) -> int:
        """HTTP requests sent so far (for ``-v`` logging)."""
        return (self._gateway.requests if self._gateway else 0) + (self._pool.requests if self._pool else 0)

    def _waits(self) -> dict[str, Any]:
        from rbactool.waits import Backoff

        waits: dict[str, Any] = {}
        if self.retry_timeout is not None:
            waits["backoff"] = Backoff(timeout=self.retry_timeout)
        if self.progress is not None:
            waits["progress"] = self.progress
        return waits

    def catalog_source(self) -> CatalogSource:
        """The catalog commands against this endpoint use (``catalog_source(endpoint=...)``, with
        ``$AZURE_TENANT_ID``): a cache refreshed from it, else the offline one."""
        return catalog_source(endpoint=self.conn.endpoint, tenant=os.environ.get("AZURE_TENANT_ID"))

    def catalog(self) -> Catalog:
        """The catalog ``catalog_source()`` names, loaded."""
        return load_catalog(source=self.catalog_source())

    def whoami(self) -> dict[str, Any]:
        """Who the credential is: the token's claims that name the caller (never the token)."""
        return self.gateway.caller()

    def check_permissions(self, scope: str) -> dict[str, bool]:
        """Whether the caller holds each role-management action at *scope*."""
        from rbactool.operations import check_permissions

        return check_permissions(self.gateway, scope)

    def refresh_catalog(self, output_dir: PathLike | None = None) -> Refreshed:
        """Download provider operations and built-in roles into the cache (or *output_dir*);
        ``.offline`` says whether offline commands now use it too."""
        from rbactool.catalog_build import refresh_cache

        hooks: dict[str, Any] = {"progress": self.progress} if self.progress is not None else {}
        return refresh_cache(self.gateway, Path(output_dir) if output_dir is not None else None, **hooks)

    def create_roles(self, roles: Iterable[RoleDefinition], *, config: Config | None = None, force: bool = False,
                     dry_run: bool = False, wait: bool = True, checked: bool = False) -> list[RoleResult]:
        """Create or update custom roles idempotently, after the validation gate (refused with
        ``ValidationRefused`` unless *force*; *checked*: the caller has run ``validate_roles`` on
        them, as the CLI does to show the findings); ``unchanged`` roles are not written."""
        from rbactool.operations import ensure_roles
        from rbactool.validate import gate

        roles = _roles(roles)
        if not force and not checked:
            gate(roles, self.catalog(), config, refuse=True, bypass="force=True")
        return ensure_roles(self.gateway, roles, dry_run=dry_run, wait=wait, **self._waits())

    def resolve_role(self, role: str | RoleDefinition, scope: str) -> ResolvedRole:
        """A role by built-in or custom name, GUID or id, or a ``RoleDefinition`` (found by name),
        as one that can be assigned at *scope*; ``InputError`` when there is none."""
        from rbactool.operations import resolve_role

        return resolve_role(self.gateway, role, scope)

    def _resolved(self, role: str | RoleDefinition | ResolvedRole, scope: str) -> ResolvedRole:
        from rbactool.operations import ResolvedRole

        return role if isinstance(role, ResolvedRole) else self.resolve_role(role, scope)

    def assign(self, principal_id: str, role: str | RoleDefinition | ResolvedRole, scope: str, *,
               principal_type: str | None = None, description: str | None = None, condition: str | None = None,
               condition_version: str | None = None, clear_condition: bool = False,
               dry_run: bool = False) -> AssignResult:
        """Assign a role (built-in or custom name, GUID, id, or a ``RoleDefinition``) at *scope*:
        read, compare, write only what differs; fields not given are kept (see ``rbactool assign``)."""
        from rbactool.operations import assign

        return assign(self.gateway, principal_id=principal_id, principal_type=principal_type,
                      role=self._resolved(role, scope), scope=scope, description=description, condition=condition,
                      condition_version=condition_version, clear_condition=clear_condition, dry_run=dry_run,
                      **self._waits())

    def unassign(self, principal_id: str, scope: str, *, role: str | RoleDefinition | ResolvedRole | None = None,
                 dry_run: bool = False) -> list[Assignment]:
        """Remove the principal's assignments (of *role*, or all) at exactly *scope*; returns them."""
        from rbactool.operations import unassign

        resolved = self._resolved(role, scope) if role else None
        return unassign(self.gateway, principal_id=principal_id, role=resolved, scope=scope, dry_run=dry_run)

    def find_custom_role(self, role: str | RoleDefinition, scope: str | None = None) -> RoleDefinition | None:
        """A custom role by name, GUID, id or definition (looked up at *scope*, default the
        subscription), or None; a built-in role is refused."""
        from rbactool.operations import find_custom_role

        return find_custom_role(self.gateway, role, scope)

    def assignments_of_role(self, role: RoleDefinition) -> list[Assignment]:
        """Every assignment of *role* at or below its assignable scopes."""
        from rbactool.operations import assignments_of_role

        return assignments_of_role(self.gateway, _role(role))

    def delete_role(self, role: RoleDefinition, *, with_assignments: bool = False) -> list[Assignment]:
        """Delete a custom role (from ``find_custom_role``), its assignments first when
        *with_assignments*, else refused while it has any; returns the assignments removed."""
        from rbactool.operations import delete_role

        return delete_role(self.gateway, _role(role), with_assignments=with_assignments, **self._waits())

    def list_definitions(self, scope: str | None = None, *, custom_only: bool = False, name: str | None = None):
        """Role definitions visible at *scope* (default: the subscription)."""
        from rbactool.operations import list_definitions

        return list_definitions(self.gateway, scope or self._subscription_scope(), custom_only=custom_only,
                                name=name)

    def list_assignments(self, scope: str | None = None, *, principal_id: str | None = None,
                         role: str | None = None, below: bool = True):
        """Role assignments at, above and (with *below*) below *scope* (default: the subscription);
        *principal_id* is an object id (a GUID: no directory lookup), else InputError."""
        from rbactool.operations import list_assignments
        from rbactool.scopes import is_guid

        if principal_id is not None and not is_guid(principal_id):
            from rbactool.errors import InputError

            raise InputError(f"principal {principal_id!r}: expected an object id (a GUID); rbactool looks up "
                             "no names in the directory (az ad user show --id NAME --query id)")

        return list_assignments(self.gateway, scope or self._subscription_scope(), principal_id=principal_id,
                                role=role, below=below)

    def role_names(self, assignments: Iterable[Assignment], scope: str) -> dict[str, str]:
        """Role GUID (lower case) -> role name for *assignments* (built-ins offline, custom ones read once)."""
        from rbactool.operations import role_names

        return role_names(self.gateway, list(assignments), scope)

    def plan(self, spec: RolesSpec | PathLike, *, overrides: Mapping[str, str | None] | None = None,
             template_dirs: Iterable[PathLike] = (), config: Config | None = None, prune: bool = False,
             take_over: bool = False, parallelism: int = 8) -> Plan:
        """What ``apply`` would change to make Azure match a spec: the spec is checked offline (the
        validation gate, refused with ``ValidationRefused``), then Azure is read; nothing is written."""
        from rbactool.validate import gate

        fallbacks = {"subscription": self.conn.subscription} if self.conn.subscription else None
        desired = desired_state(spec, template_dirs=template_dirs, overrides=overrides, fallbacks=fallbacks,
                                writes=prune)
        catalog = self.catalog()
        gate([r.role for r in desired.roles], catalog, config, refuse=True, what="the spec's roles")
        return self.plan_state(desired, catalog=catalog, prune=prune, take_over=take_over, parallelism=parallelism)

    def plan_state(self, desired: DesiredState, *, catalog: Catalog | None = None, prune: bool = False,
                   take_over: bool = False, parallelism: int = 8) -> Plan:
        """``plan`` of a ``desired_state`` whose roles the caller has validated (the CLI, to show
        the findings): read Azure, *parallelism* at a time, and compute the changes."""
        from rbactool.plan import plan_spec

        return plan_spec(desired, self.pool, catalog=catalog or self.catalog(), prune=prune, take_over=take_over,
                         parallelism=parallelism)

    def apply(self, plan: Plan, *, parallelism: int = 8, cancel: threading.Event | None = None,
              on_done: Callable[[Outcome], None] | None = None) -> ApplyReport:
        """Make Azure match the plan: roles, then assignments, then deletes, *parallelism* at a time;
        a failure is in the report (``report.failed``), not raised. *cancel*: a ``threading.Event``
        (default: the connection's); *on_done*: called with each change's outcome as it finishes."""
        from rbactool.plan import apply_plan

        hooks: dict[str, Any] = {"on_done": on_done} if on_done is not None else {}
        return apply_plan(plan, self.pool, parallelism=parallelism, cancel=cancel or self.cancel,
                          **self._waits(), **hooks)

    def export(self, scope: str, *, custom_only: bool = False) -> dict:
        """The roles and assignments at or below *scope* as a roles spec (a dict; YAML with
        ``dumps_spec`` or ``write_spec``); ``plan`` of it shows no changes."""
        from rbactool.export import export_scope

        return export_scope(self.gateway, scope, custom_only=custom_only)

    def snapshot(self, *, subscriptions: Sequence[str] = (), management_groups: Sequence[str] = (),
                 parallelism: int = 8, at_scope: str | None = None, groups: bool = False,
                 source: str = "arm", progress: Callable[[str], None] | None = None) -> Estate:
        """Read the estate (every subscription the credential can see, or those given; the
        management-group hierarchy; definitions, assignments, deny assignments, PIM eligibility)
        into an ``Estate`` for ``write_snapshot``. What cannot be read is recorded as a gap.
        *at_scope*: only what applies at that scope (the reads ``who_can_live`` needs); *groups*:
        also principals' names and types and group memberships from Microsoft Graph; *source*:
        ``"arm"`` (per subscription) or ``"resource-graph"`` (assignments, definitions and the
        hierarchy tenant-wide from Azure Resource Graph; deny assignments and PIM eligibility from
        ARM, which Resource Graph does not hold)."""
        from rbactool.snapshot import take_snapshot

        tenant = None
        try:
            tenant = self.gateway.caller().get("tid")
        except RbactoolError:  # no usable token claims: the tenant comes from the subscriptions list
            tenant = None
        return take_snapshot(self.pool, subscriptions=subscriptions, management_groups=management_groups,
                             tenant=tenant, cloud=self.conn.cloud.name, endpoint=self.conn.endpoint,
                             parallelism=parallelism, at_scope=at_scope, groups=groups, source=source,
                             progress=progress)

    def who_can_live(self, operation: str, scope: str, *, catalog: Catalog | None = None) -> WhoCan:
        """``who_can`` answered from Azure directly for one scope: it reads only what applies there
        (assignments, deny assignments and eligibility ``atScope()``, role definitions, the
        management-group hierarchy), into a private temporary snapshot that is removed after."""
        import tempfile

        from rbactool.scopes import parse_scope as _parse

        target = _parse(scope)
        estate = self.snapshot(subscriptions=[target.subscription] if target.subscription else [],
                               at_scope=str(target), groups=True)
        with tempfile.TemporaryDirectory(prefix="rbactool-live-") as tmp:
            db = open_snapshot(write_snapshot(estate, Path(tmp) / "live.db"))
            try:
                answer = who_can(db, operation, scope, catalog=catalog)
            finally:
                db.close()
        answer.snapshot.update(source="live", path=None)
        return answer

    def _subscription_scope(self) -> str:
        from rbactool.errors import InputError

        if not self.conn.subscription:
            raise InputError("give a scope, or a subscription (connect(subscription=...) or $AZURE_SUBSCRIPTION_ID)")
        return f"/subscriptions/{self.conn.subscription}"


def connect(*, subscription: str | None = None, cloud: str | None = None, arm_endpoint: str | None = None,
            ca_bundle: str | None = None, credential=None, retry_timeout: float | None = None,
            progress: Callable[[str], None] | None = None, cancel: threading.Event | None = None) -> Azure:
    """An ``Azure`` connection (see its docstring); nothing is sent until it is used."""
    return Azure(subscription=subscription, cloud=cloud, arm_endpoint=arm_endpoint, ca_bundle=ca_bundle,
                 credential=credential, retry_timeout=retry_timeout, progress=progress, cancel=cancel)


def write_spec(doc: Mapping[str, Any], path: PathLike) -> Path:
    """Write a spec dict (from ``Azure.export``) as YAML, atomically; returns the path."""
    target = Path(path)
    write_files({target: dumps_spec(doc)}, what=str(target))
    return target

