"""``GET /metadata/endpoints``: the cloud description that ARM serves anonymously.

Clients read it to learn where to sign in and which audiences to ask for:
``az cloud register --endpoint-resource-manager URL`` (api-version 2022-09-01; parsed by
azure-cli's ``_arm_to_cli_mapper``), ``ARM_CLOUD_METADATA_URL`` (a list of clouds, as ARM answers
for api-version 2019-05-01 and older dated versions) and msrestazure's
``get_cloud_from_metadata_endpoint`` (api-version 2015-01-01, the flat older shape).

Every address points at the emulator itself: the fake Entra ID is the login endpoint, the ARM
audience is the emulator's base URL, and Microsoft Graph is the stand-in under ``/msgraph/``.
Suffixes use the reserved ``.invalid`` domain, so a client that builds a data-plane host name from
them can never reach a real service.
"""

from __future__ import annotations

from typing import Any

from rbactool.emulator.graph import PREFIX as GRAPH_PREFIX

CLOUD_NAME = "RbactoolEmulator"
SUFFIX = "emulator.invalid"
#: api-versions for which ARM answers with a list of clouds
_LIST_VERSIONS = ("2019-05-01", "2018-01-01", "2017-12-01")
_LEGACY_VERSIONS = ("2015-01-01",)


def _document(base: str) -> dict[str, Any]:
    root = base.rstrip("/") + "/"
    graph = f"{base.rstrip('/')}{GRAPH_PREFIX}/"
    return {
        "name": CLOUD_NAME,
        "portal": root,
        "authentication": {
            "loginEndpoint": root,
            "audiences": [root],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "resourceManager": root,
        "microsoftGraphResourceId": graph,
        "graph": graph,
        "graphAudience": graph,
        "activeDirectoryDataLake": f"https://datalake.{SUFFIX}/",
        "batch": f"https://batch.{SUFFIX}/",
        "gallery": f"https://gallery.{SUFFIX}/",
        "media": f"https://media.{SUFFIX}/",
        "sqlManagement": f"https://sqlmanagement.{SUFFIX}/",
        "vmImageAliasDoc": f"https://aliases.{SUFFIX}/aliases.json",
        "appInsightsResourceId": f"https://appinsights.{SUFFIX}/",
        "appInsightsTelemetryChannelResourceId": f"https://telemetry.{SUFFIX}/",
        "attestationResourceId": f"https://attestation.{SUFFIX}/",
        "synapseAnalyticsResourceId": f"https://synapse.{SUFFIX}/",
        "logAnalyticsResourceId": f"https://loganalytics.{SUFFIX}/",
        "ossrdbmsResourceId": f"https://ossrdbms.{SUFFIX}/",
        "suffixes": {
            "acrLoginServer": f"azurecr.{SUFFIX}",
            "attestationEndpoint": f"attest.{SUFFIX}",
            "azureDataLakeAnalyticsCatalogAndJob": f"datalakeanalytics.{SUFFIX}",
            "azureDataLakeStoreFileSystem": f"datalakestore.{SUFFIX}",
            "keyVaultDns": f"vault.{SUFFIX}",
            "mhsmDns": f"managedhsm.{SUFFIX}",
            "mysqlServerEndpoint": f"mysql.{SUFFIX}",
            "postgresqlServerEndpoint": f"postgres.{SUFFIX}",
            "mariadbServerEndpoint": f"mariadb.{SUFFIX}",
            "sqlServerHostname": f"database.{SUFFIX}",
            "storage": f"storage.{SUFFIX}",
            "storageSyncEndpointSuffix": f"afs.{SUFFIX}",
            "synapseAnalytics": f"synapse.{SUFFIX}",
        },
    }


def metadata_endpoints(base: str, api_version: str | None) -> Any:
    """The metadata document for *api_version* (any version is answered; unknown ones get the current shape)."""
    doc = _document(base)
    if api_version in _LEGACY_VERSIONS:
        return {
            "galleryEndpoint": doc["gallery"],
            "graphEndpoint": doc["graph"],
            "portalEndpoint": doc["portal"],
            "authentication": doc["authentication"],
        }
    if api_version in _LIST_VERSIONS:
        return [doc]
    return doc


def instance_discovery(base: str, tenant: str, authorization_endpoint: str | None) -> dict[str, Any]:
    """``GET /common/discovery/instance``: for MSAL clients given this emulator as their discovery URL.

    az and azure-identity always ask ``login.microsoftonline.com`` for this unless instance discovery
    is turned off (``az config set core.instance_discovery=false``; ``disable_instance_discovery=True``),
    so they never reach this route: it is here for MSAL apps that pass ``instance_discovery=<url>``.
    """
    host = base.split("://", 1)[-1].rstrip("/")
    path_tenant = tenant
    if authorization_endpoint and authorization_endpoint.lower().startswith(base.lower() + "/"):
        first = authorization_endpoint[len(base) + 1:].split("/", 1)[0]
        if first and len(first) <= 128:
            path_tenant = first
    return {
        "tenant_discovery_endpoint": f"{base}/{path_tenant}/v2.0/.well-known/openid-configuration",
        "api-version": "1.1",
        "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
    }
