"""Key rotation, online: a new active key, every stored secret re-sealed, unused keys retired.

The sweep re-seals in small transactions (one batch of rows each, locked while re-sealed), so
readers and writers carry on meanwhile: the old keys stay in the ring until nothing uses them.
A row that another process re-seals with an old key during the sweep (one that has not yet seen
the new key file) is found by the next pass; a key is retired only once it seals nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, inspect, select

from leadwire.engine.secrets.envelope import SecretDecodeError
from leadwire.engine.secrets.keyfile import add_active_key, drop_keys
from leadwire.engine.secrets.keyring import KeyRing
from leadwire.store.app import AppStore

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 50


@dataclass(frozen=True)
class SealedColumn:
    """A column of sealed secrets, the column naming each one's key, and each one's owner."""

    label: str
    model: type[Any]
    blob: str
    key_id: str
    owner: Callable[[Any], str]


@dataclass(frozen=True)
class KeyUsage:
    """How many stored secrets one key seals, and whether the ring holds it."""

    key_id: str
    secrets: int
    is_active: bool
    is_held: bool


@dataclass
class SweepReport:
    """What a sweep did: secrets re-sealed, and those it could not open (with why)."""

    resealed: int = 0
    failed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RotationReport:
    """What a rotation did."""

    new_key_id: str | None
    sweep: SweepReport
    retired: tuple[str, ...]
    unused: tuple[str, ...]


def count_by_key(store: AppStore, columns: Sequence[SealedColumn]) -> dict[str, int]:
    """Return how many stored secrets each key id seals, over every sealed column."""
    counts: dict[str, int] = {}
    with store.read_sessions() as session:
        for column in columns:
            kid = getattr(column.model, column.key_id)
            for key_id, n in session.execute(select(kid, func.count()).group_by(kid)):
                counts[key_id] = counts.get(key_id, 0) + n
    return counts


def key_usage(store: AppStore, ring: KeyRing, columns: Sequence[SealedColumn]) -> list[KeyUsage]:
    """Return every key held or in use, with its count; the active key first."""
    counts = count_by_key(store, columns)
    active = ring.active_id
    ids = [active, *(k for k in ring.key_ids if k != active)]
    ids += sorted(k for k in counts if k not in ids)
    held = set(ring.key_ids)
    return [KeyUsage(k, counts.get(k, 0), k == active, k in held) for k in ids]


def _reseal_batch(
    store: AppStore, ring: KeyRing, column: SealedColumn, batch_size: int, skip: set[Any]
) -> tuple[int, int, list[str], set[Any]]:
    """Re-seal one batch; return (rows seen, re-sealed, errors, ids of rows that fail to open)."""
    model = column.model
    pk = inspect(model).primary_key[0]
    active = ring.active_id
    done, failed, bad = 0, [], set()
    with store.sessions() as session:
        query = select(model).where(getattr(model, column.key_id) != active)
        if skip:
            query = query.where(pk.not_in(skip))
        rows = session.scalars(query.order_by(pk).limit(batch_size).with_for_update()).all()
        for row in rows:
            owner = column.owner(row)
            try:
                plaintext = ring.open(getattr(row, column.blob), owner)
            except SecretDecodeError as exc:
                failed.append(str(exc))
                bad.add(getattr(row, pk.key))
                continue
            sealed = ring.seal(plaintext, owner)
            setattr(row, column.blob, sealed)
            setattr(row, column.key_id, ring.key_id_of(sealed, owner))
            done += 1
        session.commit()
    return len(rows), done, failed, bad


def sweep(
    store: AppStore,
    ring: KeyRing,
    columns: Sequence[SealedColumn],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_batch: Callable[[str, int], None] | None = None,
) -> SweepReport:
    """Re-seal every stored secret not sealed with the active key, `batch_size` rows a commit.

    Rows are re-queried until none is left on an old key, so one written meanwhile by a process
    still sealing with an old key is caught too; a row that cannot be opened is reported and
    skipped (its key then stays in use, so it is never retired).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    report = SweepReport()
    for column in columns:
        skip: set[Any] = set()
        while True:
            seen, done, failed, bad = _reseal_batch(store, ring, column, batch_size, skip)
            if seen == 0:
                break
            report.resealed += done
            report.failed.extend(failed)
            skip |= bad
            if on_batch is not None and done:
                on_batch(column.label, done)
    logger.info(
        "secrets.sweep_done resealed=%d failed=%d active=%s",
        report.resealed,
        len(report.failed),
        ring.active_id,
    )
    return report


def retire_unused(
    store: AppStore, ring: KeyRing, columns: Sequence[SealedColumn]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Retire the held keys that seal nothing; return (retired, unused but not retirable).

    A ring from settings cannot be edited here: its unused keys are returned for the operator to
    remove from `LEADWIRE_SECRET_KEYS`.
    """
    counts = count_by_key(store, columns)
    unused = {k for k in ring.key_ids if k != ring.active_id and counts.get(k, 0) == 0}
    if not unused:
        return (), ()
    if ring.path is None:
        return (), tuple(sorted(unused))
    drop_keys(ring.path, unused)
    ring.reload()
    return tuple(sorted(unused)), ()


def rotate(
    store: AppStore,
    ring: KeyRing,
    columns: Sequence[SealedColumn],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_batch: Callable[[str, int], None] | None = None,
) -> RotationReport:
    """Make a new active key (file rings), re-seal everything with it, retire unused keys.

    With keys from settings there is no key to make: put the new key first in
    `LEADWIRE_SECRET_KEYS` everywhere, then rotate; this re-seals with it.
    """
    new_key_id = None
    if ring.path is not None:
        new_key_id = add_active_key(ring.path).id
        ring.reload()
    report = sweep(store, ring, columns, batch_size=batch_size, on_batch=on_batch)
    retired, unused = retire_unused(store, ring, columns)
    return RotationReport(new_key_id, report, retired, unused)
