"""The pieces the article and search pages write without Django's slower
general helpers: each must say exactly what the helper it replaced said."""

import random
import unicodedata
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo

import pytest
from django.contrib.humanize.templatetags import humanize
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse, set_script_prefix
from django.utils import translation
from django.utils.dates import MONTHS
from django.utils.text import Truncator
from django.utils.timezone import now as timezone_now

from articles.models import Article, Tag
from articles.paths import fixed_path, slug_path, static_path
from articles.templatetags.lede import nav_category_links, related_cards, reltime
from articles.terms import cut
from articles import when
from articles.when import ago
from tests.factories import make_article, make_category, make_source

# Plain letters, wide and astral characters, and the marks Truncator counts
# as nothing (alone, after a letter, or where NFC would fold them).
ALPHABET = list("abc xyz.,") + ["é", "漢", "😀", "\u0301", "\u0308", "\u0327", "e\u0301", "\u200d"]


def test_cut_says_what_truncator_says():
    rng = random.Random(20261206)
    for _ in range(20_000):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 40)))
        limit = rng.randint(0, 45)
        expected = Truncator(unicodedata.normalize("NFC", text)).chars(limit)
        assert cut(text, limit) == expected, (text, limit)
    assert cut("unchanged", None) == "unchanged"


def test_reltime_gives_the_utc_date_in_the_tooltip_and_the_distance_in_words():
    moment = datetime(2026, 3, 9, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    html = str(reltime(moment))
    # 23:30 in New York that day (daylight saving time) is 03:30 UTC the next.
    assert html == (
        '<time datetime="2026-03-10T03:30:00+00:00" title="10 March 2026, 03:30 UTC">'
        f"{naturaltime(moment)}</time>"
    )
    recent = str(reltime(timezone_now() - timedelta(hours=7, minutes=1)))
    assert ">7\xa0hours ago</time>" in recent
    assert 'datetime="' in recent and "+00:00" in recent


class FrozenClock(datetime):
    """naturaltime's clock held at one moment, so both sides see the same now."""

    moment = datetime(2026, 3, 31, 12, 0, 5, tzinfo=dt_timezone.utc)

    @classmethod
    def now(cls, tz=None):
        return cls.moment


def test_ago_says_what_naturaltime_says(monkeypatch):
    monkeypatch.setattr(humanize, "datetime", FrozenClock)
    now = FrozenClock.moment
    rng = random.Random(20261207)
    # Every 7 s of the first two days (each unit under a day, and its plural),
    # then moments up to four years back across month ends and a leap day.
    distances = [timedelta(seconds=s) for s in range(1, 200_000, 7)]
    distances += [timedelta(seconds=rng.randrange(4 * 365 * 86_400)) for _ in range(30_000)]
    for distance in distances:
        assert ago(now - distance, now) == naturaltime(now - distance), distance
    # The future (a clock ahead of ours) and other languages are naturaltime's.
    assert ago(now + timedelta(minutes=3), now) is None
    with translation.override("fr"):
        assert ago(now - timedelta(hours=3), now) is None
    # The tooltip's months too.
    assert when.MONTHS[1:] == tuple(str(MONTHS[month]) for month in range(1, 13))


@pytest.mark.django_db
def test_the_search_form_keeps_the_chosen_source_and_escapes_names(client):
    make_source(name="Alpha <Wire>", slug="alpha")
    make_source(name="Beta & Co", slug="beta")
    make_article(title="Harbour crane collapses", source=make_source(name="Gamma", slug="gamma"))
    html = client.get(reverse("articles:search"), {"q": "harbour", "source": "beta"}).content.decode()
    assert '<option value="alpha">Alpha &lt;Wire&gt;</option>' in html
    assert '<option value="beta" selected>Beta &amp; Co</option>' in html
    assert html.count(" selected>") == 1
    # Sorted by name, as the form always listed them.
    assert html.index('value="alpha"') < html.index('value="beta"') < html.index('value="gamma"')
    plain = client.get(reverse("articles:search"), {"q": "harbour"}).content.decode()
    assert " selected>" not in plain and "Harbour crane collapses" in plain


@pytest.mark.django_db
def test_the_search_form_keeps_the_chosen_category_and_escapes_names(client):
    make_category(name="Science & <Health>", slug="science")
    make_category(name="Arts", slug="arts")
    html = client.get(reverse("articles:search"), {"q": "harbour", "category": "science"}).content.decode()
    assert '<option value="science" selected>Science &amp; &lt;Health&gt;</option>' in html
    assert '<option value="arts">Arts</option>' in html
    assert html.index('value="arts"') < html.index('value="science"')  # by name
    assert html.count(" selected>") == 1


@pytest.mark.django_db
def test_the_navigation_marks_the_current_category_under_each_script_prefix(client):
    science = make_category(name="Science & <Health>", slug="science")
    make_source(category=science)
    make_source(category=make_category(name="Arts", slug="arts"))
    make_category(name="Empty", slug="empty")  # no sources: not in the navigation
    html = client.get(science.get_absolute_url()).content.decode()
    assert '<li><a href="/categories/science/" aria-current="page">Science &amp; &lt;Health&gt;</a></li>' in html
    assert '<li><a href="/categories/arts/">Arts</a></li>' in html
    assert "Empty" not in html and html.count('aria-current="page"') == 1
    # A page of no category marks none (the search form's "category" is a slug).
    html = client.get(reverse("articles:search"), {"q": "x", "category": "science"}).content.decode()
    assert 'aria-current="page">Science' not in html
    try:
        set_script_prefix("/news/")
        assert nav_category_links(science).startswith('<li><a href="/news/categories/arts/">')
    finally:
        set_script_prefix("/")
    assert nav_category_links(science).startswith('<li><a href="/categories/arts/">')


def test_static_paths_follow_the_settings(settings):
    assert static_path("css/site.css") == static("css/site.css")
    settings.STATIC_URL = "/assets/"
    assert static_path("css/site.css") == static("css/site.css")
    assert static_path("css/site.css").startswith("/assets/css/site")


@pytest.mark.django_db
def test_the_article_page_lists_its_tags_by_name_and_only_its_visible_copies(client):
    original = make_article(title="Wire report on the dam")
    shown = make_article(copy_of=original, source=make_source(name="Shown Paper"))
    make_article(copy_of=original, source=make_source(name="Hidden Paper"), is_hidden=True)
    make_article(copy_of=original, source=make_source(name="Pending Paper"),
                 state=Article.State.PENDING)
    for name in ["Weather", "Dams", "Rivers"]:
        original.tags.add(Tag.objects.create(name=name, slug=name.lower()))
    html = client.get(original.get_absolute_url()).content.decode()
    assert "Also published by" in html and "Shown Paper" in html
    assert "Hidden Paper" not in html and "Pending Paper" not in html
    assert html.index("#Dams") < html.index("#Rivers") < html.index("#Weather")
    assert 'href="/tags/dams/"' in html
    # The copy names its original and lists no copies of its own.
    copy_html = client.get(shown.get_absolute_url()).content.decode()
    assert "first published by" in copy_html and original.source.name in copy_html
    assert "Also published by" not in copy_html


@pytest.mark.django_db
def test_an_article_in_no_story_without_tags_or_copies_still_has_its_page(client):
    article = make_article(title="A lone report")
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "A lone report" in html and "Also published by" not in html
    assert 'aria-label="Topics"' not in html
    assert client.get(article.get_absolute_url().rstrip("/") + "-nope/").status_code == 404


@pytest.mark.parametrize("name", ["articles:detail", "articles:source", "articles:category", "articles:tag"])
def test_slug_paths_are_what_reverse_gives(name):
    def outcome(function, *args, **kwargs):
        try:
            return function(*args, **kwargs)
        except NoReverseMatch:
            return "no match"

    slugs = ["plain-slug_1", "x", "Mixed-Case-9", "slug-placeholder-0", "café-au-lait", "a b", "%41"]
    try:
        for prefix in ["/", "/news/"]:
            set_script_prefix(prefix)
            for slug in slugs:
                assert outcome(slug_path, name, slug) == outcome(reverse, name, args=[slug])
    finally:
        set_script_prefix("/")


def test_fixed_paths_are_what_reverse_gives_under_each_script_prefix():
    names = ["articles:list", "articles:search", "articles:feeds", "articles:feed-rss",
             "articles:feed-atom", "articles:manifest", "login", "signup", "admin:index"]
    try:
        for prefix in ("/", "/news/"):
            set_script_prefix(prefix)
            for name in names:
                assert fixed_path(name) == reverse(name)
        assert fixed_path("articles:search") == "/news/search/"
    finally:
        set_script_prefix("/")
    with pytest.raises(NoReverseMatch):
        fixed_path("articles:detail")  # it takes a slug


@pytest.mark.django_db
def test_related_cards_escape_and_show_what_a_card_shows():
    source = make_source(name="Alpha <Wire>")
    pictured = make_article(title="Crane <b>collapses</b>", summary="Workers & residents", source=source,
                            image_thumb="images/1-thumb.webp")
    bare = make_article(title="Second", summary="", source=source)
    html = str(related_cards([pictured, bare]))
    assert html.count('<li class="related-card">') == 2
    assert f'<a href="{pictured.get_absolute_url()}">Crane &lt;b&gt;collapses&lt;/b&gt;</a>' in html
    assert '<span class="related-source">Alpha &lt;Wire&gt;</span>' in html
    assert '<p class="related-excerpt">Workers &amp; residents</p>' in html
    assert 'class="related-thumb" src="' in html and "images/1-thumb.webp" in html
    assert '<span class="related-thumb related-thumb-empty" aria-hidden="true"></span>' in html
    assert html.count("<time datetime=") == 2
    assert html.count("related-excerpt") == 1
    assert str(related_cards([])) == ""
