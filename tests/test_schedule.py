"""When a source is next due: pure functions, no database."""

from datetime import UTC, datetime, timedelta

from articles import schedule

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
TEN_MINUTES, SIX_HOURS = timedelta(minutes=10), timedelta(hours=6)


def test_failures_back_off_exponentially_up_to_a_cap():
    waits = [schedule.failure_backoff(TEN_MINUTES, n, NOW) for n in range(1, 12)]
    assert waits[0] == timedelta(minutes=20) and waits[1] == timedelta(minutes=40)
    assert max(waits) == schedule.MAX_BACKOFF == waits[-1]


def test_retry_after_is_honoured_and_capped():
    assert schedule.failure_backoff(TEN_MINUTES, 1, NOW, 429, "7200") == timedelta(hours=2)
    assert schedule.failure_backoff(TEN_MINUTES, 1, NOW, 503, "999999") == schedule.MAX_RETRY_AFTER
    date = "Sat, 05 Dec 2026 15:00:00 GMT"
    assert schedule.failure_backoff(TEN_MINUTES, 1, NOW, 503, date) == timedelta(hours=3)
    # Only a 429 or 503 asks to wait.
    assert schedule.failure_backoff(TEN_MINUTES, 1, NOW, 500, "7200") == timedelta(minutes=20)


def test_interval_follows_publishing_rate_and_ttl():
    hourly = [NOW - timedelta(hours=hours) for hours in range(10)]
    # One article an hour: look again every half hour.
    assert schedule.next_interval(hourly, timedelta(minutes=5), SIX_HOURS) == timedelta(minutes=30)
    # A feed asking for two hours is obeyed.
    assert schedule.next_interval(hourly, TEN_MINUTES, SIX_HOURS, ttl_minutes=120) == timedelta(
        hours=2
    )
    headers = {"cache-control": "public, max-age=10800"}
    assert schedule.next_interval(hourly, TEN_MINUTES, SIX_HOURS, headers) == timedelta(hours=3)
    # ...but never beyond a day, and never outside the source's own bounds.
    assert schedule.next_interval(hourly, TEN_MINUTES, SIX_HOURS, ttl_minutes=99999) == timedelta(
        days=1
    )
    assert schedule.next_interval([NOW], TEN_MINUTES, SIX_HOURS) == TEN_MINUTES
    yearly = [NOW - timedelta(days=365 * n) for n in range(3)]
    assert schedule.next_interval(yearly, TEN_MINUTES, SIX_HOURS) == SIX_HOURS
