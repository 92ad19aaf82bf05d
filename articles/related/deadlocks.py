"""Relating's transactions run again when PostgreSQL picks them as a deadlock's victim."""

import functools
import random
import time

from django.db import OperationalError, connection

DEADLOCK = "40P01"
DEADLOCK_ATTEMPTS = 3
# Before running again: long enough for the survivor, woken by the abort, to
# take the rows (PostgreSQL does not hand a row lock to its waiter, and an
# immediate rerun can lock them first and deadlock again).
DEADLOCK_PAUSE = (0.05, 0.25)


def retrying_deadlocks(function):
    """Run a transaction again when PostgreSQL made it a deadlock's victim.

    Two workers relating articles of one event lock some of the same article,
    story and frequency rows; PostgreSQL aborts one of them, which then holds
    nothing and may simply run again. Inside an outer transaction there is
    nothing to retry: the error goes up.
    """

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
            try:
                return function(*args, **kwargs)
            except OperationalError as exc:
                victim = getattr(exc.__cause__, "sqlstate", None) == DEADLOCK
                if not victim or connection.in_atomic_block or attempt == DEADLOCK_ATTEMPTS:
                    raise
                time.sleep(random.uniform(*DEADLOCK_PAUSE) * attempt)

    return wrapper
