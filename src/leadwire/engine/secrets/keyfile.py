"""The key file: several data keys, one active, in a 0600 JSON file in the data folder.

Format::

    {"format": 1, "active": "<key id>",
     "keys": [{"id": "<key id>", "secret": "<base64 of 32 bytes>", "created_at": "<ISO 8601>"}]}

Every change is written to a temporary 0600 file and renamed over the old one, under an
exclusive lock on a sibling `.lock` file, so a process reading the file sees the old version or
the new one, never half of one, and two changes never interleave.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import logging
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from leadwire.engine.secrets.envelope import KEY_BYTES, check_key_id

logger = logging.getLogger(__name__)

KEY_FILE_NAME = "keys.json"
FORMAT = 1


@dataclass(frozen=True, slots=True)
class Key:
    """A data key: its id and its 32 bytes (never shown in a repr)."""

    id: str
    material: bytes = field(repr=False)
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        check_key_id(self.id)
        if len(self.material) != KEY_BYTES:
            raise ValueError(f"key {self.id} must be {KEY_BYTES} bytes")


@dataclass(frozen=True, slots=True)
class KeySet:
    """The keys of a ring and which of them seals new secrets."""

    active: str
    keys: tuple[Key, ...]

    def __post_init__(self) -> None:
        ids = [k.id for k in self.keys]
        if len(set(ids)) != len(ids):
            raise ValueError("two keys share an id")
        if self.active not in ids:
            raise ValueError(f"the active key {self.active} is not among the keys")


def new_key(now: datetime | None = None) -> Key:
    """Return a fresh random key; its id sorts by creation day (`k20261127-3fa9c1`)."""
    created = now or datetime.now(UTC)
    key_id = f"k{created:%Y%m%d}-{secrets.token_hex(3)}"
    return Key(key_id, secrets.token_bytes(KEY_BYTES), created)


def decode_key_material(text: str, key_id: str) -> bytes:
    """Return the 32 bytes of a base64 (standard or URL-safe, padding optional) key."""
    padded = text.strip() + "=" * (-len(text.strip()) % 4)
    try:
        raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"key {key_id}: not base64") from None
    if len(raw) != KEY_BYTES:
        raise ValueError(f"key {key_id}: must decode to {KEY_BYTES} bytes, not {len(raw)}")
    return raw


def _to_json(keyset: KeySet) -> bytes:
    body = {
        "format": FORMAT,
        "active": keyset.active,
        "keys": [
            {
                "id": k.id,
                "secret": base64.b64encode(k.material).decode("ascii"),
                "created_at": k.created_at.isoformat() if k.created_at else None,
            }
            for k in keyset.keys
        ],
    }
    return json.dumps(body, indent=2).encode() + b"\n"


def _from_json(raw: bytes, path: Path) -> KeySet:
    try:
        body = json.loads(raw)
        keys = tuple(
            Key(
                str(item["id"]),
                decode_key_material(str(item["secret"]), str(item["id"])),
                datetime.fromisoformat(item["created_at"]) if item.get("created_at") else None,
            )
            for item in body["keys"]
        )
        return KeySet(str(body["active"]), keys)
    except (ValueError, KeyError, TypeError) as exc:
        # The message names the file and the problem, never a key's bytes.
        raise ValueError(f"key file {path} is invalid: {exc}") from None


def read_key_file(path: Path) -> KeySet:
    """Return the keys in `path`, tightening its mode to 0600 if someone loosened it."""
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        path.chmod(0o600)
        logger.warning("secrets.key_file mode was %o; set to 600 path=%s", mode, path)
    return _from_json(path.read_bytes(), path)


def _write_new(path: Path, keyset: KeySet) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(_to_json(keyset))
        out.flush()
        os.fsync(out.fileno())


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")


def load_or_create_key_file(path: Path) -> KeySet:
    """Return the keys in `path`, creating the file with one fresh key on first use.

    The new file is written whole under a temporary name, then linked into place (which fails
    if the name exists): a racing process sees no file or a complete one, and one file wins.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        keyset = KeySet((key := new_key()).id, (key,))
        temporary = _temporary(path)
        try:
            _write_new(temporary, keyset)
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process created it first: use theirs
        else:
            _sync_dir(path.parent)
            logger.info("secrets.key_file created path=%s key_id=%s", path, key.id)
        finally:
            temporary.unlink(missing_ok=True)
    return read_key_file(path)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def update_key_file(path: Path, change: Callable[[KeySet], KeySet]) -> KeySet:
    """Apply `change` to the keys in `path` atomically; return the new keys."""
    with _locked(path):
        keyset = change(load_or_create_key_file(path))
        temporary = _temporary(path)
        try:
            _write_new(temporary, keyset)
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
        _sync_dir(path.parent)
    return keyset


def add_active_key(path: Path) -> Key:
    """Add a fresh key to the file and make it the active one; return it."""
    key = new_key()
    update_key_file(path, lambda ks: KeySet(key.id, (*ks.keys, key)))
    logger.info("secrets.key_added key_id=%s path=%s", key.id, path)
    return key


def drop_keys(path: Path, key_ids: set[str]) -> None:
    """Remove the keys `key_ids` from the file (never the active one)."""

    def without(ks: KeySet) -> KeySet:
        if ks.active in key_ids:
            raise ValueError(f"the active key {ks.active} cannot be retired")
        return KeySet(ks.active, tuple(k for k in ks.keys if k.id not in key_ids))

    update_key_file(path, without)
    logger.info("secrets.keys_retired key_ids=%s path=%s", ",".join(sorted(key_ids)), path)
