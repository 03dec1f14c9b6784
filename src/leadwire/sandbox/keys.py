"""Secrets of the sandbox: its master key, and subscription keys sealed under it.

A subscription's `cryptographic_key` must be shown to its owner on every read (the spec returns
it from get and list too), so it cannot be stored as a hash. It is sealed with AES-256-GCM under
a master key that lives in a 0600 file in the data folder, never in the database: a copy of the
database alone reveals no subscription key. The subscription id is the associated data, so a
sealed key cannot be moved onto another subscription.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from leadwire.settings import Settings

log = logging.getLogger(__name__)

MASTER_KEY_FILE = "sandbox-master.key"
KEY_BYTES = 32
_NONCE_BYTES = 12


def master_key_path(settings: Settings) -> Path:
    """Return where the sandbox's master key lives."""
    return settings.data_dir / MASTER_KEY_FILE


def load_master_key(settings: Settings) -> bytes:
    """Return the master key, creating it (mode 0600, exclusively) on first use."""
    path = master_key_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)
    with os.fdopen(fd, "wb") as out:
        out.write(base64.b64encode(secrets.token_bytes(KEY_BYTES)) + b"\n")
        out.flush()
        os.fsync(out.fileno())
    log.info("sandbox.master_key created path=%s", path)
    return _read(path)


def _read(path: Path) -> bytes:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        # Someone loosened it; a key file readable by others defeats its purpose.
        path.chmod(0o600)
        log.warning("sandbox.master_key permissions were %o; set to 600 path=%s", mode, path)
    key = base64.b64decode(path.read_bytes().strip(), validate=True)
    if len(key) != KEY_BYTES:
        raise ValueError(f"{path} does not hold a {KEY_BYTES}-byte base64 key")
    return key


def new_subscription_key() -> str:
    """Return a fresh 32-byte key as standard base64 without padding, as Pinterest shows it."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii").rstrip("=")


def seal(master: bytes, subscription_id: str, key_b64: str) -> bytes:
    """Return the subscription key encrypted under the master key (nonce | ciphertext | tag)."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    return nonce + AESGCM(master).encrypt(nonce, key_b64.encode("ascii"), subscription_id.encode())


def unseal(master: bytes, subscription_id: str, sealed: bytes) -> str:
    """Return the subscription key sealed by `seal` for this subscription."""
    nonce, body = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
    return AESGCM(master).decrypt(nonce, body, subscription_id.encode()).decode("ascii")


def export_token(master: bytes, export_id: str) -> str:
    """Return the download token of a leads export: derived, so it need not be stored."""
    digest = hmac.new(master, f"leads-export:{export_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def hash_secret(value: str) -> bytes:
    """Return the SHA-256 of a random secret (tokens, codes, app secrets: 128+ random bits)."""
    return hashlib.sha256(value.encode("utf-8")).digest()
