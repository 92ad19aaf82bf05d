"""Sources: created one way (admin, OPML, command), their fetch outcomes recorded.

Outcomes are written with update_fields: a fetch runs for seconds after it
loaded the row, and an editor's pause or edit made meanwhile must stand.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from . import schedule
from .models import Category, Source, Subscription
from .page_cache import bump_content_version

RECENT_DATES = 10


@transaction.atomic
def create_sources(sources, due_every=timedelta(0), at_once=0, start=0):
    """Save new, unsaved sources in one insert; returns those created.

    A feed URL already stored (or twice in `sources`) is skipped. Slugs are
    chosen in memory from every stored one, so a thousand sources named
    alike cost one read, not a query per try. The first `at_once` are due
    at once, the others `due_every` apart, so a large import does not fall
    due all at once; `start` sources of the same import were created before.
    """
    urls = [source.feed_url for source in sources]
    known = set(Source.objects.filter(feed_url__in=urls).values_list("feed_url", flat=True))
    fresh = []
    for source in sources:
        if source.feed_url not in known:
            known.add(source.feed_url)
            fresh.append(source)
    taken = set(Source.objects.values_list("slug", flat=True))
    now = timezone.now()
    for position, source in enumerate(fresh):
        source.name = source.name or source.feed_url
        source.slug = source.slug or unique_slug(source.name, taken, fallback="source")
        taken.add(source.slug)
        source.next_fetch_at = source.next_fetch_at or now + max(
            0, start + position - at_once
        ) * due_every
    if fresh:
        # The search form lists sources; bulk inserts send no signal (articles/menus.py).
        transaction.on_commit(bump_content_version)
    return Source.objects.bulk_create(fresh)


def create_source(source):
    """Save one new source, due at once; None when its feed URL is stored already."""
    created = create_sources([source])
    return created[0] if created else None


def unique_slug(name, taken, fallback):
    """A slug for `name` not in `taken` (a set of slugs, in memory)."""
    base = slugify(name)[:180] or fallback
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug


def categories_named(names):
    """{lower-cased name: Category} for these names, created when missing."""
    wanted = {name.strip()[:100].lower(): name.strip()[:100] for name in names if name.strip()}
    found = {
        category.name.lower(): category
        for category in Category.objects.all()
        if category.name.lower() in wanted
    }
    missing = {key: name for key, name in wanted.items() if key not in found}
    if missing:
        taken = set(Category.objects.values_list("slug", flat=True))
        new = []
        for name in missing.values():
            slug = unique_slug(name, taken, fallback="category")
            taken.add(slug)
            new.append(Category(name=name, slug=slug))
        found.update((category.name.lower(), category) for category in Category.objects.bulk_create(new))
    return found


def category_named(name):
    return categories_named([name]).get(name.strip()[:100].lower()) if name else None


def recent_publish_dates(source):
    return list(
        source.articles.order_by("-published_at").values_list("published_at", flat=True)[
            :RECENT_DATES
        ]
    )


def is_pushed(source, now):
    """A running WebSub lease (articles/websub.py): polled at max_interval only."""
    return Subscription.objects.filter(
        source=source, state=Subscription.State.ACTIVE, lease_expires_at__gt=now
    ).exists()


def record_success(source, *, status, now=None, headers=None, ttl_minutes=None, **fetched):
    """A fetch that worked; `fetched` are fetch-state fields it read (etag, site_url...)."""
    now = now or timezone.now()
    interval = schedule.next_interval(
        recent_publish_dates(source), source.min_interval, source.max_interval,
        headers, ttl_minutes,
    )
    if is_pushed(source, now):
        # Its hub pushes new entries: polling is only the safety net.
        interval = max(interval, source.max_interval)
    save_fetch_state(
        source,
        last_fetched_at=now,
        last_status=status,
        consecutive_failures=0,
        last_error="",
        next_fetch_at=now + interval,
        **fetched,
    )


def record_failure(source, reason, *, status=None, now=None, retry_after=None):
    now = now or timezone.now()
    failures = source.consecutive_failures + 1
    state = {
        "last_fetched_at": now,
        "last_status": status,
        "consecutive_failures": failures,
        "last_error": reason,
        "next_fetch_at": now
        + schedule.failure_backoff(source.min_interval, failures, now, status, retry_after),
    }
    if status == 410:
        state.update(is_active=False, last_error=f"{reason}: the feed is gone; source deactivated.")
    elif failures >= schedule.PAUSE_AFTER_FAILURES:
        state.update(
            is_active=False,
            last_error=f"Paused after {failures} failures in a row. Last: {reason}",
        )
    save_fetch_state(source, **state)


def switch_feed_url(source, url):
    """The source reads `url` from now on (found for it by discovery)."""
    save_fetch_state(source, feed_url=url, etag="", last_modified="")


def save_fetch_state(source, **fields):
    for name, value in fields.items():
        setattr(source, name, value)
    source.save(update_fields=list(fields))


def pause_sources(sources):
    """Pause `sources` (a queryset); returns how many."""
    return sources.update(is_active=False)


def resume_sources(sources):
    """Resume `sources`, due at once with a clean slate; returns how many."""
    return sources.update(is_active=True, consecutive_failures=0, next_fetch_at=timezone.now())
