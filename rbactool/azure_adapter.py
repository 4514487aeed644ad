"""The only module that talks to Azure (azure-mgmt-authorization + azure-identity).

Commands import it lazily, so offline commands never load the SDK. Everything it returns is
rbactool's own model (``RoleDefinition``, ``Assignment``), and every SDK failure becomes an
``AzureOperationError`` carrying the HTTP status and the ARM error code.

Connection settings (flags win over environment):
  --cloud / AZURE_CLOUD                    AzureCloud | AzureUSGovernment | AzureChinaCloud
  --endpoint / RBACTOOL_ARM_ENDPOINT       another ARM endpoint (the emulator, a private endpoint)
  --ca-bundle / RBACTOOL_CA_BUNDLE         CA certificates to trust for that endpoint
  RBACTOOL_ACCESS_TOKEN                    a static bearer token (tests and CI; azure-identity is not imported)
Otherwise DefaultAzureCredential (az login, managed/workload identity, environment service principal).
Tokens are never logged or printed.
"""

from __future__ import annotations

import base64
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from rbactool import waits
from rbactool.arm_errors import explain
from rbactool.assignments import Assignment
from rbactool.errors import AzureOperationError, InputError
from rbactool.model import RoleDefinition, role_from_dict, to_arm_dict
from rbactool.readers import loads_json
from rbactool.redact import redact_configured

logger = logging.getLogger(__name__)
T = TypeVar("T")

ENV_ENDPOINT = "RBACTOOL_ARM_ENDPOINT"
ENV_CA_BUNDLE = "RBACTOOL_CA_BUNDLE"
ENV_TOKEN = "RBACTOOL_ACCESS_TOKEN"
ENV_CLOUD = "AZURE_CLOUD"
PLACEHOLDER_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class Cloud:
    name: str
    arm_endpoint: str
    authority_host: str
    audience: str


CLOUDS = {
    "AzureCloud": Cloud("AzureCloud", "https://management.azure.com", "login.microsoftonline.com",
                        "https://management.azure.com"),
    "AzureUSGovernment": Cloud("AzureUSGovernment", "https://management.usgovcloudapi.net",
                               "login.microsoftonline.us", "https://management.usgovcloudapi.net"),
    "AzureChinaCloud": Cloud("AzureChinaCloud", "https://management.chinacloudapi.cn", "login.chinacloudapi.cn",
                             "https://management.chinacloudapi.cn"),
}


@dataclass(frozen=True)
class Connection:
    cloud: Cloud
    endpoint: str
    ca_bundle: str | None
    subscription: str | None
    static_token: bool

    def describe(self) -> str:
        how = "static token (RBACTOOL_ACCESS_TOKEN)" if self.static_token else "DefaultAzureCredential"
        return f"{self.endpoint} ({self.cloud.name}), credential: {how}"


def connection_settings(
    *,
    cloud: str | None = None,
    endpoint: str | None = None,
    ca_bundle: str | None = None,
    subscription: str | None = None,
) -> Connection:
    """Resolve flags and environment into connection settings (no I/O beyond checking the CA file)."""
    cloud_name = cloud or os.environ.get(ENV_CLOUD) or "AzureCloud"
    if cloud_name not in CLOUDS:
        raise InputError(f"--cloud {cloud_name!r} is not one of {', '.join(CLOUDS)}")
    c = CLOUDS[cloud_name]
    ep = (endpoint or os.environ.get(ENV_ENDPOINT) or c.arm_endpoint).rstrip("/")
    if not ep.startswith("https://"):
        raise InputError(f"endpoint {ep!r} must be an https:// URL (Azure sends bearer tokens only over TLS)")
    ca = ca_bundle or os.environ.get(ENV_CA_BUNDLE) or None
    if ca and not Path(ca).is_file():
        raise InputError(f"CA bundle {ca} does not exist")
    return Connection(c, ep, ca, subscription or os.environ.get("AZURE_SUBSCRIPTION_ID") or None,
                      bool(os.environ.get(ENV_TOKEN)))


def connect(*, cloud: str | None = None, endpoint: str | None = None, ca_bundle: str | None = None,
            subscription: str | None = None, credential=None, gate=None) -> AzureGateway:
    """A gateway to Azure (or another ARM endpoint such as the emulator): settings from the arguments,
    then the environment (see the module's docstring). No request is made until it is used."""
    conn = connection_settings(cloud=cloud, endpoint=endpoint, ca_bundle=ca_bundle, subscription=subscription)
    return AzureGateway(conn, credential=credential, gate=gate)


# --------------------------------------------------------------------------- credentials


def _jwt_claims(token: str) -> dict[str, Any]:
    """The (unverified) claims of a JWT, for display of who the caller is. {} if not a JWT."""
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        claims = loads_json(base64.urlsafe_b64decode(payload).decode("utf-8"), "token", duplicates=False)
        return claims if isinstance(claims, dict) else {}
    except (IndexError, ValueError, InputError):
        return {}


class StaticTokenCredential:
    """A TokenCredential for a bearer token given in RBACTOOL_ACCESS_TOKEN (tests and CI)."""

    def __init__(self, token: str):
        self._token = token
        exp = _jwt_claims(token).get("exp")
        self._expires_on = int(exp) if isinstance(exp, (int, float)) else int(time.time()) + 3600

    def get_token(self, *scopes: str, **kwargs: Any):
        from azure.core.credentials import AccessToken

        return AccessToken(self._token, max(self._expires_on, int(time.time()) + 600))

    def __repr__(self) -> str:  # never show the token
        return "StaticTokenCredential(<redacted>)"


def make_credential(conn: Connection):
    token = (os.environ.get(ENV_TOKEN) or "").strip()
    if token:
        if any(c.isspace() or not c.isprintable() for c in token):
            # never sent (HTTP refuses it in a header) and never shown: only where the break is
            at = next(i for i, c in enumerate(token) if c.isspace() or not c.isprintable())
            raise InputError(f"{ENV_TOKEN} has a line break, blank or control character inside (at character "
                             f"{at + 1} of {len(token)}); a token has none: set it to the token alone")
        return StaticTokenCredential(token)
    from azure.identity import DefaultAzureCredential

    kwargs: dict[str, Any] = {"authority": conn.cloud.authority_host}
    authority = os.environ.get("AZURE_AUTHORITY_HOST", "")
    if authority and not any(c.authority_host in authority for c in CLOUDS.values()):
        kwargs = {"disable_instance_discovery": True}  # MSAL would otherwise call the public cloud
    return DefaultAzureCredential(**kwargs)


# --------------------------------------------------------------------------- errors


def _one_line(text: str) -> str:
    """Secrets redacted (before any cut: a cut token would no longer be recognised), on one line."""
    return " ".join(redact_configured(str(text)).split())


def azure_error(e, action: str, conn: Connection) -> AzureOperationError:
    """One line: what failed, the ARM code and status, ARM's message, and what to do."""
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )

    if isinstance(e, ServiceRequestError):  # refused, DNS, TLS handshake: the request never left
        return AzureOperationError(f"{action}: cannot reach {conn.endpoint}: {_one_line(e.message)[:200]}",
                                   connection=True)
    if isinstance(e, ClientAuthenticationError) and getattr(e, "status_code", None) is None:
        # azure-identity found no usable credential (CredentialUnavailableError and friends)
        return AzureOperationError(
            f"{action}: not signed in to Azure: run `az login`, or set AZURE_CLIENT_ID/AZURE_TENANT_ID/"
            "AZURE_CLIENT_SECRET (or a managed identity), or RBACTOOL_ACCESS_TOKEN for a static token"
        )
    if isinstance(e, HttpResponseError):
        err = getattr(e, "error", None)
        code = getattr(err, "code", None)
        message = getattr(err, "message", None) or (e.message or "").split("\n")[0]
        if e.status_code == 401 and not code:
            code = "AuthenticationFailed"
        hint = explain(code)
        parts = [f"{action}: {code or 'HTTP error'} ({e.status_code})", _one_line(message)]
        if hint:
            parts.append(f"-> {hint}")
        return AzureOperationError(": ".join(parts[:2]) + (f" {parts[2]}" if hint else ""),
                                   status_code=e.status_code, error_code=code)
    # ServiceResponseError (the connection dropped, or the answer could not be read) and any other
    # AzureError: still one line naming the endpoint.
    dropped = isinstance(e, ServiceResponseError)
    what = "no usable answer from" if dropped else "failed talking to"
    return AzureOperationError(f"{action}: {what} {conn.endpoint}: {_one_line(str(e))[:200]}", connection=dropped)


# --------------------------------------------------------------------------- the gateway

#: Longest wait rbactool accepts from a Retry-After header (the policy: ``waits.retry_after_seconds``).
MAX_RETRY_AFTER = waits.MAX_RETRY_AFTER
#: Retries of a request that got no answer at all (azure-core's default is 3, with back-off).
CONNECT_RETRIES = 1


def retry_after(value: float | str) -> float:
    """The wait rbactool accepts for a Retry-After of *value*: the one policy, at this module's cap."""
    return waits.retry_after_seconds(value, MAX_RETRY_AFTER)


def _capped_retry_policy(gateway: AzureGateway):
    """azure-core's RetryPolicy, with Retry-After capped and waits that Ctrl-C (apply's cancel) ends."""
    from azure.core.pipeline.policies import RetryPolicy

    class CappedRetryPolicy(RetryPolicy):
        def get_retry_after(self, response):
            value = super().get_retry_after(response)
            return None if value is None else retry_after(value)

        def sleep(self, settings, transport, response=None):
            delay = (self.get_retry_after(response) if response is not None else None) \
                or self.get_backoff_time(settings)
            if delay > 0:
                waits.pause(delay, gateway._gate.cancel if gateway._gate is not None else None)

    # Retryable answers (429, 5xx) keep azure-core's retries. Connection failures (refused, reset, TLS)
    # get one immediate retry each, not three with growing back-off: an endpoint that is gone must
    # fail an item in about a second, so apply's circuit breaker (plan.apply_plan) can stop the run.
    return CappedRetryPolicy(retry_backoff_max=30, retry_connect=CONNECT_RETRIES, retry_read=CONNECT_RETRIES)


def _counting_policy(gateway: AzureGateway):
    """Counts the requests sent; with a shared ThrottleGate, waits on it and holds it on a 429."""
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    class _Count(SansIOHTTPPolicy):
        def on_request(self, request):
            if gateway._gate is not None:
                gateway._gate.wait()
            gateway.requests += 1
            logger.debug("%s %s", request.http_request.method, request.http_request.url.split("?")[0])

        def on_response(self, request, response):
            if gateway._gate is not None and response.http_response.status_code == 429:
                gateway._gate.hold(retry_after(response.http_response.headers.get("Retry-After", "1")))

    return _Count()


def _assignment_from_sdk(a) -> Assignment:
    return Assignment(
        id=a.id,
        name=a.name,
        scope=a.scope,
        role_definition_id=a.role_definition_id,
        principal_id=a.principal_id,
        principal_type=a.principal_type,
        description=a.description,
        condition=a.condition,
        condition_version=a.condition_version,
        created_on=a.created_on.isoformat() if getattr(a, "created_on", None) else None,
    )


def _role_from_sdk(r) -> RoleDefinition:
    return role_from_dict(r.serialize(keep_readonly=True), source="azure")


class AzureGateway:
    """Role definitions and assignments through azure-mgmt-authorization (API 2022-04-01)."""

    def __init__(self, conn: Connection, *, credential=None, transport=None, gate=None):
        self.conn = conn
        self._credential = credential
        self._transport = transport
        self._gate = gate  # a shared waits.ThrottleGate (plan.apply): a 429 pauses every worker
        self._clients: dict[str, Any] = {}  # subscription (lower case) -> SDK client
        self.requests = 0  # HTTP requests sent, counted by a pipeline policy

    @property
    def client(self):
        """The SDK client for the connection's subscription (made on first use)."""
        return self.client_for(self.conn.subscription or PLACEHOLDER_SUBSCRIPTION)

    def client_for(self, subscription: str):
        """An SDK client bound to *subscription*, configured only through its constructor (one per
        subscription, sharing the credential; no setting of a client is changed after it is made)."""
        key = subscription.lower()
        if key not in self._clients:
            from azure.mgmt.authorization.v2022_04_01 import AuthorizationManagementClient

            kwargs: dict[str, Any] = {
                "base_url": self.conn.endpoint,
                "credential_scopes": [f"{self.conn.cloud.audience}/.default"],
                "per_retry_policies": [_counting_policy(self)],
                "retry_policy": _capped_retry_policy(self),
            }
            if self.conn.ca_bundle:
                kwargs["connection_verify"] = self.conn.ca_bundle
            if self._transport is not None:
                kwargs["transport"] = self._transport
            self._clients[key] = AuthorizationManagementClient(self.credential, subscription, **kwargs)
        return self._clients[key]

    @property
    def credential(self):
        if self._credential is None:
            self._credential = make_credential(self.conn)
        return self._credential

    def _call(self, action: str, fn: Callable[[], T]) -> T:
        from azure.core.exceptions import AzureError

        try:
            return fn()
        except AzureError as e:
            raise azure_error(e, action, self.conn) from e

    # ---- role definitions
    def list_role_definitions(self, scope: str, filter: str | None = None) -> list[RoleDefinition]:  # noqa: A002
        return self._call(
            f"list role definitions at {scope}",
            lambda: [_role_from_sdk(r) for r in self.client.role_definitions.list(scope, filter=filter)],
        )

    def get_role_definition(self, scope: str, guid: str) -> RoleDefinition | None:
        """The role, or None when ARM answers 404 (unknown, or not replicated yet)."""
        from azure.core.exceptions import ResourceNotFoundError

        def call():
            try:
                return _role_from_sdk(self.client.role_definitions.get(scope, guid))
            except ResourceNotFoundError:
                return None

        return self._call(f"get role definition {guid}", call)

    def put_role_definition(self, scope: str, guid: str, role: RoleDefinition) -> RoleDefinition:
        from azure.mgmt.authorization.v2022_04_01 import models

        body = to_arm_dict(role)
        body = {"properties": {k: v for k, v in body["properties"].items()
                               if k in ("roleName", "description", "type", "permissions", "assignableScopes")}}
        sdk_role = models.RoleDefinition.deserialize(body)
        return self._call(
            f"write role definition {role.name!r}",
            lambda: _role_from_sdk(self.client.role_definitions.create_or_update(scope, guid, sdk_role)),
        )

    def delete_role_definition(self, scope: str, guid: str) -> bool:
        """True when a role was deleted, False when there was none."""
        return self._call(
            f"delete role definition {guid}",
            lambda: self.client.role_definitions.delete(scope, guid) is not None,
        )

    # ---- role assignments
    def list_role_assignments(self, scope: str, filter: str | None = None) -> list[Assignment]:  # noqa: A002
        return self._call(
            f"list role assignments at {scope}",
            lambda: [_assignment_from_sdk(a)
                     for a in self.client.role_assignments.list_for_scope(scope, filter=filter)],
        )

    def get_role_assignment(self, scope: str, name: str) -> Assignment | None:
        """The assignment *name* at *scope*, or None when ARM answers 404 (none by that name there)."""
        from azure.core.exceptions import ResourceNotFoundError

        def call():
            try:
                return _assignment_from_sdk(self.client.role_assignments.get(scope, name))
            except ResourceNotFoundError:
                return None

        return self._call(f"get role assignment {name}", call)

    def put_role_assignment(
        self,
        scope: str,
        name: str,
        *,
        role_definition_id: str,
        principal_id: str,
        principal_type: str | None,
        description: str | None = None,
        condition: str | None = None,
        condition_version: str | None = None,
    ) -> tuple[bool, Assignment]:
        """PUT an assignment; returns (created, assignment): created is False on an identical re-PUT (200)."""
        from azure.mgmt.authorization.v2022_04_01 import models

        params = models.RoleAssignmentCreateParameters(
            role_definition_id=role_definition_id,
            principal_id=principal_id,
            # Always explicit: the SDK's default is "User", which breaks service principals and groups.
            principal_type=principal_type,
            description=description,
            condition=condition,
            condition_version=condition_version,
        )

        def call():
            status, result = self.client.role_assignments.create(
                scope, name, params,
                cls=lambda response, deserialized, headers: (response.http_response.status_code, deserialized),
            )
            return status == 201, _assignment_from_sdk(result)

        return self._call(f"assign role at {scope}", call)

    def delete_role_assignment(self, assignment_id: str) -> bool:
        return self._call(
            f"delete role assignment {assignment_id}",
            lambda: self.client.role_assignments.delete_by_id(assignment_id) is not None,
        )

    # ---- other
    def list_provider_operations(self) -> list[dict]:
        return self._call(
            "list provider operations",
            lambda: [p.serialize(keep_readonly=True)
                     for p in self.client.provider_operations_metadata.list(expand="resourceTypes")],
        )

    def list_permissions(self, scope: str) -> list[dict]:
        """Effective permissions of the caller at a resource-group or resource scope."""
        from rbactool.scopes import RESOURCE, RESOURCE_GROUP, parse_scope

        s = parse_scope(scope)
        perms = self.client_for(s.subscription).permissions  # permissions are listed per subscription
        if s.kind == RESOURCE_GROUP:
            pager = lambda: perms.list_for_resource_group(s.resource_group)  # noqa: E731
        elif s.kind == RESOURCE and s.resource_group:
            namespace, pairs = s.resources[-1]
            parent = "/".join(f"{t}/{n}" for t, n in pairs[:-1])
            rtype, rname = pairs[-1]
            pager = lambda: perms.list_for_resource(  # noqa: E731
                s.resource_group, namespace, parent, rtype, rname)
        else:
            raise InputError(f"permission checks need a resource-group or resource scope, got {scope}")
        return self._call(f"list permissions at {scope}",
                          lambda: [p.serialize(keep_readonly=True) for p in pager()])

    # ---- any ARM collection (snapshot reads: subscriptions, management groups, deny assignments,
    # PIM instances) through the same pipeline: credential, retries, counting, Retry-After cap
    def get_collection(self, path: str, api_version: str, params: dict[str, str] | None = None,
                       *, limit: int = 10_000) -> list[dict]:
        """Every item of an ARM list (``value``), following ``nextLink`` (at most *limit* pages)."""
        from azure.core.exceptions import HttpResponseError
        from azure.core.rest import HttpRequest
        from azure.mgmt.core.exceptions import ARMErrorFormat

        url: str | None = f"{self.conn.endpoint.rstrip('/')}{path}"
        query: dict[str, str] | None = {"api-version": api_version, **(params or {})}
        items: list[dict] = []
        for _ in range(limit):
            if url is None:
                break
            request = HttpRequest("GET", url, params=query)

            def call(request=request):
                response = self.client._send_request(request)  # the generated client's raw-request helper
                if response.status_code >= 400:
                    raise HttpResponseError(response=response, error_format=ARMErrorFormat)
                return response.json()

            page = self._call(f"list {path}", call)
            items += page.get("value", []) if isinstance(page, dict) else []
            url = page.get("nextLink") if isinstance(page, dict) else None
            query = None  # a nextLink is absolute and carries its own query
        return items

    def get_json(self, path: str, api_version: str, params: dict[str, str] | None = None) -> dict:
        from azure.core.exceptions import HttpResponseError
        from azure.core.rest import HttpRequest
        from azure.mgmt.core.exceptions import ARMErrorFormat

        request = HttpRequest("GET", f"{self.conn.endpoint.rstrip('/')}{path}",
                              params={"api-version": api_version, **(params or {})})

        def call():
            response = self.client._send_request(request)  # the generated client's raw-request helper
            if response.status_code >= 400:
                raise HttpResponseError(response=response, error_format=ARMErrorFormat)
            return response.json()

        return self._call(f"read {path}", call)

    def caller(self) -> dict[str, Any]:
        """Who the credential resolves to, from the token's claims (the token itself is never shown)."""
        token = self._call("get an access token",
                           lambda: self.credential.get_token(f"{self.conn.cloud.audience}/.default").token)
        claims = _jwt_claims(token)
        keys = ("oid", "tid", "upn", "unique_name", "appid", "app_displayname", "name", "idtyp")
        return {k: claims[k] for k in keys if k in claims}


class GatewayPool:
    """Gateways sharing one connection and one ThrottleGate: plan and apply call the pool for a
    gateway per worker thread (``plan.per_thread``); ``requests`` counts what they all sent."""

    def __init__(self, conn: Connection, *, gate=None):
        self.conn = conn
        self.gate = gate
        self.gateways: list[AzureGateway] = []

    def __call__(self) -> AzureGateway:
        gw = AzureGateway(self.conn, gate=self.gate)
        self.gateways.append(gw)
        return gw

    @property
    def requests(self) -> int:
        return sum(g.requests for g in self.gateways)
