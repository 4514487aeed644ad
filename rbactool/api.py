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

if TYPE_CHECKING:  # imported lazily below: `import rbactool` stays fast and offline
    from rbactool.azure_adapter import AzureGateway
    from rbactool.catalog import Catalog
    from rbactool.config import Config
    from rbactool.diff import DiffReport, RoleDiff
    from rbactool.model import RoleDefinition
    from rbactool.operations import AssignResult, RoleResult
    from rbactool.plan import ApplyReport, Plan
    from rbactool.spec import RolesSpec
    from rbactool.validate import Report

__all__ = [
    "Azure",
    "connect",
    "diff_role_sets",
    "diff_roles",
    "dumps_role",
    "effective_operations",
    "explain_target",
    "load_catalog",
    "load_config",
    "load_roles",
    "load_spec",
    "parse_roles",
    "render_spec",
    "render_template",
    "resolve_roles",
    "validate_roles",
    "write_spec",
]

PathLike = str | os.PathLike


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


def dumps_role(role: RoleDefinition, shape: str = "az") -> str:
    """Canonical JSON of a role: ``az`` (what ``az role definition create`` takes), ``arm`` or ``az-list``."""
    from rbactool.model import dumps_role as _dumps

    return _dumps(role, shape)


def render_template(name: str, values: Mapping[str, Any] | None = None, *, subscription: str | None = None,
                    resource_group: str | None = None, management_group: str | None = None,
                    assignable_scopes: Sequence[str] | None = None,
                    template_dirs: Iterable[PathLike] = ()) -> RoleDefinition:
    """Render a template (shipped, in *template_dirs* or ``$RBACTOOL_TEMPLATES``) in rbactool's sandbox."""
    from rbactool.render import load_template, render_role
    from rbactool.render import template_dirs as search_path

    template = load_template(name, search_path(tuple(template_dirs)))
    return render_role(template, dict(values or {}), subscription=subscription, resource_group=resource_group,
                       management_group=management_group, assignable_scopes=assignable_scopes)


def resolve_roles(argument: str, *, values: Mapping[str, Any] | None = None,
                  scope: Mapping[str, str | None] | None = None,
                  template_dirs: Iterable[PathLike] = ()) -> list[RoleDefinition]:
    """What a CLI argument names, as ``rbactool diff`` reads OLD and NEW: a file, a directory of
    ``*.json``, ``-``, ``REV:path``, a template (rendered with *values* and *scope*) or a built-in role."""
    from rbactool.inputs import DIFF_KINDS, RenderOptions, resolve

    options = RenderOptions(values=dict(values or {}), scope=dict(scope or {}),
                            template_dirs=tuple(template_dirs))
    return list(resolve(argument, DIFF_KINDS, options).roles)


def load_spec(path: PathLike) -> RolesSpec:
    """Read and check a roles spec (``roles/*.yaml``); its paths must stay inside its repository."""
    from rbactool.spec import load_spec as _load

    return _load(path)


def render_spec(spec: RolesSpec | PathLike, *, template_dirs: Iterable[PathLike] = (),
                overrides: Mapping[str, str | None] | None = None) -> list[RoleDefinition]:
    """Every role of a spec, rendered (``overrides``: ``subscription``/``resource_group``/
    ``management_group`` replacing the spec's defaults, as ``-s/-g/-m`` do)."""
    from rbactool.spec import render_spec as _render

    spec = spec if not isinstance(spec, (str, os.PathLike)) else load_spec(spec)
    return [r.role for r in _render(spec, extra_template_dirs=tuple(template_dirs), overrides=overrides)]


# --------------------------------------------------------------------------- checks


def load_catalog(path: PathLike | None = None) -> Catalog:
    """The operations catalog offline commands use (``path``, ``$RBACTOOL_CATALOG``, a cache
    refreshed from public Azure, else the packaged snapshot)."""
    from rbactool.catalog import load_catalog as _load

    return _load(path)


def load_config(path: PathLike | None = None) -> Config:
    """A ``.rbactool.yaml`` (suppressions, severity overrides, ``fail_on``): *path*, else the nearest
    one from the current directory upwards, else the defaults."""
    from rbactool.config import resolve_config

    return resolve_config(str(path) if path is not None else None)


def validate_roles(roles: Iterable[RoleDefinition], *, config: Config | None = None,
                   catalog: Catalog | None = None, fail_on: str | None = None) -> Report:
    """Every check on every role with the config's overrides and suppressions: the same gate as
    ``rbactool validate``, ``create``, ``plan`` and ``apply``. ``report.failed()`` is the verdict
    (at or above *fail_on*, e.g. ``"security-warning"``, else the config's)."""
    from rbactool.config import parse_fail_on
    from rbactool.validate import USE_FAIL_ON, gate

    threshold = USE_FAIL_ON if fail_on is None else parse_fail_on(fail_on)
    return gate(list(roles), catalog or load_catalog(), config, fail_on=threshold)


def effective_operations(role: RoleDefinition, *, catalog: Catalog | None = None):
    """The operations a role grants, wildcards expanded and NotActions subtracted per block."""
    from rbactool.effective import effective_operations as _effective

    return _effective(role, catalog or load_catalog())


def diff_roles(old: RoleDefinition | None, new: RoleDefinition | None, *,
               catalog: Catalog | None = None, config: Config | None = None) -> RoleDiff:
    """What a change to one role grants and removes (``None``: the role is added or removed)."""
    from rbactool.diff import diff_roles as _diff

    return _diff(old, new, catalog or load_catalog(), config=config)


def diff_role_sets(old: Iterable[RoleDefinition], new: Iterable[RoleDefinition], *,
                   catalog: Catalog | None = None, config: Config | None = None) -> DiffReport:
    """The diff of two sets of roles, matched by id, else by name (``rbactool diff DIR DIR``)."""
    from rbactool.diff import diff_role_sets as _diff

    return _diff(list(old), list(new), catalog or load_catalog(), config=config)


def explain_target(target: str, *, catalog: Catalog | None = None) -> dict:
    """What a permission pattern, a role file, a template or a built-in role grants, operation by
    operation (the JSON ``rbactool explain --format json`` prints)."""
    from rbactool.explain import explain_data

    return explain_data(target, catalog or load_catalog())


# --------------------------------------------------------------------------- Azure


class Azure:
    """A connection to Azure, or to any ARM endpoint such as ``rbactool emulator``. Settings as the
    CLI takes them: the arguments, then ``$RBACTOOL_ARM_ENDPOINT``, ``$RBACTOOL_CA_BUNDLE``,
    ``$RBACTOOL_ACCESS_TOKEN``, ``$AZURE_SUBSCRIPTION_ID``; the credential is
    ``DefaultAzureCredential`` unless given. No request is made until a method is called."""

    def __init__(self, *, subscription: str | None = None, cloud: str | None = None,
                 arm_endpoint: str | None = None, ca_bundle: str | None = None, credential=None):
        from rbactool.azure_adapter import connection_settings

        self.conn = connection_settings(cloud=cloud, endpoint=arm_endpoint, ca_bundle=ca_bundle,
                                        subscription=subscription)
        self.credential = credential
        self._gateway: AzureGateway | None = None

    @property
    def gateway(self) -> AzureGateway:
        """The gateway (``rbactool.operations.Gateway``) the methods use; made on first use."""
        if self._gateway is None:
            from rbactool.azure_adapter import AzureGateway

            self._gateway = AzureGateway(self.conn, credential=self.credential)
        return self._gateway

    def _pool(self):
        from rbactool.azure_adapter import GatewayPool
        from rbactool.waits import ThrottleGate

        return GatewayPool(self.conn, gate=ThrottleGate())

    def create_roles(self, roles: Iterable[RoleDefinition], *, config: Config | None = None, force: bool = False,
                     dry_run: bool = False, wait: bool = True) -> list[RoleResult]:
        """Create or update custom roles idempotently, after the validation gate (refused with
        ``ValidationRefused`` unless *force*); ``unchanged`` roles are not written."""
        from rbactool.operations import ensure_roles
        from rbactool.validate import gate

        roles = list(roles)
        if not force:
            gate(roles, self._catalog(), config, refuse=True, bypass="force=True")
        return ensure_roles(self.gateway, roles, dry_run=dry_run, wait=wait)

    def assign(self, principal_id: str, role: str | RoleDefinition, scope: str, *,
               principal_type: str | None = None, description: str | None = None, condition: str | None = None,
               condition_version: str | None = None, clear_condition: bool = False,
               dry_run: bool = False) -> AssignResult:
        """Assign a role (built-in or custom name, GUID, id, or a ``RoleDefinition``) at *scope*:
        read, compare, write only what differs; fields not given are kept (see ``rbactool assign``)."""
        from rbactool.operations import assign, resolve_role

        resolved = resolve_role(self.gateway, role, scope)
        return assign(self.gateway, principal_id=principal_id, principal_type=principal_type, role=resolved,
                      scope=scope, description=description, condition=condition,
                      condition_version=condition_version, clear_condition=clear_condition, dry_run=dry_run)

    def unassign(self, principal_id: str, scope: str, *, role: str | None = None, dry_run: bool = False):
        """Remove the principal's assignments (of *role*, or all) at exactly *scope*; returns them."""
        from rbactool.operations import resolve_role, unassign

        resolved = resolve_role(self.gateway, role, scope) if role else None
        return unassign(self.gateway, principal_id=principal_id, role=resolved, scope=scope, dry_run=dry_run)

    def list_definitions(self, scope: str | None = None, *, custom_only: bool = False, name: str | None = None):
        """Role definitions visible at *scope* (default: the subscription)."""
        from rbactool.operations import list_definitions

        return list_definitions(self.gateway, scope or self._subscription_scope(), custom_only=custom_only,
                                name=name)

    def list_assignments(self, scope: str | None = None, *, principal_id: str | None = None,
                         role: str | None = None):
        """Role assignments at, above and below *scope* (default: the subscription)."""
        from rbactool.operations import list_assignments

        return list_assignments(self.gateway, scope or self._subscription_scope(), principal_id=principal_id,
                                role=role)

    def plan(self, spec: RolesSpec | PathLike, *, overrides: Mapping[str, str | None] | None = None,
             template_dirs: Iterable[PathLike] = (), config: Config | None = None, prune: bool = False,
             take_over: bool = False, parallelism: int = 8) -> Plan:
        """What ``apply`` would change to make Azure match a spec: the spec is checked offline (the
        validation gate, refused with ``ValidationRefused``), then Azure is read; nothing is written."""
        from rbactool.plan import desired_from_spec, plan_spec
        from rbactool.validate import gate

        spec = spec if not isinstance(spec, (str, os.PathLike)) else load_spec(spec)
        fallbacks = {"subscription": self.conn.subscription} if self.conn.subscription else None
        desired = desired_from_spec(spec, template_dirs=tuple(template_dirs), overrides=overrides,
                                    fallbacks=fallbacks, writes=prune)
        catalog = self._catalog()
        gate([r.role for r in desired.roles], catalog, config, refuse=True, what="the spec's roles")
        return plan_spec(desired, self._pool(), catalog=catalog, prune=prune, take_over=take_over,
                         parallelism=parallelism)

    def apply(self, plan: Plan, *, parallelism: int = 8, cancel=None) -> ApplyReport:
        """Make Azure match the plan: roles, then assignments, then deletes, *parallelism* at a time;
        a failure is in the report (``report.failed``), not raised. *cancel*: a ``threading.Event``."""
        from rbactool.plan import apply_plan

        return apply_plan(plan, self._pool(), parallelism=parallelism, cancel=cancel)

    def export(self, scope: str, *, custom_only: bool = False) -> dict:
        """The roles and assignments at or below *scope* as a roles spec (a dict; YAML with
        ``rbactool.export.spec_yaml``); ``plan`` of it shows no changes."""
        from rbactool.export import export_scope

        return export_scope(self.gateway, scope, custom_only=custom_only)

    def _catalog(self) -> Catalog:
        from rbactool.catalog import load_source, resolve_source

        return load_source(resolve_source(endpoint=self.conn.endpoint, tenant=os.environ.get("AZURE_TENANT_ID")))

    def _subscription_scope(self) -> str:
        from rbactool.errors import InputError

        if not self.conn.subscription:
            raise InputError("give a scope, or a subscription (connect(subscription=...) or $AZURE_SUBSCRIPTION_ID)")
        return f"/subscriptions/{self.conn.subscription}"


def connect(*, subscription: str | None = None, cloud: str | None = None, arm_endpoint: str | None = None,
            ca_bundle: str | None = None, credential=None) -> Azure:
    """An ``Azure`` connection (see its docstring); nothing is sent until it is used."""
    return Azure(subscription=subscription, cloud=cloud, arm_endpoint=arm_endpoint, ca_bundle=ca_bundle,
                 credential=credential)


def write_spec(doc: Mapping[str, Any], path: PathLike) -> Path:
    """Write a spec dict (from ``Azure.export``) as YAML, atomically; returns the path."""
    from rbactool.export import spec_yaml
    from rbactool.files import write_files

    target = Path(path)
    write_files({target: spec_yaml(dict(doc))}, what=str(target))
    return target

