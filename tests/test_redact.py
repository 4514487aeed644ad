"""Redaction: the configured token, bearer tokens and JWT-shaped strings (also split across lines)
never appear in a message or a log line, at any verbosity."""

from __future__ import annotations

import logging

import pytest
from test_azure_ops import az  # noqa: F401 (a fixture)

from rbactool.emulator.testing import emulator, emulator_server  # noqa: F401 (fixtures)
from rbactool.redact import REDACTED, redact

JWT = ("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJvaWQiOiIxMTExMTExMS0xMTExLTExMTEtMTExMS0xMTExMTExMTExMTEifQ."
       "c2lnbmF0dXJlLW9mLXRoZS10b2tlbi1zaG91bGQtbmV2ZXItYmUtc2hvd24")


def split(token: str, at: int = 40) -> str:
    return token[:at] + "\n" + token[at:]


def halves(token: str, at: int = 40) -> tuple[str, str]:
    return token[:at], token[at:]


def assert_hidden(text: str, token: str) -> None:
    for part in (token, *halves(token), *(s for s in token.split(".") if len(s) >= 16)):
        assert part not in text, part


# --------------------------------------------------------------------------- the function


@pytest.mark.parametrize("shown", [
    lambda t: f"header value: 'Bearer {split(t)}'",
    lambda t: f"header value: {'Bearer ' + split(t)!r}",  # a repr: the break escaped as \n
    lambda t: f"the token {t} is invalid",
    lambda t: f"truncated: {t[:60]}",
    lambda t: f'{{"access_token": "{t}", "expires_in": 3599}}',
    lambda t: f"Authorization: Bearer {t}",
])
def test_jwt_shaped_and_bearer_tokens_are_redacted(shown):
    text = redact(shown(JWT))
    assert REDACTED in text
    assert_hidden(text, JWT[:60] if "truncated" in text else JWT)


def test_the_configured_token_is_redacted_whole_split_or_by_halves():
    opaque = "0.AXoAv4j5cvGGr0GRqy180BHbR1Ugcx9Zq2hNmVvq3rNu7cIAA.AgABAAEAAAD--DLA3VO7QrddgJg7WevrAgDs_wUA9P9AU"
    configured = split(opaque)  # as the environment has it: a line break inside
    for text in (f"x {opaque} y", f"x {configured} y", f"x {opaque[:40]}\\n{opaque[40:]} y",
                 f"only the second half: {opaque[40:]}", f"only the first half: {opaque[:40]}"):
        out = redact(text, [configured])
        assert_hidden(out, opaque)
        assert out.startswith(("x", "only")) and REDACTED in out


def test_ordinary_text_is_left_alone():
    for text in (
        "endpoint 'http://x' must be an https:// URL (Azure sends bearer tokens only over TLS)",
        "/subscriptions/00000000-0000-0000-0000-00000000c0de/resourceGroups/ml-rg "
        "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'logs'",
        "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/score/action",
    ):
        assert redact(text, ["a-secret-value"]) == text


# --------------------------------------------------------------------------- through the CLI


@pytest.mark.parametrize("verbose", [(), ("-v",), ("-vv",)])
def test_a_token_with_a_line_break_never_appears(az, emulator, verbose):  # noqa: F811
    token = emulator.token
    r = az(*verbose, "list", "definitions", extra_env={"RBACTOOL_ACCESS_TOKEN": split(token)})
    assert r.exit_code == 3 and "RBACTOOL_ACCESS_TOKEN" in r.stderr and "line break" in r.stderr
    assert_hidden(r.stdout + r.stderr, token)
    assert emulator.requests() == []  # never sent


def test_the_sdk_error_for_a_bad_header_is_redacted_before_it_is_cut(emulator, monkeypatch):  # noqa: F811
    """What requests says of a header with a line break (the message that used to print the token)."""
    from azure.core.exceptions import ServiceResponseError

    from rbactool.azure_adapter import azure_error, connection_settings

    token = emulator.token
    monkeypatch.setenv("RBACTOOL_ACCESS_TOKEN", split(token))
    conn = connection_settings(endpoint=emulator.base_url)
    sdk = ServiceResponseError("Invalid leading whitespace, reserved character(s), or return character(s) in "
                               f"header value: {'Bearer ' + split(token)!r}")
    message = str(azure_error(sdk, "list role definitions", conn))
    assert "header value" in message and REDACTED in message
    assert_hidden(message, token)


@pytest.mark.parametrize("verbose", [(), ("-vv",)])
def test_a_jwt_in_an_arm_error_message_is_redacted(az, emulator, verbose):  # noqa: F811
    configured = emulator.token
    emulator.add_fault(method="GET", path_contains="roleDefinitions", status=400, code="BadRequest", times=0,
                       message=f"token {JWT} rejected; caller {split(configured)}; header Bearer {configured}")
    r = az(*verbose, "list", "definitions")
    assert r.exit_code == 4
    error = [line for line in r.stderr.splitlines() if line.startswith("Error: ")]
    assert len(error) == 1 and "BadRequest" in error[0] and REDACTED in error[0]
    for token in (JWT, configured):
        assert_hidden(r.stdout + r.stderr, token)


def test_usage_and_input_errors_are_redacted(az, emulator):  # noqa: F811
    r = az(JWT)  # "no such command"
    assert r.exit_code == 2 and REDACTED in r.stderr
    r = az("assign", "-i", JWT, "--role", "Reader", "--scope", az.ws)  # "--identity ... is not an object id"
    assert r.exit_code == 3 and REDACTED in r.stderr
    r = az("list", "definitions", "--cloud", JWT)  # click's own BadParameter text
    assert r.exit_code == 2
    assert JWT not in r.stdout + r.stderr and JWT.split(".")[2] not in r.stdout + r.stderr


def test_log_lines_of_rbactool_and_azure_are_redacted(monkeypatch, capsys):
    from rbactool.cli import _configure_logging

    monkeypatch.setenv("RBACTOOL_ACCESS_TOKEN", "configured-opaque-token-0123456789")
    try:
        _configure_logging(2)
        logging.getLogger("rbactool.test").info("token %s and %s", JWT, "configured-opaque-token-0123456789")
        logging.getLogger("azure.identity").debug("response: %s", {"access_token": JWT})
        try:
            raise ValueError(f"Bearer {split(JWT)}")
        except ValueError:
            logging.getLogger("azure.core").exception("failed")
    finally:
        _configure_logging(0)
    err = capsys.readouterr().err
    assert err.count(REDACTED) >= 4 and "Traceback" in err
    assert_hidden(err, JWT)
    assert "configured-opaque" not in err


# --------------------------------------------------------------------------- pieces of a secret


OPAQUE = "0.AXoAv4j5cvGGr0GRqy180BHbR1Ugcx9Zq2hNmVvq3rNu7cIAA.AgABAAEAAAD--DLA3VO7QrddgJg7WevrAgDs_wUA9P9AU"
SEPARATORS = {"zero-width-space": "\u200b", "soft-hyphen": "\u00ad", "quote": "'", "double-quote": '"', "bar": "|",
              "percent": "%", "backslash": "\\", "angle": "<", "nul": "\x00"}


def assert_no_piece(text: str, secret: str, n: int = 16) -> None:
    """No n characters in a row of *secret* appear in *text*."""
    for i in range(len(secret) - n + 1):
        assert secret[i:i + n] not in text, (secret[i:i + n], text)


@pytest.mark.parametrize("separator", list(SEPARATORS.values()), ids=list(SEPARATORS))
@pytest.mark.parametrize("at", [17, 50, len(OPAQUE) - 17])
def test_a_secret_split_by_anything_is_redacted_piece_by_piece(separator, at):
    for secret in (OPAQUE, JWT):
        text = f"caller {secret[:at]}{separator}{secret[at:]} rejected"
        out = redact(text, [secret])
        assert_no_piece(out, secret)
        assert out.startswith("caller ") and out.endswith(" rejected")


def test_any_long_substring_of_a_secret_is_redacted_wherever_it_is():
    out = redact(f"a={OPAQUE[7:40]}&b=[{OPAQUE[60:]}] c {OPAQUE[20:36]}.", [OPAQUE])
    assert_no_piece(out, OPAQUE)
    assert out.count(REDACTED) == 3 and out.startswith("a=") and out.endswith(".")
    assert redact(f"short {OPAQUE[10:25]} stays", [OPAQUE]) == f"short {OPAQUE[10:25]} stays"  # 15 characters


def test_redacting_pieces_of_a_100_kb_message_is_linear():
    import random
    import time

    rng = random.Random(11)
    noise = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789-_./ ") for _ in range(100_000))
    text = noise[:50_000] + OPAQUE[3:70] + "\u200b" + noise[50_000:]
    start = time.monotonic()
    out = redact(text, [OPAQUE])
    assert time.monotonic() - start < 5  # a hang guard only (a few milliseconds)
    assert_no_piece(out, OPAQUE)
    assert out.count(REDACTED) == 1 and len(out) > 100_000


@pytest.mark.parametrize("verbose", [(), ("-vv",)])
def test_a_configured_token_split_by_a_zero_width_space_never_appears(az, emulator, verbose):  # noqa: F811
    configured = emulator.token
    shown = configured[:50] + "\u200b" + configured[50:]
    emulator.add_fault(method="GET", path_contains="roleDefinitions", status=400, code="BadRequest", times=0,
                       message=f"caller {shown}; tail {configured[30:]}")
    r = az(*verbose, "list", "definitions")
    assert r.exit_code == 4 and REDACTED in r.stderr
    assert_no_piece(r.stdout + r.stderr, configured)
