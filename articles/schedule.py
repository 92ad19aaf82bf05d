"""When a source is next due, and what a fetch outcome does to its state."""

import re
from datetime import timedelta
from email.utils import parsedate_to_datetime

from django.utils import timezone

MAX_BACKOFF = timedelta(hours=12)
MAX_RETRY_AFTER = timedelta(hours=6)
PAUSE_AFTER_FAILURES = 10
MAX_AGE = re.compile(r"max-age=(\d+)")


def clamp(value, low, high):
    return max(low, min(high, value))


def publishing_interval(source, now):
    """Half the mean gap between recent articles, so new posts are seen soon."""
    recent = list(
        source.articles.order_by("-published_at").values_list("published_at", flat=True)[:10]
    )
    if len(recent) < 2:
        return source.min_interval
    span = recent[0] - recent[-1]
    return span / (len(recent) - 1) / 2


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


def next_interval(source, now, headers=None, ttl_minutes=None):
    interval = clamp(publishing_interval(source, now), source.min_interval, source.max_interval)
    # The publisher's TTL and max-age may lengthen the wait, never beyond a day.
    return max(interval, min(cache_lifetime(headers, ttl_minutes), timedelta(days=1)))


def record_success(source, *, status, now=None, headers=None, ttl_minutes=None):
    now = now or timezone.now()
    source.last_fetched_at = now
    source.last_status = status
    source.consecutive_failures = 0
    source.last_error = ""
    source.next_fetch_at = now + next_interval(source, now, headers, ttl_minutes)
    source.save()


def record_failure(source, reason, *, status=None, now=None, retry_after=None):
    now = now or timezone.now()
    source.last_fetched_at = now
    source.last_status = status
    source.consecutive_failures += 1
    source.last_error = reason
    backoff = min(source.min_interval * 2 ** min(source.consecutive_failures, 16), MAX_BACKOFF)
    wait = parse_retry_after(retry_after, now) if status in (429, 503) else None
    if wait and wait > timedelta(0):
        backoff = max(backoff, min(wait, MAX_RETRY_AFTER))
    if status == 410:
        source.is_active = False
        source.last_error = f"{reason}: the feed is gone; source deactivated."
    elif source.consecutive_failures >= PAUSE_AFTER_FAILURES:
        source.is_active = False
        source.last_error = (
            f"Paused after {source.consecutive_failures} failures in a row. Last: {reason}"
        )
    source.next_fetch_at = now + backoff
    source.save()
