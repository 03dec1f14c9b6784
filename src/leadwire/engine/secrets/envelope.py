"""The sealed envelope: one secret encrypted with AES-256-GCM, naming the key that sealed it.

Layout (bytes)::

    b"lw1" | len(key id) (1 byte) | key id (ASCII) | nonce (12 bytes) | ciphertext | tag (16 bytes)

The associated data is the header (magic, key id) followed by the owner's identity, e.g.
`connection:<id>:secrets`: a ciphertext copied onto another record, or given another key id,
fails to open. The version in the magic lets a later layout coexist with this one.
"""

from __future__ import annotations

import re
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from leadwire.errors import DecodeError

MAGIC = b"lw1"
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class SecretDecodeError(DecodeError):
    """A sealed secret could not be opened: not an envelope, unknown key, or not authentic."""


class UnknownKeyError(SecretDecodeError):
    """The envelope names a key the keyring does not hold."""

    def __init__(self, message: str, *, key_id: str) -> None:
        super().__init__(message)
        self.key_id = key_id


def check_key_id(key_id: str) -> str:
    """Return `key_id` if it may name a key (1-64 of letters, digits, `_`, `.`, `-`)."""
    if not KEY_ID_PATTERN.match(key_id):
        raise ValueError(f"invalid key id {key_id!r}: use 1-64 letters, digits, '_', '.', '-'")
    return key_id


def _header(key_id: str) -> bytes:
    raw = key_id.encode("ascii")
    return MAGIC + bytes([len(raw)]) + raw


def seal_with(key_id: str, key: bytes, plaintext: bytes, owner: str) -> bytes:
    """Return `plaintext` sealed under `key` (named `key_id`) for the record `owner`."""
    header = _header(key_id)
    nonce = secrets.token_bytes(NONCE_BYTES)
    return header + nonce + AESGCM(key).encrypt(nonce, plaintext, header + owner.encode())


def read_key_id(blob: bytes, owner: str) -> str:
    """Return the id of the key that sealed `blob`, or raise `SecretDecodeError`."""
    if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 1:
        raise SecretDecodeError(f"secret of {owner}: not a leadwire envelope (no {MAGIC!r} magic)")
    size = blob[len(MAGIC)]
    start = len(MAGIC) + 1
    raw = blob[start : start + size]
    if len(raw) != size or len(blob) < start + size + NONCE_BYTES + TAG_BYTES:
        raise SecretDecodeError(f"secret of {owner}: truncated envelope")
    try:
        key_id = raw.decode("ascii")
    except UnicodeDecodeError:
        raise SecretDecodeError(f"secret of {owner}: key id is not ASCII") from None
    if not KEY_ID_PATTERN.match(key_id):
        raise SecretDecodeError(f"secret of {owner}: malformed key id")
    return key_id


def open_with(key: bytes, blob: bytes, owner: str) -> bytes:
    """Return the plaintext of `blob` sealed for `owner` under `key`, or raise.

    `SecretDecodeError` when the envelope is malformed or does not authenticate: a flipped bit,
    a ciphertext moved from another record, or the wrong key.
    """
    key_id = read_key_id(blob, owner)
    header = _header(key_id)
    nonce = blob[len(header) : len(header) + NONCE_BYTES]
    body = blob[len(header) + NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, body, header + owner.encode())
    except InvalidTag:
        raise SecretDecodeError(
            f"secret of {owner}: does not authenticate under key {key_id} "
            "(altered, copied from another record, or sealed with another key of that id)"
        ) from None
