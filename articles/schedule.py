"""When a source is next due: pure functions over its publish dates and fetch outcomes."""

import re
from datetime import timedelta
from email.utils import parsedate_to_datetime

MAX_BACKOFF = timedelta(hours=12)
MAX_RETRY_AFTER = timedelta(hours=6)
MAX_CACHE_LIFETIME = timedelta(days=1)
PAUSE_AFTER_FAILURES = 10
MAX_AGE = re.compile(r"max-age=(\d+)")


def clamp(value, low, high):
    return max(low, min(high, value))


def publishing_interval(recent_dates, min_interval):
    """Half the mean gap between the newest publish dates, so new posts are seen soon."""
    if len(recent_dates) < 2:
        return min_interval
    span = max(recent_dates) - min(recent_dates)
    return span / (len(recent_dates) - 1) / 2


def cache_lifetime(headers, ttl_minutes=None):
    """The longest of the feed's TTL and the response's Cache-Control max-age."""
    lifetime = timedelta(0)
    if ttl_minutes:
        lifetime = timedelta(minutes=ttl_minutes)
    match = MAX_AGE.search((headers or {}).get("cache-control", ""))
    if match:
        lifetime = max(lifetime, timedelta(seconds=int(match.group(1))))
    return lifetime


def parse_retry_after(value, now):
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        return parsedate_to_datetime(value) - now
    except (TypeError, ValueError):
        return None


def next_interval(recent_dates, min_interval, max_interval, headers=None, ttl_minutes=None):
    """Time to the next fetch after a successful one."""
    interval = clamp(publishing_interval(recent_dates, min_interval), min_interval, max_interval)
    # The publisher's TTL and max-age may lengthen the wait, never beyond a day.
    return max(interval, min(cache_lifetime(headers, ttl_minutes), MAX_CACHE_LIFETIME))


def failure_backoff(min_interval, failures, now, status=None, retry_after=None):
    """Time to the next fetch after `failures` failures in a row: doubling, capped,
    and at least what a 429 or 503 asked for (within reason)."""
    backoff = min(min_interval * 2 ** min(failures, 16), MAX_BACKOFF)
    wait = parse_retry_after(retry_after, now) if status in (429, 503) else None
    if wait and wait > timedelta(0):
        backoff = max(backoff, min(wait, MAX_RETRY_AFTER))
    return backoff
