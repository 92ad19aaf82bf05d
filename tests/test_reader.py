"""Accounts, comments, saved articles, search and topics, as a reader uses them."""

import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse

from articles.reader import IP_LIMIT, USER_LIMIT, refresh_comment_counts
from articles.models import Comment, Tag
from tests.corpus import corpus_path
from tests.factories import make_article, make_category, make_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(django_user_model):
    return django_user_model.objects.create_user("reader", "reader@example.org", "a-long-pass-42")


@pytest.fixture
def reader_client(client, reader):
    client.force_login(reader)
    return client


def test_sign_up_log_out_log_in_and_change_password(client):
    response = client.post(
        reverse("signup"),
        {"username": "newbie", "email": "n@example.org", "password1": "tricky-pass-981",
         "password2": "tricky-pass-981"},
    )
    assert response.status_code == 302
    assert "Sign out newbie" in client.get("/").content.decode()
    client.post(reverse("logout"))
    assert "Sign in" in client.get("/").content.decode()
    client.post(reverse("login"), {"username": "newbie", "password": "tricky-pass-981"})
    response = client.post(
        reverse("password_change"),
        {"old_password": "tricky-pass-981", "new_password1": "another-pass-672",
         "new_password2": "another-pass-672"},
    )
    assert response.status_code == 302
    assert get_user_model().objects.get(username="newbie").check_password("another-pass-672")


def test_password_reset_mail(client, reader):
    client.post(reverse("password_reset"), {"email": "reader@example.org"})
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200 and "Set a new password" in form_page.content.decode()


def test_comment_post_show_and_delete(reader_client, reader):
    article = make_article()
    response = reader_client.post(
        reverse("articles:comment", args=[article.slug]),
        {"body": "Good read: https://example.org/more <script>alert(1)</script>"},
    )
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.comment_count == 1
    html = reader_client.get(article.get_absolute_url()).content.decode()
    assert "Comments (1)" in html
    assert '<a href="https://example.org/more" rel="nofollow">' in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
    comment = Comment.objects.get()
    reader_client.post(reverse("articles:delete-comment", args=[comment.pk]))
    assert not Comment.objects.exists()
    article.refresh_from_db()
    assert article.comment_count == 0
    assert "No comments yet." in reader_client.get(article.get_absolute_url()).content.decode()


def test_only_the_author_deletes_a_comment(client, reader, django_user_model):
    article = make_article()
    comment = Comment.objects.create(article=article, user=reader, body="Mine")
    other = django_user_model.objects.create_user("other", password="x-pass-123456")
    client.force_login(other)
    client.post(reverse("articles:delete-comment", args=[comment.pk]))
    assert Comment.objects.filter(pk=comment.pk).exists()


def test_anonymous_cannot_comment_and_sees_how_to(client):
    article = make_article()
    response = client.post(reverse("articles:comment", args=[article.slug]), {"body": "hi"})
    assert response.status_code == 302 and "/accounts/login/" in response.url
    assert not Comment.objects.exists()
    assert "to comment" in client.get(article.get_absolute_url()).content.decode()


def test_comment_limits_honeypot_and_rate(reader_client):
    article = make_article()
    url = reverse("articles:comment", args=[article.slug])
    reader_client.post(url, {"body": "x" * 2001})
    reader_client.post(url, {"body": "I am a bot", "website": "http://spam.example"})
    reader_client.post(url, {"body": "   "})
    assert not Comment.objects.exists()
    for n in range(USER_LIMIT + 2):
        reader_client.post(url, {"body": f"Comment {n}"})
    assert Comment.objects.count() == USER_LIMIT
    html = reader_client.get(article.get_absolute_url()).content.decode()
    assert "commenting too fast" in html


def test_ip_rate_limit_spans_accounts(django_user_model):
    article = make_article()
    url = reverse("articles:comment", args=[article.slug])
    limit = IP_LIMIT
    for n in range(limit // USER_LIMIT + 2):
        client = Client()
        client.force_login(django_user_model.objects.create_user(f"u{n}", password="p-123456789"))
        for m in range(USER_LIMIT):
            client.post(url, {"body": f"{n}-{m}"})
    assert Comment.objects.count() == limit


def test_comment_needs_csrf_token(reader):
    client = Client(enforce_csrf_checks=True)
    client.force_login(reader)
    article = make_article()
    response = client.post(reverse("articles:comment", args=[article.slug]), {"body": "hi"})
    assert response.status_code == 403
    assert not Comment.objects.exists()


def test_staff_hide_comments_in_admin(admin_client, reader):
    article = make_article()
    comments = [Comment.objects.create(article=article, user=reader, body=f"c{n}") for n in range(3)]
    refresh_comment_counts([article.pk])
    admin_client.post(
        reverse("admin:articles_comment_changelist"),
        {"action": "hide_comments", "_selected_action": [c.pk for c in comments[:2]]},
    )
    article.refresh_from_db()
    assert article.comment_count == 1
    assert admin_client.get(
        reverse("admin:articles_comment_changelist") + f"?user__id__exact={reader.pk}"
    ).status_code == 200
    html = Client().get(article.get_absolute_url()).content.decode()
    assert "c2" in html and ">c0<" not in html


def test_save_unsave_and_saved_page(reader_client):
    article, other = make_article(), make_article()
    save_url = reverse("articles:save", args=[article.slug])
    reader_client.post(save_url, {"action": "save", "next": "/"})
    reader_client.post(save_url, {"action": "save", "next": "https://evil.example/"})
    saved = reader_client.get(reverse("articles:saved")).content.decode()
    assert article.title in saved and other.title not in saved
    assert 'value="unsave"' in reader_client.get(article.get_absolute_url()).content.decode()
    reader_client.post(save_url, {"action": "unsave"})
    assert article.title not in reader_client.get(reverse("articles:saved")).content.decode()
    assert Client().get(reverse("articles:saved")).status_code == 302  # signed-in readers only


def test_tags_from_feed_categories_have_pages(client):
    article = make_article()
    tag = Tag.objects.create(name="Elections", slug="elections")
    article.tags.add(tag)
    assert 'href="/tags/elections/"' in client.get(article.get_absolute_url()).content.decode()
    assert article.title in client.get(tag.get_absolute_url()).content.decode()


def test_search_edge_cases(client):
    assert "Type a few words" in client.get(reverse("articles:search")).content.decode()
    for absurd in ["!!! ??? ---", '"', "-", "OR OR", "x" * 5000, "<script>alert(1)</script>"]:
        response = client.get(reverse("articles:search"), {"q": absurd})
        assert response.status_code == 200
        assert "<script>alert(1)</script>" not in response.content.decode()


def test_search_ranks_real_articles(client):
    """Full-text search over real article texts (PostgreSQL's, and SQLite's FTS5):
    the on-topic page ranks first."""
    folder = corpus_path("extraction", "scrapinghub-aeb")
    truth = json.loads((folder / "ground-truth.json").read_text())
    category = make_category(name="News", slug="news")
    source = make_source(category=category, slug="wire")
    other = make_source(slug="elsewhere")
    articles = []
    for n, page_id in enumerate(sorted(truth)[:60]):
        body = truth[page_id]["articleBody"]
        first = body.split(". ")[0][:200]
        article = make_article(
            source=source if n % 2 else other, title=first, summary=body[:400], body_text=body
        )
        articles.append(article)
    # The three rarest longer words of an article's headline make a fair query:
    # other articles mention some of them, but only the target all, and early.
    def frequency(word):
        return sum(word.lower() in a.body_text.lower() for a in articles)

    target = next(a for a in articles[5:] if len(re.findall(r"[A-Za-z]{5,}", a.title)) >= 4)
    words = sorted(set(re.findall(r"[A-Za-z]{5,}", target.title)), key=frequency)
    query = " ".join(words[:3])
    response = client.get(reverse("articles:search"), {"q": query})
    results = list(response.context["article_list"])
    assert results and results[0].pk == target.pk, (query, [a.title[:40] for a in results])
    assert "<mark>" in response.content.decode()
    filtered = client.get(reverse("articles:search"), {"q": words[0], "source": "elsewhere"})
    assert all(a.source_id == other.pk for a in filtered.context["article_list"])
    phrase = " ".join(target.title.split()[:4])
    response = client.get(reverse("articles:search"), {"q": f'"{phrase}"'})
    assert target.pk in [a.pk for a in response.context["article_list"]]
    excluded = client.get(reverse("articles:search"), {"q": f"{words[0]} -{words[0]}"})
    assert list(excluded.context["article_list"]) == []


def test_search_ranks_only_the_newest_matches_in_one_scan(monkeypatch, django_assert_num_queries):
    """The newest MAX_RANKED matches, in rank order across pages, read by one
    statement on PostgreSQL; each page's rows by one more (and its snippets,
    on SQLite, by another), whatever the number of matches."""
    from datetime import timedelta

    from django.utils import timezone

    from articles import search

    monkeypatch.setattr(search, "MAX_RANKED", 5)
    now = timezone.now()
    articles = []
    for n in range(8):  # n = 0 is the newest
        in_title = n in (1, 3, 6)  # a title match ranks above a summary match
        article = make_article(
            title=f"Harbour works {n}" if in_title else f"Council report {n}",
            summary="The harbour road closes for repairs.",
            published_at=now - timedelta(hours=n),
        )
        articles.append(article)
    results = search.search_articles("harbour")
    postgres = connection.vendor == "postgresql"
    per_page = 1 if postgres else 2
    # The matches once (on SQLite: the newest date, the month's matches, their
    # ranking), then two pages.
    ranking = 1 if postgres else 3
    with django_assert_num_queries(ranking + 2 * per_page) as queries:
        assert results.count() == 5
        page = results[0:3] + results[3:5]
    match = "@@" if postgres else "bm25("
    assert sum(match in query["sql"] for query in queries.captured_queries) == 1
    newest = articles[:5]
    expected = [newest[1], newest[3]] + [newest[n] for n in (0, 2, 4)]
    assert [a.pk for a in page] == [a.pk for a in expected]
    assert all("\x02" in a.snippet for a in page)  # the hits marked for highlighting


def said(client, path, params=None):
    """The page's text (entities decoded, spaces folded) and its results' ids."""
    from html import unescape

    response = client.get(path, params)
    page = unescape(re.sub(r"\s+", " ", response.content.decode()))
    return page, [a.pk for a in response.context["article_list"]], response


def day(moment):
    from django.utils import dateformat, timezone

    return dateformat.format(timezone.localtime(moment), "j F Y")


def test_search_says_how_far_back_and_links_to_the_older_matches(monkeypatch, client):
    """At most MAX_RANKED matches are ranked: when that many match, there may
    be more, and the page says how far back the ranked ones go rather than
    give their number as the number found, and links to the matches older
    than the oldest it ranked, and so on to the last; with fewer, the count."""
    from datetime import timedelta

    from django.utils import timezone

    from articles import search

    now = timezone.now()
    source = make_source()
    matches = [  # eight at one time, across the pages' bounds: told apart by id
        make_article(title=f"Harbour works {n}", source=source,
                     published_at=now - timedelta(hours=min(n, 3)))
        for n in range(11)
    ]
    newest = sorted(matches, key=lambda a: (a.published_at, a.pk), reverse=True)
    make_article(title="Lighthouse repairs", source=source, published_at=now - timedelta(hours=20))

    monkeypatch.setattr(search, "MAX_RANKED", 4)
    page, shown, response = said(client, reverse("articles:search"), {"q": "harbour", "source": source.slug})
    assert f"4 results for “harbour” since {day(newest[3].published_at)}, best match first." in page
    assert page.count(">Older matches →</a>") == 2  # above the list, and below its last page
    assert set(shown) == {a.pk for a in newest[:4]}
    assert "Back to the newest" not in page
    seen = list(shown)
    for expected in (newest[4:8], newest[8:11]):
        link = re.search(r'href="([^"]*before=\d+[^"]*)">Older matches', page).group(1)
        assert f"source={source.slug}" in link and "q=harbour" in link
        page, shown, response = said(client, reverse("articles:search") + link)
        assert set(shown) == {a.pk for a in expected}
        assert "Back to the newest" in page
        seen += shown
    assert "3 older results for “harbour”." in page and "Older matches" not in page
    assert sorted(seen) == sorted(a.pk for a in matches)  # each once, none left out

    monkeypatch.setattr(search, "MAX_RANKED", 12)
    page, shown, response = said(client, reverse("articles:search"), {"q": "works"})
    assert "11 results for “works”." in page and " since " not in page
    page, shown, response = said(client, reverse("articles:search"), {"q": "lighthouse"})
    assert "1 result for “lighthouse”." in page and "Older matches" not in page
    # A link to an article that is gone finds nothing older; a malformed one is ignored.
    page, shown, response = said(client, reverse("articles:search"), {"q": "works", "before": "999999"})
    assert shown == [] and "Nothing older matches “works”." in page
    page, shown, response = said(client, reverse("articles:search"), {"q": "works", "before": "1e3"})
    assert len(shown) == 11


def test_a_search_ranks_the_last_month_and_older_matches_only_to_fill_a_page(monkeypatch, client):
    """A search ranks the matches of the RECENT days before the newest article,
    whatever the archive holds before them, and says how far back it went;
    older ones only when the month holds less than a page, to a page. Each
    "Older matches" goes on from the oldest shown in the same way."""
    from datetime import timedelta

    from django.core.cache import cache
    from django.utils import timezone

    from articles import search

    monkeypatch.setattr(search, "PAGE", 3)
    now = timezone.now()
    recent = [make_article(title=f"Harbour works {n}", published_at=now - timedelta(days=n))
              for n in (1, 2, 3, 4)]
    path = reverse("articles:search")
    page, shown, response = said(client, path, {"q": "harbour"})
    assert "4 results for “harbour”." in page and "Older matches" not in page  # the whole archive

    old = [make_article(title=f"Harbour works {n}", published_at=now - timedelta(days=n))
           for n in (40, 50, 400)]
    make_article(title="Council budget", published_at=now - timedelta(days=500))
    page, shown, response = said(client, path, {"q": "harbour"})
    assert set(shown) == {a.pk for a in recent}  # not the 3 older than the month
    assert f"4 results for “harbour” since {day(recent[-1].published_at)}, best match first." in page
    link = re.search(r'href="([^"]*before=\d+[^"]*)">Older matches', page).group(1)
    page, shown, response = said(client, path + link)
    # No match in the month before the 4th: the newest older ones, to a page.
    assert set(shown) == {a.pk for a in old} and "3 older results for “harbour”." in page
    assert "Older matches" not in page

    monkeypatch.setattr(search, "PAGE", 2)
    cache.clear()  # the same address, now with another page size
    page, shown, response = said(client, path + link)
    # One more than a page was found: it is left for the next link.
    assert set(shown) == {a.pk for a in old[:2]}
    assert f"2 older results for “harbour” since {day(old[1].published_at)}" in page
    link = re.search(r'href="([^"]*before=\d+[^"]*)">Older matches', page).group(1)
    page, shown, response = said(client, path + link)
    assert shown == [old[2].pk] and "Older matches" not in page
    # Fewer than a page in the month: the older ones fill it, ranked with it.
    monkeypatch.setattr(search, "PAGE", 6)
    cache.clear()
    page, shown, response = said(client, path, {"q": "harbour"})
    assert set(shown) == {a.pk for a in recent + old[:2]}
    assert f"6 results for “harbour” since {day(old[1].published_at)}" in page
    # A period inside the month: nothing older than the period is shown or offered.
    page, shown, response = said(client, path, {"q": "harbour", "period": "week"})
    assert set(shown) == {a.pk for a in recent} and "Older matches" not in page


def test_search_filters_by_source_category_and_period_together(client):
    """Each filter of the search form narrows the matches, and they combine."""
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    sport, world = make_category(name="Sport", slug="sport"), make_category(name="World", slug="world")
    league = make_source(category=sport, slug="league-news")
    wire = make_source(category=world, slug="world-wire")
    other = make_source(category=sport, slug="match-report")
    fresh = make_article(source=league, title="Harbour derby tonight", published_at=now - timedelta(hours=2))
    older = make_article(source=league, title="Harbour derby preview", published_at=now - timedelta(days=3))
    abroad = make_article(source=wire, title="Harbour reopens abroad", published_at=now - timedelta(hours=1))
    rival = make_article(source=other, title="Harbour derby report", published_at=now - timedelta(days=40))

    def found(**filters):
        response = client.get(reverse("articles:search"), {"q": "harbour", **filters})
        return {a.pk for a in response.context["article_list"]}

    assert found() == {fresh.pk, older.pk, abroad.pk, rival.pk}
    assert found(category="sport") == {fresh.pk, older.pk, rival.pk}
    assert found(source="league-news") == {fresh.pk, older.pk}
    assert found(period="day") == {fresh.pk, abroad.pk}
    assert found(period="week", category="sport") == {fresh.pk, older.pk}
    assert found(period="month", category="sport", source="match-report") == set()
    assert found(category="sport", source="world-wire") == set()


def test_a_search_page_costs_the_same_queries_for_3_results_as_for_12(client):
    """A result reads only the columns it shows: a field it left out, read
    while the page renders, would cost a query a result."""
    source = make_source(name="Harbour Gazette", slug="harbour-gazette")
    for n in range(12):
        make_article(source=source, title=f"Tide report {n}", summary="The harbour gates close" + (" by the quay." if n < 3 else "."),
                     page_terms={"max_snippet": 20} if n == 0 else {})

    def page(query):
        client.get(reverse("articles:search"), {"q": query})  # the menus, cached
        from django.test.utils import CaptureQueriesContext

        from articles import page_cache

        page_cache.bump_content_version()  # no copy of the page served
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("articles:search"), {"q": query})
        return response, len(queries.captured_queries)

    few, few_queries = page("harbour quay")
    many, many_queries = page("harbour gates")
    assert len(few.context["article_list"]) == 3 and len(many.context["article_list"]) == 12
    assert few_queries == many_queries
    html = many.content.decode()
    assert html.count('<li class="search-result">') == 12
    assert "Tide report 5</a>" in html and ">Harbour Gazette</a>" in html and "<time datetime=" in html
    assert "<mark>harbour</mark>" in html
    # The policy of the result whose page allows 20 characters of snippet, read.
    cut = next(a for a in many.context["article_list"] if a.title == "Tide report 0")
    assert len(cut.snippet_html.replace("<mark>", "").replace("</mark>", "")) <= 20


def test_search_finds_a_name_only_in_the_text_and_marks_whole_words(client):
    """A name that appears only in the article's text is found (SQLite too);
    highlighting marks whole words."""
    article = make_article(
        title="Council meets on Tuesday",
        summary="The agenda covers the budget and the Railway timetable.",
        body_text="Later, Ilse Varga spoke about the Railway station and the railways of the north.",
    )
    response = client.get(reverse("articles:search"), {"q": "Varga"})
    assert [a.pk for a in response.context["article_list"]] == [article.pk]
    if connection.vendor == "sqlite":  # PostgreSQL's headline reads the summary only
        assert "<mark>Varga</mark>" in response.content.decode()
    html = client.get(reverse("articles:search"), {"q": "railway"}).content.decode()
    marked = re.findall(r"<mark>(.*?)</mark>", html)
    assert marked and all(word.lower() in {"railway", "railways"} for word in marked), marked
    html = client.get(reverse("articles:search"), {"q": "Ilse -Varga"}).content.decode()
    assert "Nothing matches" in html


def test_like_fallback_marks_whole_words():
    """The LIKE fallback (neither PostgreSQL nor SQLite) marks the word holding a hit, never part of it."""
    from articles.search import mark_words

    assert str(mark_words("Railway works on the rail line", "rail")) == (
        "<mark>Railway</mark> works on the <mark>rail</mark> line"
    )


def test_fts5_query_quotes_every_term():
    """The web-search syntax in FTS5's, with no room for FTS5's own operators."""
    from articles.fts5 import fts5_query

    assert fts5_query('flood "central bank" -sport') == '("flood") AND ("central bank") NOT "sport"'
    assert fts5_query("rail OR bus strike") == '("rail" OR "bus") AND ("strike")'
    assert fts5_query('NEAR(a b) col:x "unclosed') == '("NEAR(a") AND ("b)") AND ("col:x") AND ("unclosed")'
    assert fts5_query("-only -negatives") is None
    assert fts5_query("OR OR") is None


def test_search_pagination_keeps_filters(client):
    source = make_source(slug="wire")
    for n in range(25):
        make_article(source=source, title=f"Harbour report {n}", summary="harbour news")
    response = client.get(reverse("articles:search"), {"q": "harbour", "source": "wire"})
    html = response.content.decode()
    assert "25 results" in html
    assert "source=wire" in re.search(r'href="([^"]*page=2[^"]*)"', html).group(1)


def test_sqlite_search_index_comes_back_after_a_table_rebuild(client):
    """A later migration rebuilds articles_article on SQLite and drops the FTS5
    triggers with it; migrate puts them back and reindexes (a no-op elsewhere)."""
    from django.core.management import call_command

    from articles.fts5 import TRIGGERS

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's FTS5 index; PostgreSQL keeps its vector in the row")
    with connection.cursor() as cursor:
        for name in TRIGGERS:
            cursor.execute(f"DROP TRIGGER {name}")
    article = make_article(title="Quarry reopens", body_text="Mayor Ilse Varga cut the ribbon.")
    call_command("migrate", verbosity=0)
    response = client.get(reverse("articles:search"), {"q": "Varga"})
    assert [a.pk for a in response.context["article_list"]] == [article.pk]
