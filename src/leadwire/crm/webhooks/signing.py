"""The CRM's webhook signing keys, and signature checks for receivers.

HighLevel signs the raw request body twice (WebhookIntegrationGuide, WebhookAuthentication):
`x-wh-signature` is RSA-SHA256 (PKCS#1 v1.5), base64 — the legacy scheme, deprecated by
HighLevel from July 2026 — and `x-ghl-signature` is Ed25519, base64 — the current one. We send
both. The private keys live in one PEM file in the data folder, mode 0600, created on first
start; they are never stored in the database and never logged. Each public key is served as PEM
(`GET /webhooks/public-key` for RSA, `.../ed25519` for Ed25519).
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
import stat
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

log = logging.getLogger(__name__)

KEY_FILE = "crm-webhook-signing.pem"
RSA_HEADER = "x-wh-signature"
ED25519_HEADER = "x-ghl-signature"
# HighLevel's own RSA key is 4096 bits; 2048 is still sound and signs ~7x faster per delivery.
RSA_BITS = 2048
_PEM_BLOCK = re.compile(rb"-----BEGIN PRIVATE KEY-----.+?-----END PRIVATE KEY-----\s*", re.S)


class Scheme(StrEnum):
    """The two signature schemes, named by their algorithm."""

    RSA = "rsa"
    ED25519 = "ed25519"


@dataclass(frozen=True)
class SigningKeys:
    """The CRM's two private keys; the repr never shows them."""

    rsa_key: rsa.RSAPrivateKey = field(repr=False)
    ed25519_key: ed25519.Ed25519PrivateKey = field(repr=False)

    def signature_headers(self, body: bytes) -> dict[str, str]:
        """Return both signature headers for `body`, exactly the bytes that will be sent."""
        rsa_sig = self.rsa_key.sign(body, padding.PKCS1v15(), hashes.SHA256())
        ed_sig = self.ed25519_key.sign(body)
        return {
            RSA_HEADER: base64.b64encode(rsa_sig).decode("ascii"),
            ED25519_HEADER: base64.b64encode(ed_sig).decode("ascii"),
        }

    def public_pem(self, scheme: Scheme = Scheme.RSA) -> str:
        """Return the public key of `scheme` as a SubjectPublicKeyInfo PEM."""
        key = self.rsa_key if scheme is Scheme.RSA else self.ed25519_key
        return (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )


def generate_keys() -> SigningKeys:
    """Return a fresh pair of signing keys."""
    return SigningKeys(
        rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS),
        ed25519.Ed25519PrivateKey.generate(),
    )


def _to_pem(keys: SigningKeys) -> bytes:
    encoding, fmt = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8
    none = serialization.NoEncryption()
    return keys.rsa_key.private_bytes(encoding, fmt, none) + keys.ed25519_key.private_bytes(
        encoding, fmt, none
    )


def _from_pem(data: bytes, path: Path) -> SigningKeys:
    rsa_key: rsa.RSAPrivateKey | None = None
    ed_key: ed25519.Ed25519PrivateKey | None = None
    for block in _PEM_BLOCK.findall(data):
        key = serialization.load_pem_private_key(block, password=None)
        if isinstance(key, rsa.RSAPrivateKey):
            rsa_key = key
        elif isinstance(key, ed25519.Ed25519PrivateKey):
            ed_key = key
    if rsa_key is None or ed_key is None:
        raise ValueError(f"{path} must hold one RSA and one Ed25519 private key (PKCS#8 PEM)")
    return SigningKeys(rsa_key, ed_key)


def _write_new(path: Path, data: bytes) -> bool:
    """Write `data` to `path` with mode 0600 unless it exists; return whether we wrote it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        # A hard link never replaces an existing file: of two processes starting at once,
        # exactly one key file wins and both use it.
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)
    return True


def load_or_create_keys(data_dir: Path) -> SigningKeys:
    """Return the keys kept in `data_dir`, generating and saving them (0600) on first use."""
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        if _write_new(path, _to_pem(generate_keys())):
            log.info("crm.webhook_keys_created path=%s", path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        path.chmod(0o600)
        log.warning("crm.webhook_keys_permissions_fixed path=%s was=%o", path, mode)
    return _from_pem(path.read_bytes(), path)


def verify_signature(public_key_pem: str | bytes, body: bytes, signature: str) -> bool:
    """Tell whether `signature` (base64) signs `body` under the RSA or Ed25519 PEM public key.

    The scheme follows from the key: RSA keys check `x-wh-signature` (RSA-SHA256, PKCS#1 v1.5),
    Ed25519 keys check `x-ghl-signature`. Verify the raw body as received, never a re-encoding.
    """
    pem = public_key_pem.encode("ascii") if isinstance(public_key_pem, str) else public_key_pem
    try:
        raw = base64.b64decode(signature, validate=True)
        key = serialization.load_pem_public_key(pem)
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(raw, body, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(raw, body)
        else:
            return False
    except (InvalidSignature, ValueError, binascii.Error, TypeError):
        return False
    return True
