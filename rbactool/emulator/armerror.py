"""ARM error responses: ``{"error": {"code": ..., "message": ...}}`` with a status code.

Handlers raise :class:`ArmError`; the server turns it into the JSON body the SDK parses
(``e.error.code``). Messages follow the specification (arm-emulator-spec.md) word for word,
including ARM's own typos.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(eq=False)
class ArmError(Exception):
    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message}}


def dashless(oid: str) -> str:
    return oid.replace("-", "")


# --- request level -------------------------------------------------------------------------


def missing_api_version() -> ArmError:
    return ArmError(
        400, "MissingApiVersionParameter",
        "The api-version query parameter (?api-version=) is required for all requests.",
    )


def invalid_api_version(version: str, supported: tuple[str, ...]) -> ArmError:
    return ArmError(
        400, "InvalidApiVersionParameter",
        f"The api-version '{version}' is invalid. The supported versions are '{','.join(supported)}'.",
    )


def invalid_request_content(detail: str) -> ArmError:
    return ArmError(
        400, "InvalidRequestContent", f"The request content was invalid and could not be deserialized: {detail}"
    )


def invalid_filter(expr: str) -> ArmError:
    return ArmError(400, "InvalidFilter", f"The filter '{expr}' is not supported.")


def unknown_route(method: str, path: str) -> ArmError:
    return ArmError(
        404, "InvalidResourceType",
        f"The resource type could not be found for the request {method} '{path}'.",
    )


def method_not_allowed(method: str) -> ArmError:
    return ArmError(405, "MethodNotAllowed", f"The HTTP method '{method}' is not supported for this resource.")


def body_too_large(limit: int) -> ArmError:
    return ArmError(
        413, "RequestEntityTooLarge", f"The request content exceeds the maximum allowed size of {limit} bytes."
    )


def internal_error() -> ArmError:
    return ArmError(500, "InternalServerError", "The emulator hit an internal error; see its log.")


def throttled(kind: str, retry_after: int) -> ArmError:
    return ArmError(
        429, "TooManyRequests",
        f"The request is being throttled as the limit has been reached for operation type - {kind}. "
        "For more information, see - https://aka.ms/armthrottling",
        {"Retry-After": str(retry_after)},
    )


# --- authentication and authorization -------------------------------------------------------


def missing_token() -> ArmError:
    return ArmError(
        401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.",
        {"WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common", '
                             'error="invalid_token", error_description="The authentication failed because of '
                             'missing \'Authorization\' header."'},
    )


def invalid_token() -> ArmError:
    return ArmError(
        401, "InvalidAuthenticationToken", "The access token is invalid.",
        {"WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common", '
                             'error="invalid_token", error_description="The access token is invalid."'},
    )


def authorization_failed(caller: str, action: str, scope: str) -> ArmError:
    return ArmError(
        403, "AuthorizationFailed",
        f"The client '{caller}' with object id '{caller}' does not have authorization to perform action "
        f"'{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, "
        "please refresh your credentials.",
    )


def linked_authorization_failed(caller: str, action: str, scope: str, linked: list[str]) -> ArmError:
    return ArmError(
        403, "LinkedAuthorizationFailed",
        f"The client '{caller}' with object id '{caller}' has permission to perform action '{action}' on scope "
        f"'{scope}'; however, it does not have permission to perform action '{action}' on the linked "
        f"scope(s)'{','.join(linked)}' or the linked scope(s)are invalid",
    )


# --- role definitions ----------------------------------------------------------------------


def role_definition_not_found(guid: str) -> ArmError:
    return ArmError(
        404, "RoleDefinitionDoesNotExist", f"The specified role definition with ID '{guid}' does not exist."
    )
