"""The keyring: its 0600 file made once, keys from settings, following the file, never shown."""

from __future__ import annotations

import base64
import json
import logging
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import SecretStr

from leadwire.engine.secrets import KeyRing, UnknownKeyError, key_file_path, open_keyring
from leadwire.engine.secrets.keyfile import add_active_key, drop_keys, read_key_file
from tests.conftest import make_settings

KEY_A = base64.b64encode(bytes(range(32))).decode()
KEY_B = base64.urlsafe_b64encode(bytes(range(100, 132))).decode().rstrip("=")
OWNER = "connection:cn_1:secrets"


def _materials(path: Path) -> list[str]:
    return [k["secret"] for k in json.loads(path.read_text())["keys"]]


def test_the_key_file_is_made_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "data" / "keys.json"
    with ThreadPoolExecutor(8) as pool:
        rings = list(pool.map(lambda _: KeyRing.from_file(path), range(8)))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len({r.active_id for r in rings}) == 1  # every racer uses the one file made
    assert len(_materials(path)) == 1
    sealed = rings[0].seal(b"x", OWNER)
    assert all(r.open(sealed, OWNER) == b"x" for r in rings)


def test_a_loosened_key_file_is_tightened_and_said_without_the_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "keys.json"
    KeyRing.from_file(path)
    path.chmod(0o644)
    with caplog.at_level(logging.DEBUG):
        KeyRing.from_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "mode was 644" in caplog.text
    assert _materials(path)[0] not in caplog.text


def test_open_keyring_uses_the_file_in_the_data_folder(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    ring = open_keyring(settings)
    assert ring.path == key_file_path(settings) == tmp_path / "keys.json"
    assert open_keyring(settings).active_id == ring.active_id


def test_open_keyring_prefers_keys_from_settings(tmp_path: Path) -> None:
    # Settings has no `secret_keys` field yet; a copy carrying the attribute stands in for it.
    settings = make_settings(tmp_path).model_copy(
        update={"secret_keys": SecretStr(f"new:{KEY_B}, old:{KEY_A}")}
    )
    ring = open_keyring(settings)
    assert ring.path is None
    assert ring.active_id == "new"
    assert ring.key_ids == ("new", "old")
    assert not (tmp_path / "keys.json").exists()


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("", "no secret keys"),
        (KEY_A, "expected 'kid:base64'"),
        ("a b:" + KEY_A, "invalid key id"),
        ("a:not base64!", "key a: not base64"),
        ("a:" + base64.b64encode(b"short").decode(), "must decode to 32 bytes"),
        (f"a:{KEY_A},a:{KEY_B}", "two keys share an id"),
    ],
)
def test_bad_key_specs_are_refused_without_echoing_keys(spec: str, says: str) -> None:
    with pytest.raises(ValueError, match=says) as info:
        KeyRing.from_spec(spec)
    assert KEY_A not in str(info.value)
    assert KEY_B not in str(info.value)


def test_reprs_never_show_key_material(tmp_path: Path) -> None:
    ring = KeyRing.from_spec(SecretStr(f"ka:{KEY_A},kb:{KEY_B}"))
    file_ring = KeyRing.from_file(tmp_path / "keys.json")
    shown = " ".join(
        [repr(ring), str(ring), repr(file_ring), repr(read_key_file(tmp_path / "keys.json"))]
    )
    assert "ka" in shown
    assert "kb" in shown
    for material in (KEY_A, KEY_B, *_materials(tmp_path / "keys.json")):
        assert material not in shown


def test_a_ring_follows_its_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    worker = KeyRing.from_file(path)  # a long-running process
    operator = KeyRing.from_file(path)
    old = worker.active_id
    new = add_active_key(path).id
    # The worker seals with the new key at once, and opens what others sealed with it.
    assert worker.active_id == new
    assert worker.key_id_of(worker.seal(b"x", OWNER), OWNER) == new
    operator.reload()
    assert operator.open(worker.seal(b"y", OWNER), OWNER) == b"y"
    old_sealed = KeyRing.from_file(path).seal(b"z", OWNER)
    assert worker.open(old_sealed, OWNER) == b"z"
    with pytest.raises(ValueError, match="cannot be retired"):
        drop_keys(path, {new})
    drop_keys(path, {old})
    assert not worker.has_key(old)
    assert worker.key_ids == (new,)


def test_a_fixed_ring_does_not_guess_at_unknown_keys() -> None:
    ring = KeyRing.from_spec(f"ka:{KEY_A}")
    other = KeyRing.from_spec(f"kb:{KEY_B}")
    with pytest.raises(UnknownKeyError, match="it holds ka"):
        ring.open(other.seal(b"x", OWNER), OWNER)
