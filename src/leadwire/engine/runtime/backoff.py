"""When to try a failed call again: exponential backoff with full jitter, honouring Retry-After.

The jitter is drawn from a hash of the run and the attempt rather than from a random source:
the decision is made in workflow code, which DBOS may execute again on recovery, and the same
inputs must give the same delay there.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long to wait between attempts, and for how long to keep trying."""

    base_s: float = 2.0
    cap_s: float = 900.0
    window_s: float = 86_400.0

    def __post_init__(self) -> None:
        if not 0 < self.base_s <= self.cap_s:
            raise ValueError("need 0 < base_s <= cap_s")
        if self.window_s < 0:
            raise ValueError("window_s must not be negative")


def unit_interval(seed: str, attempt: int) -> float:
    """Return a number in [0, 1) fixed by `seed` and `attempt`, evenly spread."""
    digest = hashlib.blake2b(f"{seed}#{attempt}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def retry_delay_s(
    policy: RetryPolicy, attempt: int, *, seed: str, retry_after_s: float | None = None
) -> float:
    """Return the wait before attempt `attempt + 1`, after `attempt` (>= 1) failures.

    Full jitter: uniform in [0, min(cap, base * 2**(attempt-1))]. A server's `Retry-After`
    is a floor: waiting less would only earn another refusal.
    """
    if attempt < 1:
        raise ValueError("attempt counts failures and starts at 1")
    ceiling = min(policy.cap_s, policy.base_s * 2.0 ** min(attempt - 1, 60))
    delay = ceiling * unit_interval(seed, attempt)
    if retry_after_s is not None and retry_after_s > delay:
        delay = float(retry_after_s)
    return delay


def is_exhausted(policy: RetryPolicy, *, first_failure_s: float, next_try_s: float) -> bool:
    """Say whether trying at `next_try_s` would fall outside the retry window."""
    return next_try_s - first_failure_s > policy.window_s
