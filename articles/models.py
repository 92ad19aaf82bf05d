import hashlib
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import connection, models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import slugify

from .fields import FastJSONField
from .paths import slug_path


MAX_EXTRACTION_ATTEMPTS = 3
# The sweeper relates an extracted article again at most this often: an
# article whose relating fails every time must not be retried forever.
MAX_RELATING_ATTEMPTS = 3
# A pending article nobody took for this long lost its task (a worker killed
# with the batch it had taken from the broker); sooner, its task may just be
# waiting in the queue. Re-enqueueing one still queued costs a claim query.
STALLED_GRACE = timedelta(seconds=90)
# An extracted article is related at once, or at its batch's end while the
# batch holds its claim: past both, its task died or its relating failed.
UNRELATED_GRACE = timedelta(seconds=30)


def url_hash(url):
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return slug_path("articles:category", self.slug)


class SourceQuerySet(models.QuerySet):
    def due(self, now=None):
        now = now or timezone.now()
        return self.filter(is_active=True).filter(
            Q(next_fetch_at__isnull=True) | Q(next_fetch_at__lte=now)
        )

    def failing(self):
        return self.filter(consecutive_failures__gt=0)


def default_display_policy():
    return settings.DISPLAY_POLICY_DEFAULT


class Source(models.Model):
    class DisplayPolicy(models.TextChoices):
        FULL = "full", "Full text"
        EXCERPT = "excerpt", "Excerpt with link"
        HEADLINE = "headline", "Headline with link"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    feed_url = models.URLField(max_length=2000, unique=True)
    site_url = models.URLField(max_length=2000, blank=True)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="sources"
    )
    language = models.CharField(max_length=12, blank=True)
    is_active = models.BooleanField(default=True, help_text="Paused sources are not fetched.")
    use_feed_content = models.BooleanField(
        default=False, help_text="Skip fetching article pages; use the feed's own text."
    )
    min_interval = models.DurationField(
        default=timedelta(minutes=10), help_text="Shortest time between two fetches."
    )
    max_interval = models.DurationField(
        default=timedelta(hours=6), help_text="Longest time between two fetches."
    )
    display_policy = models.CharField(
        max_length=10,
        choices=DisplayPolicy.choices,
        default=default_display_policy,
        help_text="How much of each article readers see here; a page's own robots "
        "directives (nosnippet, noarchive, max-snippet) always win.",
    )
    # Fetch state, written by the pipeline only.
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    next_fetch_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_notes = models.TextField(
        blank=True, help_text="Entries the last fetch did not store, by reason."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SourceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["is_active", "next_fetch_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_interval__lte=models.F("max_interval")),
                name="source_min_interval_lte_max",
            )
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return slug_path("articles:source", self.slug)

    @property
    def domain(self):
        return urlsplit(self.site_url or self.feed_url).hostname or ""


class Subscription(models.Model):
    """A source's feed, pushed to us by its WebSub hub (articles/websub.py)."""

    class State(models.TextChoices):
        PENDING = "pending", "asked, not verified yet"
        ACTIVE = "active", "pushed"
        FAILED = "failed", "refused"

    source = models.OneToOneField(Source, on_delete=models.CASCADE, related_name="subscription")
    hub_url = models.URLField(max_length=2000)
    topic_url = models.URLField(max_length=2000)
    # In the callback's URL: which subscription a hub's request is about.
    token = models.CharField(max_length=64, unique=True, editable=False)
    # The HMAC key of X-Hub-Signature, given to the hub with each request.
    secret = models.CharField(max_length=64, editable=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    # Set when a (re)subscription is asked: only then is a challenge answered.
    requested_at = models.DateTimeField(null=True, blank=True)
    lease_seconds = models.PositiveIntegerField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_push_at = models.DateTimeField(null=True, blank=True)
    pushes = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    def __str__(self):
        return f"{self.source} via {self.hub_url}"


def tag_slug(name):
    # Names in other scripts slugify to nothing: a hash keeps their URL ASCII.
    return slugify(name)[:90] or "t-" + hashlib.sha1(name.encode()).hexdigest()[:10]


class TagQuerySet(models.QuerySet):
    def add_to_articles(self, links):
        """Tag articles: `links` is [(article id, [names])]; stored pairs are kept.

        Two statements, whatever the tags: the missing tags inserted (one a
        concurrent worker inserted first is kept), then the pairs, each tag
        found by its slug in the database. Through the ORM (a read, an insert
        and a re-read of the tags, then the pairs, as model instances) it took
        up to four, and more Python than the statements' own work.
        """
        from .related.index import pairs_sql  # the dialects' table of values

        wanted, pairs = {}, set()
        for article_id, names in links:
            for name in names:
                slug = tag_slug(name)
                wanted.setdefault(slug, name[:100])
                pairs.add((article_id, slug))
        if not pairs:
            return
        tag_table, through_table = self.model._meta.db_table, Article.tags.through._meta.db_table
        # Sorted, so concurrent workers lock the same rows in the same order.
        tags, tag_params = pairs_sql(sorted(wanted.items()), ("slug", "text"), ("name", "text"))
        links_sql, link_params = pairs_sql(sorted(pairs), ("article_id", "bigint"), ("slug", "text"))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {tag_table} (slug, name) SELECT slug, name FROM ({tags}) t"
                " WHERE true ON CONFLICT DO NOTHING",
                tag_params,
            )
            # WHERE true: SQLite's rule for an INSERT ... SELECT ... ON CONFLICT.
            cursor.execute(
                f"INSERT INTO {through_table} (article_id, tag_id) SELECT p.article_id, t.id"
                f" FROM ({links_sql}) p JOIN {tag_table} t ON t.slug = p.slug"
                " WHERE true ON CONFLICT DO NOTHING",
                link_params,
            )


class Tag(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True)

    objects = TagQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return slug_path("articles:tag", self.slug)


class Story(models.Model):
    """Articles from several sources about one event."""

    lead_article = models.ForeignKey(
        "Article", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source_count = models.PositiveIntegerField(default=1)
    article_count = models.PositiveIntegerField(default=1)
    first_published_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # What each source adds and the timeline (related.additions), computed
    # by a scheduled task once its members change, never on a page view.
    additions = models.JSONField(default=dict, blank=True, editable=False)
    additions_stale = models.BooleanField(default=True, editable=False)

    class Meta:
        verbose_name_plural = "stories"
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["-updated_at"]),
            models.Index(
                fields=["id"], condition=Q(additions_stale=True), name="story_additions_stale"
            ),
        ]

    def __str__(self):
        return f"Story {self.pk}"

    def get_absolute_url(self):
        return reverse("articles:story", args=[self.pk])


# Columns no list, and most single reads, show: the texts, the term vector
# (PostgreSQL spends more on outputting it than on the rest of the row), key
# points and the page's validators.
HEAVY_COLUMNS = (
    "body_html", "body_text", "feed_content_html", "terms", "key_points", "page_validators",
)


def heavy_columns(prefix="", keep=()):
    """HEAVY_COLUMNS but `keep`, as defer() arguments through a relation `prefix`."""
    return [prefix + name for name in HEAVY_COLUMNS if name not in keep]


class ArticleQuerySet(models.QuerySet):
    def visible(self):
        return self.filter(state=Article.State.READY, is_hidden=False)

    def without_heavy_columns(self, keep=()):
        return self.defer(*heavy_columns(keep=keep))

    def for_list(self):
        """The columns and joins a list of article cards needs."""
        return self.visible().select_related("source").without_heavy_columns()

    def originals(self):
        """Without syndicated copies: each text once."""
        return self.filter(copy_of__isnull=True)

    def one_per_story(self):
        """Each story once, by its lead article; copies never."""
        return self.originals().filter(Q(story__isnull=True) | Q(is_story_lead=True))

    def for_source(self, source):
        return self.filter(source=source)

    def for_category(self, category):
        return self.filter(source__category=category)

    def pending(self):
        return self.filter(state=Article.State.PENDING)

    def stalled(self, now=None, grace=STALLED_GRACE):
        """Left unextracted (a pending row nobody took, an expired lease), or due
        again (an outage interrupted it, or its page is to be fetched again)."""
        now = now or timezone.now()
        waiting = Q(state=Article.State.PENDING) & (
            Q(retry_at__isnull=True, discovered_at__lt=now - grace) | Q(retry_at__lte=now)
        )
        abandoned = Q(state=Article.State.EXTRACTING, claimed_until__lt=now)
        page_again = Q(state=Article.State.READY, retry_at__lte=now)
        return self.filter(
            ((waiting | abandoned) & Q(extraction_attempts__lt=MAX_EXTRACTION_ATTEMPTS))
            | page_again
        )

    def unrelated(self, now=None, grace=UNRELATED_GRACE):
        """Extracted but never related: its task failed between the two steps
        (a batch holds its claim on what it extracted until it is related)."""
        now = now or timezone.now()
        return self.visible().filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            story__isnull=True,
            extracted_at__lt=now - grace,
            relating_attempts__lt=MAX_RELATING_ATTEMPTS,
        )


class Article(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Pending extraction"
        EXTRACTING = "extracting", "Extracting"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    # Indexed by (source, published_at) and the unique pairs below.
    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, related_name="articles", db_index=False
    )
    story = models.ForeignKey(
        Story, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles"
    )
    # A syndicated copy (same wire text or URL in another feed) points at the
    # first-seen original; pages show the original once, "also published by".
    copy_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="copies"
    )
    fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    guid = models.CharField(max_length=1000)
    url = models.URLField(max_length=2000)
    canonical_url = models.URLField(max_length=2000)
    url_hash = models.CharField(max_length=64, editable=False)
    slug = models.SlugField(max_length=120, unique=True)
    title = models.CharField(max_length=500)
    author = models.CharField(max_length=300, blank=True)
    published_at = models.DateTimeField()
    discovered_at = models.DateTimeField(default=timezone.now)
    summary = models.TextField(blank=True, help_text="Plain text excerpt.")
    feed_content_html = models.TextField(
        blank=True, help_text="The feed's own content, sanitised; the extraction fallback."
    )
    body_html = models.TextField(blank=True)
    body_text = models.TextField(blank=True)
    lead_image_url = models.URLField(max_length=2000, blank=True)
    # The lead image as pages show it, stored once by articles.images: the
    # publisher's URL above is never given to a reader's browser.
    image_thumb = models.FileField(max_length=200, blank=True, editable=False)
    image_lead = models.FileField(max_length=200, blank=True, editable=False)
    image_status = models.CharField(
        max_length=200, blank=True, editable=False, help_text="Empty until the image is tried."
    )
    language = models.CharField(max_length=12, blank=True)
    word_count = models.PositiveIntegerField(default=0)
    terms = FastJSONField(default=dict, blank=True, editable=False)
    key_points = models.JSONField(default=list, blank=True)
    # What the page itself says may be shown (extract.terms): robots
    # directives and data-nosnippet texts; read by articles.terms.
    page_terms = models.JSONField(default=dict, blank=True, editable=False)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    state_reason = models.TextField(blank=True)
    extracted_at = models.DateTimeField(null=True, blank=True)
    extraction_attempts = models.PositiveSmallIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    # Times the sweeper re-enqueued it to be related (retry_stalled_task).
    relating_attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    # When the sweeper next hands it out: after an outage interrupted its
    # extraction, or, shown with the feed's text, to fetch its page again
    # after a failure that may pass (page_retries of them, articles/outages.py).
    retry_at = models.DateTimeField(null=True, blank=True, editable=False)
    page_retries = models.PositiveSmallIntegerField(default=0, editable=False)
    # The fetched page, by its bytes and the extractor's code (extract_reuse),
    # and its validators: the same content is never extracted twice.
    page_hash = models.CharField(max_length=64, blank=True, editable=False)
    page_validators = models.JSONField(default=dict, blank=True, editable=False)
    is_hidden = models.BooleanField(default=False, help_text="Hidden articles are not shown.")
    is_featured = models.BooleanField(default=False, help_text="Pinned at the top of the homepage.")
    # Its story's lead_article, copied here by related.refresh_stories: lists
    # that show each story once filter on this table's own columns, which
    # PostgreSQL can estimate, and so walk the (published_at, id) index.
    is_story_lead = models.BooleanField(default=False, editable=False)
    tags = models.ManyToManyField(Tag, blank=True, related_name="articles")
    comment_count = models.PositiveIntegerField(default=0, editable=False)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [
            models.Index(fields=["-published_at", "-id"]),
            models.Index(fields=["source", "-published_at"]),
            models.Index(fields=["state"]),
            # Copies are found by URL across sources, not only within one.
            models.Index(fields=["url_hash"]),
            # Looked up by equality only. Declared here rather than with
            # db_index, which on PostgreSQL adds a second, LIKE-only index
            # that every write of the row would keep up to date too.
            models.Index(fields=["fingerprint"], name="article_fingerprint"),
            models.Index(fields=["page_hash"], name="article_page_hash"),
            # The sweeper's retries: a few rows at any time.
            models.Index(
                fields=["retry_at"], condition=Q(retry_at__isnull=False), name="article_retry_at"
            ),
            # The homepage's pinned articles: a few rows, found without a scan.
            models.Index(
                fields=["-published_at"], condition=Q(is_featured=True), name="article_featured"
            ),
            # The image task's queue: articles whose lead image is not tried yet.
            models.Index(
                fields=["-published_at"], condition=Q(image_status=""), name="article_image_pending"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["source", "guid"], name="article_unique_source_guid"),
            models.UniqueConstraint(
                fields=["source", "url_hash"], name="article_unique_source_url"
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.derive_keys()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return slug_path("articles:detail", self.slug)

    def derive_keys(self):
        """url_hash from the canonical URL and, when missing, the slug; bulk inserts call it too.

        The slug's hash of source and GUID keeps the URL stable across title
        edits and unique without a lookup.
        """
        self.url_hash = url_hash(self.canonical_url)
        if not self.slug:
            digest = hashlib.sha256(f"{self.source_id}:{self.guid}".encode()).hexdigest()[:8]
            base = slugify(self.title, allow_unicode=False)[:100].strip("-") or "article"
            self.slug = f"{base}-{digest}"

    @cached_property  # a page asks for it up to four times, and cutting it takes a while
    def excerpt(self):
        # summary only: lists defer the body, and extraction fills summary.
        # Cut or withheld as the publisher's terms say (articles/terms.py).
        from .terms import shown_excerpt

        return shown_excerpt(self)


EXCERPT_LENGTH = 280


class SearchEntry(models.Model):
    """A shown article's full-text vector, in a narrow table of its own (PostgreSQL).

    Written by the database, not by Python: a trigger on the article table
    (migration 0025) inserts or refreshes the row whenever a ready, shown
    original's text, date or source is written, and deletes it when the
    article is hidden, becomes a copy or leaves "ready". Every path that
    writes an article (extraction, relating, moderation, the admin, bulk
    updates) keeps it right without knowing of it. Vectors up to a page
    stay in their rows (toast_tuple_target, 0028): a search ranks the rows
    it has just visited, without a second read through TOAST. Empty on
    SQLite, which searches otherwise.
    """

    article = models.OneToOneField(
        Article, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="+", db_index=False)
    published_at = models.DateTimeField()
    # published_at's month in UTC, counted from year 0 (year * 12 + month - 1),
    # the key of the GIN index a search reads month by month (0026, 0029).
    month = models.IntegerField()
    vector = SearchVectorField()

    class Meta:
        verbose_name_plural = "search entries"

    def __str__(self):
        return f"Search entry of {self.article_id}"


class RelatedLink(models.Model):
    # Indexed as the first column of relatedlink_unique_pair.
    from_article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="related_links", db_index=False
    )
    to_article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()

    class Meta:
        ordering = ["-score"]
        constraints = [
            models.UniqueConstraint(
                fields=["from_article", "to_article"], name="relatedlink_unique_pair"
            ),
            models.CheckConstraint(
                condition=~Q(from_article=models.F("to_article")), name="relatedlink_not_self"
            ),
        ]

    def __str__(self):
        return f"{self.from_article_id} -> {self.to_article_id} ({self.score:.2f})"


class ArticleTerm(models.Model):
    """Inverted index: an article's strongest terms, for finding related articles."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="index_terms")
    term = models.CharField(max_length=100)
    weight = models.FloatField()
    # Copied from the article so one index range scan covers the time window.
    published_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["term", "published_at"]),
            # The pruning of postings older than relating reads (retention.py).
            models.Index(fields=["published_at"], name="articleterm_published_at"),
        ]

    def __str__(self):
        return f"{self.term} -> {self.article_id} ({self.weight:.3f})"


class DocumentFrequency(models.Model):
    """How many indexed articles hold a term; the empty term counts all articles."""

    term = models.CharField(max_length=100)
    documents = models.PositiveIntegerField(default=0)

    class Meta:
        # A constraint, not unique=True, which on PostgreSQL also adds a
        # LIKE-only index: each article upserts a few hundred of these rows.
        constraints = [models.UniqueConstraint(fields=["term"], name="documentfrequency_unique_term")]

    def __str__(self):
        return f"{self.term}: {self.documents}"


class Comment(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="comments")
    # Indexed as the first column of (user, created_at).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_index=False)
    body = models.TextField(max_length=3000)
    created_at = models.DateTimeField(default=timezone.now)
    is_public = models.BooleanField(default=True)
    # The poster's address, keyed-hashed (reader.address_key): rate limits only.
    ip_hash = models.CharField(max_length=16, blank=True, editable=False)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["article", "created_at"]),
            # The rate limits count a reader's and an address's recent comments.
            models.Index(fields=["user", "created_at"]),
            models.Index(fields=["ip_hash", "created_at"]),
        ]

    def __str__(self):
        return f"Comment by {self.user} on {self.article}"


class SavedArticle(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    saved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-saved_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "article"], name="savedarticle_unique")
        ]

    def __str__(self):
        return f"{self.user} saved {self.article_id}"


class FetchLog(models.Model):
    """One fetch of a source's feed: what an editor needs to see why it fails."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="fetch_logs")
    fetched_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=20)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    new_articles = models.PositiveIntegerField(default=0)
    entries = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    refused = models.PositiveIntegerField(default=0, help_text="Entries not stored.")
    notes = models.TextField(blank=True, help_text="Why entries were not stored, by reason.")

    class Meta:
        ordering = ["-fetched_at"]
        indexes = [models.Index(fields=["source", "-fetched_at"])]

    def __str__(self):
        return f"{self.source} {self.outcome} at {self.fetched_at:%Y-%m-%d %H:%M}"


class SourceImport(models.Model):
    """An OPML file imported in the background; its progress is shown in admin."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    file_name = models.CharField(max_length=255, blank=True)
    # The uploaded file (at most 2 MB) until the import is done.
    content = models.BinaryField(blank=True)
    update_existing = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    outlines = models.PositiveIntegerField(default=0)
    handled = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.file_name or 'OPML'} ({self.get_status_display()})"

    @property
    def percent(self):
        return 100 * self.handled // self.outlines if self.outlines else 0
