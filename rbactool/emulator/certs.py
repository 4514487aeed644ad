"""A throwaway local certificate authority and a server certificate for the emulator.

Created on first start in the state directory and reused afterwards: ``ca.pem`` (what clients
trust: ``RBACTOOL_CA_BUNDLE``, ``REQUESTS_CA_BUNDLE`` or ``connection_verify=``), ``server.pem``
(leaf chain) and ``server-key.pem``. The leaf is valid for ``localhost``, ``127.0.0.1`` and ``::1``.
A real CA plus a leaf (rather than one self-signed leaf) is what strict X.509 verification
(Python >= 3.13's ``VERIFY_X509_STRICT``) accepts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import logging
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from rbactool.errors import InputError

logger = logging.getLogger(__name__)

CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
CERT_FILE = "server.pem"
KEY_FILE = "server-key.pem"
_VALIDITY = dt.timedelta(days=825)
_RENEW_BEFORE = dt.timedelta(days=7)


@dataclass(frozen=True)
class CertPaths:
    ca: Path
    cert: Path
    key: Path


def ensure_certificates(state_dir: str | os.PathLike) -> CertPaths:
    """Return the certificate paths in *state_dir*, creating them when missing or near expiry."""
    d = Path(state_dir)
    paths = CertPaths(d / CA_FILE, d / CERT_FILE, d / KEY_FILE)
    if all(p.is_file() for p in (paths.ca, paths.cert, paths.key)) and _still_valid(paths.cert):
        return paths
    try:
        d.mkdir(parents=True, exist_ok=True)
        with _dir_lock(d):
            # Another emulator may have created them while this one waited for the lock.
            if not (all(p.is_file() for p in (paths.ca, paths.cert, paths.key)) and _still_valid(paths.cert)):
                _generate(d, paths)
    except OSError as e:
        raise InputError(f"cannot write the emulator's certificates in {d}: {e.strerror or e}") from e
    logger.info("created a local CA and server certificate in %s", d)
    return paths


@contextlib.contextmanager
def _dir_lock(d: Path):
    """An exclusive lock on the state directory while certificates are written (POSIX; no-op elsewhere)."""
    try:
        import fcntl
    except ImportError:  # Windows: no concurrent starts expected
        yield
        return
    fd = os.open(d / ".lock", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def server_context(paths: CertPaths) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(str(paths.cert), str(paths.key))
    except (OSError, ssl.SSLError) as e:
        raise InputError(f"cannot load the emulator's certificate {paths.cert}: {e}") from e
    return ctx


def _still_valid(cert_path: Path) -> bool:
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError):
        return False
    return cert.not_valid_after_utc - _RENEW_BEFORE > dt.datetime.now(dt.timezone.utc)


def _write(path: Path, data: bytes, private: bool = False) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    Path(tmp).replace(path)


def _generate(d: Path, paths: CertPaths) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rbactool emulator local CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + _VALIDITY)
        .add_extension(
            x509.SubjectAlternativeName([
                x509.DNSName("localhost"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.IPAddress(ipaddress.ip_address("::1")),
            ]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    pkcs8 = serialization.PrivateFormat.PKCS8
    none = serialization.NoEncryption()
    _write(d / CA_KEY_FILE, ca_key.private_bytes(pem, pkcs8, none), private=True)
    _write(paths.key, key.private_bytes(pem, pkcs8, none), private=True)
    _write(paths.cert, leaf.public_bytes(pem) + ca.public_bytes(pem))
    _write(paths.ca, ca.public_bytes(pem))
