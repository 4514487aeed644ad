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
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urlsplit

from rbactool import waits
from rbactool.arm_errors import explain
from rbactool.assignments import Assignment
from rbactool.errors import AzureOperationError, InputError
from rbactool.model import RoleDefinition, role_from_dict, to_arm_dict
from rbactool.readers import loads_json

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


#: Microsoft Graph of each cloud (``--groups``); another ARM endpoint names its own in /metadata/endpoints.
GRAPH = {"AzureCloud": "https://graph.microsoft.com", "AzureUSGovernment": "https://graph.microsoft.us",
         "AzureChinaCloud": "https://microsoftgraph.chinacloudapi.cn"}
ENV_GRAPH = "RBACTOOL_GRAPH_ENDPOINT"
_GROUP_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
GRAPH_TYPES = ["user", "group", "servicePrincipal", "device", "directoryObjectPartnerReference"]
RESOURCE_GRAPH_API = "2022-10-01"

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


def _origin(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    try:
        port = parts.port or 443
    except ValueError:
        port = -1
    return (parts.hostname or "").lower(), port


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


class AccessToken(NamedTuple):
    """azure-core's ``AccessToken`` (token, expires_on), without importing azure-core for a static token."""

    token: str
    expires_on: int


class StaticTokenCredential:
    """A TokenCredential for a bearer token given in RBACTOOL_ACCESS_TOKEN (tests and CI)."""

    def __init__(self, token: str):
        self._token = token
        exp = _jwt_claims(token).get("exp")
        self._expires_on = int(exp) if isinstance(exp, (int, float)) else int(time.time()) + 3600

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
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
    from rbactool.arm_http import one_line

    return one_line(text)


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
AUTHORIZATION = "/providers/Microsoft.Authorization"


def retry_after(value: float | str) -> float:
    """The wait rbactool accepts for a Retry-After of *value*: the one policy, at this module's cap."""
    return waits.retry_after_seconds(value, MAX_RETRY_AFTER)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _assignment_from_arm(doc: dict) -> Assignment:
    props = doc.get("properties") if isinstance(doc.get("properties"), dict) else {}
    return Assignment(
        id=_text(doc.get("id")) or "",
        name=_text(doc.get("name")) or "",
        scope=_text(props.get("scope")) or "",
        role_definition_id=_text(props.get("roleDefinitionId")) or "",
        principal_id=_text(props.get("principalId")) or "",
        principal_type=_text(props.get("principalType")),
        description=_text(props.get("description")),
        condition=_text(props.get("condition")),
        condition_version=_text(props.get("conditionVersion")),
        created_on=_text(props.get("createdOn")),
    )


_ROLE_PROPERTIES = ("roleName", "description", "type", "permissions", "assignableScopes", "createdOn", "updatedOn",
                    "createdBy", "updatedBy")
#: What API 2022-04-01 has of a permission block (its model has no condition: none is read or written).
_PERMISSION_KEYS = ("actions", "notActions", "dataActions", "notDataActions")


def _permissions(blocks: Any) -> Any:
    if not isinstance(blocks, list):
        return blocks
    return [{k: b[k] for k in _PERMISSION_KEYS if b.get(k) is not None} if isinstance(b, dict) else b for b in blocks]


def _role_from_arm(doc: dict) -> RoleDefinition:
    """A role definition as ARM answers it, with the fields of API 2022-04-01's model only."""
    props = doc.get("properties") if isinstance(doc.get("properties"), dict) else {}
    kept = {k: props[k] for k in _ROLE_PROPERTIES if props.get(k) is not None}
    if "permissions" in kept:
        kept["permissions"] = _permissions(kept["permissions"])
    top = {k: doc[k] for k in ("id", "name", "type") if doc.get(k) is not None}
    return role_from_dict({**top, "properties": kept}, source="azure")


class AzureGateway:
    """Role definitions and assignments through ARM's REST API (2022-04-01), over ``arm_http``."""

    def __init__(self, conn: Connection, *, credential=None, gate=None):
        self.conn = conn
        self._credential = credential
        self._gate = gate  # a shared waits.ThrottleGate (plan.apply): a 429 pauses every worker
        self._http = None
        self._graph = None
        self.requests = 0  # HTTP requests sent (every attempt)

    @property
    def http(self):
        """The HTTPS client (``arm_http.ArmClient``), made on first use; no connection until a request."""
        if self._http is None:
            from rbactool.arm_http import ArmClient, token_source

            gate = self._gate
            self._http = ArmClient(
                self.conn.endpoint, ca_bundle=self.conn.ca_bundle,
                token=token_source(self.credential, f"{self.conn.cloud.audience}/.default"),
                on_send=self._on_send, on_throttled=gate.hold if gate is not None else (lambda _: None),
                retry_after=retry_after, cancel=lambda: gate.cancel if gate is not None else None,
                connect_retries=CONNECT_RETRIES,
            )
        return self._http

    def _on_send(self) -> None:
        if self._gate is not None:
            self._gate.wait()
        self.requests += 1

    @property
    def credential(self):
        if self._credential is None:
            self._credential = make_credential(self.conn)
        return self._credential

    def _call(self, action: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except AzureOperationError:
            raise
        except Exception as e:
            core = sys.modules.get("azure.core.exceptions")  # loaded if the credential (azure-identity) raised it
            if core is not None and isinstance(e, core.AzureError):
                raise azure_error(e, action, self.conn) from e
            raise

    def _get(self, path: str, action: str) -> dict | None:
        status, doc = self.http.request("GET", path, action=action, not_found=True)
        return doc if status != 404 and isinstance(doc, dict) else None

    def _list(self, path: str, action: str, filter: str | None = None, **query: str) -> list[dict]:  # noqa: A002
        if filter:
            query["$filter"] = filter
        return list(self.http.pages(path, action=action, query=query))

    # ---- role definitions
    def list_role_definitions(self, scope: str, filter: str | None = None) -> list[RoleDefinition]:  # noqa: A002
        action = f"list role definitions at {scope}"
        return self._call(action, lambda: [_role_from_arm(r) for r in self._list(
            f"{scope.rstrip('/')}{AUTHORIZATION}/roleDefinitions", action, filter)])

    def get_role_definition(self, scope: str, guid: str) -> RoleDefinition | None:
        """The role, or None when ARM answers 404 (unknown, or not replicated yet)."""
        action = f"get role definition {guid}"

        def call():
            doc = self._get(f"{scope.rstrip('/')}{AUTHORIZATION}/roleDefinitions/{guid}", action)
            return _role_from_arm(doc) if doc is not None else None

        return self._call(action, call)

    def put_role_definition(self, scope: str, guid: str, role: RoleDefinition) -> RoleDefinition:
        props = to_arm_dict(role)["properties"]
        body = {"properties": {k: (_permissions(v) if k == "permissions" else v) for k, v in props.items()
                               if k in ("roleName", "description", "type", "permissions", "assignableScopes")
                               and v is not None}}
        action = f"write role definition {role.name!r}"
        return self._call(action, lambda: _role_from_arm(self.http.request(
            "PUT", f"{scope.rstrip('/')}{AUTHORIZATION}/roleDefinitions/{guid}", action=action, body=body)[1] or {}))

    def delete_role_definition(self, scope: str, guid: str) -> bool:
        """True when a role was deleted, False when there was none."""
        action = f"delete role definition {guid}"
        return self._call(action, lambda: self.http.request(
            "DELETE", f"{scope.rstrip('/')}{AUTHORIZATION}/roleDefinitions/{guid}", action=action)[0] == 200)

    # ---- role assignments
    def list_role_assignments(self, scope: str, filter: str | None = None) -> list[Assignment]:  # noqa: A002
        action = f"list role assignments at {scope}"
        return self._call(action, lambda: [_assignment_from_arm(a) for a in self._list(
            f"{scope.rstrip('/')}{AUTHORIZATION}/roleAssignments", action, filter)])

    def get_role_assignment(self, scope: str, name: str) -> Assignment | None:
        """The assignment *name* at *scope*, or None when ARM answers 404 (none by that name there)."""
        action = f"get role assignment {name}"

        def call():
            doc = self._get(f"{scope.rstrip('/')}{AUTHORIZATION}/roleAssignments/{name}", action)
            return _assignment_from_arm(doc) if doc is not None else None

        return self._call(action, call)

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
        # principalType only when given: never a default (the SDK's "User" breaks service principals and groups)
        fields = {"roleDefinitionId": role_definition_id, "principalId": principal_id, "principalType": principal_type,
                  "description": description, "condition": condition, "conditionVersion": condition_version}
        body = {"properties": {k: v for k, v in fields.items() if v is not None}}
        action = f"assign role at {scope}"

        def call():
            status, doc = self.http.request("PUT", f"{scope.rstrip('/')}{AUTHORIZATION}/roleAssignments/{name}",
                                            action=action, body=body)
            return status == 201, _assignment_from_arm(doc if isinstance(doc, dict) else {})

        return self._call(action, call)

    def delete_role_assignment(self, assignment_id: str) -> bool:
        action = f"delete role assignment {assignment_id}"
        return self._call(action, lambda: self.http.request("DELETE", assignment_id, action=action)[0] == 200)

    # ---- other
    def list_provider_operations(self) -> list[dict]:
        action = "list provider operations"
        return self._call(action, lambda: self._list(f"{AUTHORIZATION}/providerOperations", action,
                                                     **{"$expand": "resourceTypes"}))

    def list_permissions(self, scope: str) -> list[dict]:
        """Effective permissions of the caller at a resource-group or resource scope."""
        from rbactool.scopes import RESOURCE, RESOURCE_GROUP, parse_scope

        s = parse_scope(scope)
        if not (s.kind == RESOURCE_GROUP or (s.kind == RESOURCE and s.resource_group)):
            raise InputError(f"permission checks need a resource-group or resource scope, got {scope}")
        action = f"list permissions at {scope}"
        return self._call(action, lambda: [
            {k: p[k] for k in _PERMISSION_KEYS if k in p}
            for p in self._list(f"{str(s).rstrip('/')}{AUTHORIZATION}/permissions", action)])

    # ---- any ARM collection or resource (snapshot reads: subscriptions, management groups, deny
    # assignments, PIM instances) through the same client: credential, retries, counting, Retry-After cap
    def get_collection(self, path: str, api_version: str, params: dict[str, str] | None = None,
                       *, limit: int = 10_000) -> list[dict]:
        """Every item of an ARM list (``value``), following ``nextLink`` (at most *limit* pages)."""
        action = f"list {path}"
        return self._call(action, lambda: list(self.http.pages(path, action=action, query=dict(params or {}),
                                                               api_version=api_version, limit=limit)))

    def get_json(self, path: str, api_version: str, params: dict[str, str] | None = None) -> dict:
        action = f"read {path}"

        def call():
            _, doc = self.http.request("GET", path, action=action, query=dict(params or {}), api_version=api_version)
            return doc if isinstance(doc, dict) else {}

        return self._call(action, call)

    # ---- Azure Resource Graph (snapshot --source resource-graph)
    def resource_graph(self, query: str, subscriptions, skip_token: str | None) -> dict:
        """One page (at most 1,000 rows, ``objectArray``) of a Resource Graph query."""
        body: dict[str, Any] = {"query": query, "options": {"$top": 1000, "resultFormat": "objectArray"}}
        if subscriptions:
            body["subscriptions"] = list(subscriptions)
        if skip_token:
            body["options"]["$skipToken"] = skip_token
        action = "query Azure Resource Graph"

        def call():
            _, doc = self.http.request("POST", "/providers/Microsoft.ResourceGraph/resources", action=action,
                                       body=body, api_version=RESOURCE_GRAPH_API)
            return doc if isinstance(doc, dict) else {}

        return self._call(action, call)

    # ---- Microsoft Graph (snapshot --groups): names, types and group memberships
    def graph_endpoint(self) -> str:
        """$RBACTOOL_GRAPH_ENDPOINT, the cloud's Graph, or what another ARM endpoint's
        ``/metadata/endpoints`` names (as ``az cloud register`` reads it)."""
        if os.environ.get(ENV_GRAPH):
            return os.environ[ENV_GRAPH].rstrip("/")
        if self.conn.endpoint.rstrip("/") == self.conn.cloud.arm_endpoint.rstrip("/"):
            return GRAPH[self.conn.cloud.name]
        doc = self.get_json("/metadata/endpoints", "2022-09-01")
        graph = doc.get("graph") or doc.get("microsoftGraphResourceId")
        if not isinstance(graph, str) or not graph.startswith("https://"):
            raise AzureOperationError(f"{self.conn.endpoint}/metadata/endpoints names no Microsoft Graph endpoint; "
                                      f"set {ENV_GRAPH}")
        graph = graph.rstrip("/")
        # the token for it goes to that host (a static token is the same for every scope): only the
        # ARM endpoint's own host (the emulator's /msgraph) or a cloud's Graph, never one it chooses
        if graph not in GRAPH.values() and _origin(graph) != _origin(self.conn.endpoint):
            raise AzureOperationError(f"{self.conn.endpoint}/metadata/endpoints names Microsoft Graph on another "
                                      f"host; not used (set {ENV_GRAPH} to trust it)")
        return graph

    @property
    def graph(self):
        if self._graph is None:
            from rbactool.arm_http import ArmClient, token_source

            base = self.graph_endpoint()
            self._graph = ArmClient(base, ca_bundle=self.conn.ca_bundle,
                                    token=token_source(self.credential, f"{base}/.default"), on_send=self._on_send,
                                    retry_after=retry_after, connect_retries=CONNECT_RETRIES)
        return self._graph

    def graph_objects(self, ids) -> list[dict]:
        """``directoryObjects/getByIds`` for up to 1,000 object ids."""
        action = "read directory objects from Microsoft Graph"

        def call():
            _, doc = self.graph.request("POST", "/v1.0/directoryObjects/getByIds", action=action,
                                        body={"ids": list(ids), "types": GRAPH_TYPES}, api_version=None)
            value = doc.get("value") if isinstance(doc, dict) else None
            return [o for o in value or [] if isinstance(o, dict)]

        return self._call(action, call)

    def graph_members(self, group_id: str) -> list[dict]:
        """The direct members of a group (every page)."""
        action = f"read the members of group {group_id} from Microsoft Graph"
        if not _GROUP_ID.fullmatch(group_id):  # an id from an answer: never a path of its own ("../../me")
            raise AzureOperationError(f"{action}: not a group id (a GUID)")
        return self._call(action, lambda: list(self.graph.pages(
            f"/v1.0/groups/{group_id}/members", action=action, api_version=None, next_key="@odata.nextLink",
            query={"$select": "id,displayName,userPrincipalName,appDisplayName"})))

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
