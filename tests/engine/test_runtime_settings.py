"""The engine's settings: read from `LEADWIRE_ENGINE_*`, checked, turned into runtime options."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from pydantic import ValidationError

from leadwire.engine.runtime import RateBudget, RetryPolicy, RuntimeOptions
from leadwire.settings import Settings
from tests.conftest import make_settings


def test_from_settings_fills_every_option(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        database_url="postgresql://leadwire@db.internal/leadwire",
        sqlite_synchronous="EXTRA",
        engine_checkpoint_synchronous="OFF",
        engine_calls_per_step=3,
        engine_worker_concurrency=5,
        engine_polling_interval_s=0.25,
        engine_executor_id="worker-a",
        engine_retry_base_s=1.5,
        engine_retry_cap_s=60.0,
        engine_retry_window_s=3600.0,
        engine_crm_burst=50,
        engine_crm_interval_s=2.0,
        engine_pool_size=7,
    )
    assert RuntimeOptions.from_settings(settings) == RuntimeOptions(
        database_url="postgresql://leadwire@db.internal/leadwire",
        intake_synchronous="EXTRA",
        checkpoint_synchronous="OFF",
        budget=RateBudget(burst=50, interval_s=2.0),
        retry=RetryPolicy(base_s=1.5, cap_s=60.0, window_s=3600.0),
        calls_per_step=3,
        worker_concurrency=5,
        polling_interval_s=0.25,
        executor_id="worker-a",
        pool_size=7,
    )


def test_overrides_win_over_settings(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, engine_calls_per_step=3)
    options = RuntimeOptions.from_settings(settings, calls_per_step=1, queue_name="other")
    assert (options.calls_per_step, options.queue_name) == (1, "other")
    assert options.database_url == settings.app_url()


def test_the_defaults(tmp_path: Path) -> None:
    options = RuntimeOptions.from_settings(Settings(_env_file=None, data_dir=tmp_path))
    assert options.intake_synchronous == "FULL"
    assert options.checkpoint_synchronous == "NORMAL"
    assert options.calls_per_step == 8
    assert options.worker_concurrency == 16
    assert options.polling_interval_s == 0.05
    assert options.retry == RetryPolicy(base_s=2.0, cap_s=900.0, window_s=86_400.0)
    assert (options.budget.burst, options.budget.interval_s) == (100, 10.0)
    assert options.pool_size == 10


def test_environment_variables_are_parsed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LEADWIRE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LEADWIRE_ENGINE_CHECKPOINT_SYNCHRONOUS", "FULL")
    monkeypatch.setenv("LEADWIRE_ENGINE_CALLS_PER_STEP", "4")
    monkeypatch.setenv("LEADWIRE_ENGINE_POLLING_INTERVAL_S", "0.5")
    monkeypatch.setenv("LEADWIRE_ENGINE_EXECUTOR_ID", "worker-7")
    monkeypatch.setenv("LEADWIRE_ENGINE_RETENTION_DAYS", "90")
    settings = Settings(_env_file=None)
    assert settings.engine_checkpoint_synchronous == "FULL"
    assert settings.engine_calls_per_step == 4
    assert settings.engine_polling_interval_s == 0.5
    assert settings.engine_retention_days == 90
    options = RuntimeOptions.from_settings(settings)
    assert (options.executor_id, options.calls_per_step) == ("worker-7", 4)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LEADWIRE_ENGINE_CHECKPOINT_SYNCHRONOUS", "SOMETIMES"),
        ("LEADWIRE_ENGINE_CALLS_PER_STEP", "0"),
        ("LEADWIRE_ENGINE_POLLING_INTERVAL_S", "0"),
        ("LEADWIRE_ENGINE_RETRY_BASE_S", "1000"),  # above the 900 s cap
        ("LEADWIRE_ENGINE_RETENTION_DAYS", "0"),
        ("LEADWIRE_ENGINE_EXECUTOR_ID", ""),
    ],
)
def test_bad_values_are_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.removeprefix("LEADWIRE_").lower()):
        Settings(_env_file=None)


def test_the_default_executor_id_is_stable_per_host_and_data_folder(tmp_path: Path) -> None:
    first = make_settings(tmp_path / "a").executor_id()
    assert first == make_settings(tmp_path / "a").executor_id()  # a restart recovers its work
    assert first != make_settings(tmp_path / "b").executor_id()  # another worker's folder
    assert first.startswith(f"{socket.gethostname()}-")
    assert make_settings(tmp_path, engine_executor_id="w2").executor_id() == "w2"
