"""The keyring: seals secrets with its active key, opens them with any key it holds.

Keys come from the key file in the data folder (created on first use) or from a settings value
(`LEADWIRE_SECRET_KEYS="kid:base64,kid:base64"`, the first one active) when several machines
must share them. A file-backed ring follows the file: when the file changes (a rotation in
another process) it reloads before sealing, and on meeting an unknown key id it reloads once
before giving up — so a long-running worker keeps reading while `leadwire keys rotate` sweeps.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from leadwire.engine.secrets.envelope import (
    UnknownKeyError,
    check_key_id,
    open_with,
    read_key_id,
    seal_with,
)
from leadwire.engine.secrets.keyfile import (
    KEY_FILE_NAME,
    Key,
    KeySet,
    decode_key_material,
    load_or_create_key_file,
    read_key_file,
)
from leadwire.settings import Settings

_FileStamp = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class _Loaded:
    keyset: KeySet
    stamp: _FileStamp | None


def _stamp(path: Path) -> _FileStamp:
    st = os.stat(path)
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def parse_key_spec(spec: str) -> KeySet:
    """Return the keys of a `kid:base64,kid:base64` value; the first one is active."""
    keys: list[Key] = []
    for position, item in enumerate(p.strip() for p in spec.split(",")):
        if not item:
            continue
        key_id, sep, material = item.partition(":")
        if not sep:
            raise ValueError(f"secret key #{position + 1}: expected 'kid:base64'")
        check_key_id(key_id.strip())
        keys.append(Key(key_id.strip(), decode_key_material(material, key_id.strip())))
    if not keys:
        raise ValueError("no secret keys given")
    return KeySet(keys[0].id, tuple(keys))


class KeyRing:
    """Data keys by id, one active; thread-safe; never shows a key in a repr or a log."""

    def __init__(self, keyset: KeySet, *, path: Path | None = None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._loaded = _Loaded(keyset, _stamp(path) if path is not None else None)

    @classmethod
    def from_file(cls, path: Path) -> KeyRing:
        """Return the ring of the key file at `path`, creating the file (0600) if missing."""
        return cls(load_or_create_key_file(path), path=path)

    @classmethod
    def from_spec(cls, spec: SecretStr | str) -> KeyRing:
        """Return a fixed ring from a `kid:base64,kid:base64` value (the first one active)."""
        raw = spec.get_secret_value() if isinstance(spec, SecretStr) else spec
        return cls(parse_key_spec(raw))

    def __repr__(self) -> str:
        source = f"file {self._path}" if self._path is not None else "settings"
        keyset = self._loaded.keyset
        return f"KeyRing(active={keyset.active!r}, keys={self.key_ids!r}, source={source!r})"

    @property
    def path(self) -> Path | None:
        """Return the key file this ring follows, or None for a ring from settings."""
        return self._path

    @property
    def active_id(self) -> str:
        """Return the id of the key that seals new secrets (after following the file)."""
        return self._current().keyset.active

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Return the ids of every key held, in the order given."""
        return tuple(k.id for k in self._loaded.keyset.keys)

    def has_key(self, key_id: str) -> bool:
        """Return whether the ring holds `key_id` (after following the file)."""
        return any(k.id == key_id for k in self._current().keyset.keys)

    def reload(self) -> None:
        """Re-read the key file now (a ring from settings has nothing to re-read)."""
        if self._path is None:
            return
        with self._lock:
            stamp = _stamp(self._path)
            self._loaded = _Loaded(read_key_file(self._path), stamp)

    def _current(self) -> _Loaded:
        loaded = self._loaded
        if self._path is not None and loaded.stamp != _stamp(self._path):
            self.reload()
            loaded = self._loaded
        return loaded

    def seal(self, plaintext: bytes, owner: str) -> bytes:
        """Return `plaintext` sealed with the active key for the record named `owner`."""
        keyset = self._current().keyset
        key = next(k for k in keyset.keys if k.id == keyset.active)
        return seal_with(key.id, key.material, plaintext, owner)

    def key_id_of(self, blob: bytes, owner: str) -> str:
        """Return the id of the key that sealed `blob`."""
        return read_key_id(blob, owner)

    def _key(self, key_id: str, owner: str) -> Key:
        for attempt in range(2):
            keys = self._loaded.keyset.keys if attempt == 0 else self._current().keyset.keys
            for key in keys:
                if key.id == key_id:
                    return key
            if self._path is None:
                break
        raise UnknownKeyError(
            f"secret of {owner}: sealed with key {key_id}, which this keyring does not hold "
            f"(it holds {', '.join(self.key_ids)}); was it retired or is the key file missing?",
            key_id=key_id,
        )

    def open(self, blob: bytes, owner: str) -> bytes:
        """Return the plaintext of `blob`, sealed for `owner`; raise `SecretDecodeError`."""
        key = self._key(read_key_id(blob, owner), owner)
        return open_with(key.material, blob, owner)


def key_file_path(settings: Settings) -> Path:
    """Return where the key file lives: `keys.json` in the data folder."""
    return settings.data_dir / KEY_FILE_NAME


def open_keyring(settings: Settings) -> KeyRing:
    """Return the keyring the settings ask for: `secret_keys` if set, else the key file."""
    if settings.secret_keys is not None:
        return KeyRing.from_spec(settings.secret_keys)
    return KeyRing.from_file(key_file_path(settings))
