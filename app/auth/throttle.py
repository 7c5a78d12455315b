"""Slowing down guessing: failures counted per account, and a growing wait after a few.

The counts live in the rate limiter's storage (RATELIMIT_STORAGE_URI), so that several
instances share them. A wait never becomes a lock: the owner who waits it out signs in.
"""

from __future__ import annotations

import math
import time

from flask import current_app

from app.extensions import limiter

# Failures are forgotten a day after the first one, or at the next success.
FAILURE_MEMORY_SECONDS = 24 * 60 * 60


def wait_seconds(key: str) -> int:
    """Return how long the next attempt on this key must wait; 0 if it may go ahead."""
    storage = limiter.storage
    if not storage.get("wait:" + key):
        return 0
    return max(1, math.ceil(storage.get_expiry("wait:" + key) - time.time()))


def record_failure(key: str) -> int:
    """Count a failure; past the free attempts, make the next one wait twice as long."""
    storage, config = limiter.storage, current_app.config
    failures = storage.incr("fail:" + key, FAILURE_MEMORY_SECONDS)
    beyond = failures - int(config["LOGIN_FREE_ATTEMPTS"])
    if beyond >= 0:
        delay = min(2 ** min(beyond, 30), int(config["LOGIN_MAX_WAIT_SECONDS"]))
        storage.clear("wait:" + key)
        storage.incr("wait:" + key, delay)
    return failures


def failures(key: str) -> int:
    """Return how many failures are counted on this key."""
    return limiter.storage.get("fail:" + key)


def forget(key: str) -> None:
    """Forget the failures on this key, after a success."""
    limiter.storage.clear("fail:" + key)
    limiter.storage.clear("wait:" + key)


def spend_once(key: str, seconds: int) -> bool:
    """Mark a one-time value as used; return False if it already was."""
    return limiter.storage.incr("once:" + key, max(1, seconds)) == 1


def first_refusal(key: str, wait: int) -> bool:
    """Return True for the first attempt refused during this wait, to be recorded once."""
    return spend_once(f"refused:{key}:{failures(key)}", wait)
