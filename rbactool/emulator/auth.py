"""Bearer tokens: the static test token, reading the caller's ``oid``, the fake Entra endpoints.

Tokens are unsigned JWT-shaped strings (``b64url(header).b64url(claims).``). Nothing is verified:
the emulator only needs a caller identity. Tokens are never logged.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from urllib.parse import parse_qs

from rbactool.emulator.armerror import invalid_token, missing_token
from rbactool.emulator.config import DEFAULT_CALLER
from rbactool.errors import InputError
from rbactool.readers import loads_json

#: Client ids of the fake token endpoint map to object ids in this namespace.
_OID_NAMESPACE = uuid.UUID("6f1c3d1e-6a0e-4c8e-9a57-7262616374f1")


def _b64(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def make_token(oid: str, tenant_id: str, lifetime_s: int = 24 * 3600, *, issued_at: int | None = None,
               **claims: str) -> str:
    now = int(time.time()) if issued_at is None else issued_at
    body = {
        "aud": "https://management.azure.com", "iss": f"https://sts.windows.net/{tenant_id}/",
        "iat": now, "nbf": now, "exp": now + lifetime_s, "oid": oid, "tid": tenant_id, "sub": oid, **claims,
    }
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(body)}.emulator"


def static_token(tenant_id: str) -> str:
    """The token ``rbactool emulator`` prints (caller: the default caller object id)."""
    # Fixed times (2023-11-14 .. 2100-01-01) so the printed token is the same on every start.
    return make_token(DEFAULT_CALLER, tenant_id, lifetime_s=4102444800 - 1700000000, issued_at=1700000000)


def oid_for_client(client_id: str) -> str:
    return str(uuid.uuid5(_OID_NAMESPACE, client_id.lower()))


def caller_from_header(header: str | None, required_token: str | None) -> str:
    """The caller's object id from an ``Authorization`` header; raises a 401 ArmError."""
    if header is None or not header.strip():
        raise missing_token()
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer":
        raise invalid_token()
    if not token:  # "Bearer" with nothing after it counts as missing (spec section 2)
        raise missing_token()
    if required_token is not None and token != required_token:
        raise invalid_token()
    return _claims(token).get("oid") or DEFAULT_CALLER


def _claims(token: str) -> dict:
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = loads_json(base64.urlsafe_b64decode(payload).decode("utf-8"), "token", duplicates=False)
    except (ValueError, UnicodeDecodeError, InputError):
        return {}
    return claims if isinstance(claims, dict) else {}


# ------------------------------------------------------------------------ fake Entra ID


def openid_configuration(base_url: str, tenant: str) -> dict:
    issuer = f"{base_url}/{tenant}/v2.0"
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{base_url}/{tenant}/oauth2/v2.0/authorize",
        "token_endpoint": f"{base_url}/{tenant}/oauth2/v2.0/token",
        "device_authorization_endpoint": f"{base_url}/{tenant}/oauth2/v2.0/devicecode",
        "jwks_uri": f"{base_url}/{tenant}/discovery/v2.0/keys",
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
    }


def token_response(form_body: bytes, tenant_id: str) -> tuple[int, dict]:
    """Answer a client-credentials token request (any secret is accepted)."""
    form = {k: v[0] for k, v in parse_qs(form_body.decode("utf-8", "replace")).items()}
    client_id = form.get("client_id")
    if form.get("grant_type") != "client_credentials" or not client_id:
        return 400, {
            "error": "unsupported_grant_type" if client_id else "invalid_request",
            "error_description": "The emulator supports the client_credentials grant with a client_id.",
        }
    if not (form.get("client_secret") or form.get("client_assertion")):
        return 401, {"error": "invalid_client", "error_description": "A client secret or assertion is required."}
    token = make_token(oid_for_client(client_id), tenant_id, lifetime_s=3600, appid=client_id)
    return 200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}


