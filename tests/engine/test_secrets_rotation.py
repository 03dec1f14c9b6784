"""Key rotation online: readers never fail, everything ends on the new key, counts are right."""

from __future__ import annotations

import base64
import json
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from leadwire.cli.keys import app as keys_cli
from leadwire.engine.connections import (
    ConnectionSecrets,
    ContactsConfig,
    add_connection,
    load_credentials,
)
from leadwire.engine.secrets import SEALED_COLUMNS, KeyRing, key_usage, rotate, sweep
from leadwire.engine.secrets.keyfile import add_active_key
from leadwire.engine.secrets.rotation import count_by_key
from leadwire.settings import Settings
from leadwire.store.app import AppStore
from leadwire.store.models.connections import ConnectionRow

runner = CliRunner()
KEY_OLD = base64.b64encode(bytes(range(32))).decode()
KEY_NEW = base64.b64encode(bytes(range(50, 82))).decode()


def _add(store: AppStore, ring: KeyRing, count: int) -> dict[str, str]:
    """Add `count` contacts connections; return their API keys by connection id."""
    keys: dict[str, str] = {}
    with store.sessions() as session:
        for n in range(count):
            key = f"pit-secret-{n:04d}"
            connection = add_connection(
                session,
                ring,
                name=f"crm {n}",
                config=ContactsConfig(base_url="http://127.0.0.1:1", location_id=f"loc{n}"),
                values=ConnectionSecrets(api_key=key),
            )
            keys[connection.id] = key
        session.commit()
    return keys


def _key_ids(store: AppStore) -> set[str]:
    with store.read_sessions() as session:
        return set(session.scalars(select(ConnectionRow.secrets_key_id)))


def test_rotation_is_online(app_store: AppStore, tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    ring = KeyRing.from_file(path)
    old = ring.active_id
    keys = _add(app_store, ring, 60)
    reader_ring = KeyRing.from_file(path)  # a worker that started before the rotation
    done = threading.Event()
    reads = [0]
    seen: set[str] = set()
    errors: list[BaseException] = []

    def read_forever() -> None:
        try:
            while not done.is_set():
                for connection_id, key in keys.items():
                    credentials = load_credentials(app_store, reader_ring, connection_id)
                    assert credentials.secrets.api_key == key
                    seen.add(credentials.connection.key_id)
                    reads[0] += 1
        except BaseException as exc:
            errors.append(exc)

    def wait_for_a_full_pass(_label: str, _n: int) -> None:
        # After each committed batch the reader goes over every row (some on each key) once.
        target = reads[0] + len(keys)
        deadline = time.monotonic() + 30
        while reads[0] < target and not errors and time.monotonic() < deadline:
            time.sleep(0.001)

    reader = threading.Thread(target=read_forever)
    reader.start()
    try:
        wait_for_a_full_pass("", 0)
        report = rotate(
            app_store, ring, SEALED_COLUMNS, batch_size=7, on_batch=wait_for_a_full_pass
        )
        wait_for_a_full_pass("", 0)
    finally:
        done.set()
        reader.join(timeout=60)
    assert not errors, errors
    new = report.new_key_id
    assert new is not None
    assert seen == {old, new}
    assert reads[0] >= 11 * len(keys)  # before, after each of the 9 batches, after
    assert report.sweep.resealed == 60
    assert report.retired == (old,)
    assert _key_ids(app_store) == {new}
    assert count_by_key(app_store, SEALED_COLUMNS) == {new: 60}
    assert ring.key_ids == (new,)
    # The worker's ring still opens everything: it follows the file.
    assert all(
        load_credentials(app_store, reader_ring, cid).secrets.api_key == key
        for cid, key in keys.items()
    )


def test_status_counts_during_an_interrupted_sweep(app_store: AppStore, tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    ring = KeyRing.from_file(path)
    old = ring.active_id
    _add(app_store, ring, 20)
    new = add_active_key(path).id

    class StopSweepError(Exception):
        pass

    def stop_after_first(_label: str, _n: int) -> None:
        raise StopSweepError

    with pytest.raises(StopSweepError):
        sweep(app_store, ring, SEALED_COLUMNS, batch_size=6, on_batch=stop_after_first)
    usage = {
        u.key_id: (u.secrets, u.is_active, u.is_held)
        for u in key_usage(app_store, ring, SEALED_COLUMNS)
    }
    assert usage == {new: (6, True, True), old: (14, False, True)}
    # New secrets are sealed with the new key meanwhile.
    _add_one(app_store, ring)
    assert count_by_key(app_store, SEALED_COLUMNS) == {new: 7, old: 14}
    report = rotate(app_store, KeyRing.from_file(path), SEALED_COLUMNS)
    assert report.sweep.resealed == 21  # everything moved to the key this rotation made
    assert report.retired == tuple(sorted((old, new)))


def _add_one(store: AppStore, ring: KeyRing) -> None:
    with store.sessions() as session:
        add_connection(
            session,
            ring,
            name="late",
            config=ContactsConfig(base_url="http://127.0.0.1:1", location_id="late"),
            values=ConnectionSecrets(api_key="pit-late"),
        )
        session.commit()


def test_a_secret_that_cannot_be_opened_keeps_its_key(app_store: AppStore, tmp_path: Path) -> None:
    ring = KeyRing.from_file(tmp_path / "keys.json")
    old = ring.active_id
    keys = _add(app_store, ring, 5)
    broken = sorted(keys)[2]
    with app_store.sessions() as session:
        row = session.get(ConnectionRow, broken)
        assert row is not None
        tampered = bytearray(row.secrets)
        tampered[-1] ^= 1
        session.execute(
            update(ConnectionRow).where(ConnectionRow.id == broken).values(secrets=bytes(tampered))
        )
        session.commit()
    report = rotate(app_store, ring, SEALED_COLUMNS, batch_size=2)
    assert report.sweep.resealed == 4
    assert len(report.sweep.failed) == 1
    assert f"connection:{broken}:secrets" in report.sweep.failed[0]
    assert report.retired == ()
    assert old in ring.key_ids  # still sealing the broken one: never retired
    assert count_by_key(app_store, SEALED_COLUMNS) == {report.new_key_id: 4, old: 1}


def test_rotation_with_keys_from_settings(app_store: AppStore) -> None:
    before = KeyRing.from_spec(f"old:{KEY_OLD}")
    _add(app_store, before, 4)
    after = KeyRing.from_spec(f"new:{KEY_NEW},old:{KEY_OLD}")
    report = rotate(app_store, after, SEALED_COLUMNS)
    assert report.new_key_id is None
    assert report.sweep.resealed == 4
    assert report.unused == ("old",)
    assert report.retired == ()
    assert count_by_key(app_store, SEALED_COLUMNS) == {"new": 4}


def test_keys_cli(app_settings: Settings, app_store: AppStore) -> None:
    for args in (["--help"], ["status", "--help"], ["rotate", "--help"]):
        result = runner.invoke(keys_cli, args)
        assert result.exit_code == 0, result.output
        assert "Usage" in result.output
    ring = KeyRing.from_file(app_settings.data_dir / "keys.json")
    old = ring.active_id
    _add(app_store, ring, 3)
    status = runner.invoke(keys_cli, ["status"], obj=app_settings)
    assert status.exit_code == 0, status.output
    assert old in status.output
    assert "3" in status.output
    rotated = runner.invoke(keys_cli, ["rotate", "--batch-size", "2"], obj=app_settings)
    assert rotated.exit_code == 0, rotated.output
    assert "re-sealed 3 secret(s)" in rotated.output
    assert f"retired key {old}" in rotated.output
    ring.reload()
    assert old not in ring.key_ids
    status = runner.invoke(keys_cli, ["status"], obj=app_settings)
    assert old not in status.output
    assert ring.active_id in status.output
    _add_one(app_store, KeyRing.from_spec(f"lost:{KEY_OLD}"))  # sealed with a key not held
    missing = runner.invoke(keys_cli, ["status"], obj=app_settings)
    assert missing.exit_code == 1
    assert "lost" in missing.output
    assert "MISSING" in missing.output
    stored = json.loads((app_settings.data_dir / "keys.json").read_text())
    for key in stored["keys"]:
        assert key["secret"] not in status.output + rotated.output
