"""Secrets at rest: AES-256-GCM envelopes naming their key, a keyring, and online rotation.

`KeyRing` (keyring.py) seals and opens; `open_keyring(settings)` returns the one the settings
ask for. `rotate`, `sweep` and `key_usage` (rotation.py) re-seal what `SEALED_COLUMNS`
(columns.py) lists. A secret that cannot be opened raises `SecretDecodeError`, a `DecodeError`.
"""

from leadwire.engine.secrets.columns import SEALED_COLUMNS
from leadwire.engine.secrets.envelope import SecretDecodeError, UnknownKeyError
from leadwire.engine.secrets.keyring import KeyRing, key_file_path, open_keyring
from leadwire.engine.secrets.rotation import (
    KeyUsage,
    RotationReport,
    SealedColumn,
    SweepReport,
    key_usage,
    rotate,
    sweep,
)

__all__ = [
    "SEALED_COLUMNS",
    "KeyRing",
    "KeyUsage",
    "RotationReport",
    "SealedColumn",
    "SecretDecodeError",
    "SweepReport",
    "UnknownKeyError",
    "key_file_path",
    "key_usage",
    "open_keyring",
    "rotate",
    "sweep",
]
