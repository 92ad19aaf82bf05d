import pytest
from django.db import connection
from django.utils import timezone

from articles import search
from articles.models import Article, SearchEntry
from articles.moderation import set_articles_hidden
from tests.factories import make_article, make_source

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgresql(reason="the search table is PostgreSQL's (a trigger keeps it)"),
]


def found(text, **filters):
    return list(search.search_articles(text, **filters).ids)


def test_a_shown_original_is_searchable_as_soon_as_it_is_written():
    article = make_article(title="Harbour gates close", body_text="The tide rose over the quay.")
    pending = make_article(title="Harbour pending", state=Article.State.PENDING)

    assert found("harbour") == [article.pk]
    assert found("quay") == [article.pk]
    assert not SearchEntry.objects.filter(article=pending).exists()


def test_hiding_copying_and_editing_keep_the_search_right():
    article = make_article(title="Harbour gates close")
    original = make_article(title="Another story")

    set_articles_hidden(Article.objects.filter(pk=article.pk), True)
    assert found("harbour") == []
    set_articles_hidden(Article.objects.filter(pk=article.pk), False)
    assert found("harbour") == [article.pk]

    Article.objects.filter(pk=article.pk).update(copy_of=original)
    assert found("harbour") == []
    Article.objects.filter(pk=article.pk).update(copy_of=None, title="Bridge reopens")
    assert found("harbour") == [] and found("bridge") == [article.pk]

    article.refresh_from_db()
    article.summary = "Ferries run again across the estuary."
    article.save()  # an editor's save in the admin writes every column
    assert found("ferries") == [article.pk]

    Article.objects.filter(pk=article.pk).delete()
    assert not SearchEntry.objects.exists() or found("bridge") == []


def test_a_row_that_changes_nothing_searched_leaves_its_vector_alone():
    article = make_article(title="Harbour gates close")
    source = make_source(slug="moved")
    with connection.cursor() as cursor:
        cursor.execute("SELECT xmin::text FROM articles_searchentry WHERE article_id = %s",
                       [article.pk])
        before = cursor.fetchone()[0]
        Article.objects.filter(pk=article.pk).update(state=Article.State.READY, word_count=9)
        cursor.execute("SELECT xmin::text FROM articles_searchentry WHERE article_id = %s",
                       [article.pk])
        assert cursor.fetchone()[0] == before

    Article.objects.filter(pk=article.pk).update(source=source)
    assert found("harbour", source="moved") == [article.pk]


def test_the_vectors_are_stored_in_line():
    """An article-length vector stays in its row: ranking reads it from the
    page the search already visited, not through the TOAST table (0028)."""
    def sizes():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_relation_size(oid), pg_relation_size(reltoastrelid) FROM pg_class"
                " WHERE relname = 'articles_searchentry'"
            )
            return cursor.fetchone()

    # Measured as growth: the heap also holds the dead rows of earlier tests' rollbacks.
    heap_before, toast_before = sizes()
    source = make_source()
    for n in range(40):
        body = " ".join(f"word{n}x{m} harbour" for m in range(300))
        make_article(source=source, title=f"Harbour {n}", body_text=body)
    heap, toast = sizes()
    # Forty vectors of 300 distinct words, about 6 KB each: in the heap, none in TOAST.
    assert heap - heap_before >= 40 * 4000 and toast == toast_before
    assert len(found("harbour")) == 40


def test_new_entries_go_into_the_index_not_a_pending_list_every_search_would_read():
    source = make_source()
    for n in range(20):
        make_article(source=source, title=f"Harbour {n}", body_text=f"harbour crane {n} " * 50)
    with connection.cursor() as cursor:
        # The number of pending-list pages it had to move: none.
        cursor.execute("SELECT gin_clean_pending_list('searchentry_month_lexemes'::regclass)")
        assert cursor.fetchone()[0] == 0
    assert len(found("harbour crane")) == 20


def test_the_newest_matches_are_read_month_by_month(monkeypatch):
    """Across months, an empty one among them, the newest MAX_RANKED matches
    are the ones ranked; a period keeps its own months only. Months are UTC's."""
    from datetime import datetime, timedelta, timezone as dt_timezone

    monkeypatch.setattr(search, "MAX_RANKED", 3)
    utc = dt_timezone.utc
    dates = [
        datetime(2026, 3, 1, 0, 30, tzinfo=dt_timezone(timedelta(hours=2))),  # February in UTC
        datetime(2026, 2, 3, tzinfo=utc),
        datetime(2025, 12, 20, tzinfo=utc),  # January empty
        datetime(2025, 12, 5, tzinfo=utc),
        datetime(2025, 11, 1, tzinfo=utc),
    ]
    matches = [make_article(title=f"Harbour {n}", published_at=date) for n, date in enumerate(dates)]
    make_article(title="Council budget", published_at=datetime(2026, 3, 2, tzinfo=utc))
    with connection.cursor() as cursor:
        cursor.execute("SELECT month FROM articles_searchentry WHERE article_id = %s",
                       [matches[0].pk])
        assert cursor.fetchone()[0] == 2026 * 12 + 1  # February

    assert set(found("harbour")) == {a.pk for a in matches[:3]}
    monkeypatch.setattr(search, "MAX_RANKED", 10)
    assert set(found("harbour")) == {a.pk for a in matches}

    recent = make_article(title="Harbour today")
    assert set(found("harbour", period="week")) == {recent.pk}
    # A new date moves the entry to its month.
    Article.objects.filter(pk=matches[4].pk).update(published_at=timezone.now())
    assert set(found("harbour", period="week")) == {recent.pk, matches[4].pk}


def test_phrases_negations_and_either_find_what_they_say_in_every_month():
    """The month-keyed index looks a phrase up as its words and a negation not
    at all (migration 0029): the exact query, checked on the rows, decides."""
    from datetime import datetime, timezone as dt_timezone

    source = make_source()
    texts = {
        "phrase": "The central bank raised rates on Monday.",
        "apart": "The bank by the central station closed.",
        "either": "Flood warnings along the river.",
        "quoted": "Officials say it's over for the o'clock shift.",
        "other": "Council budget vote delayed.",
    }
    made = {}
    for n, (name, body) in enumerate(texts.items()):
        for month in (11, 12):  # the same texts in two months
            made[name, month] = make_article(
                source=source, title=f"Report {n} {month}", body_text=body,
                published_at=datetime(2025, month, 10, tzinfo=dt_timezone.utc),
            )

    with connection.cursor() as cursor:
        # A handful of rows would be read whole; the index is what is tested.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT 1 FROM articles_searchentry e WHERE"
            " articles_month_lexemes(e.vector, e.month) @@ articles_month_query('bank', 24310)"
        )
        assert "searchentry_month_lexemes" in " ".join(row[0] for row in cursor.fetchall())

    def names(text):
        ids = set(found(text))
        return {name for (name, _month), article in made.items() if article.pk in ids}

    assert names('"central bank"') == {"phrase"}
    assert names("central bank") == {"phrase", "apart"}
    assert names('bank -"central bank"') == {"apart"}
    assert names('"central bank" or flood') == {"phrase", "either"}
    assert names("o'clock") == {"quoted"}
    # Nothing to look up but a negation: every row of each month is a candidate.
    assert names("-bank -flood -o'clock") == {"other"}
    assert names("the and of") == set()  # stop words only
    for name in ("phrase", "apart"):  # both months of each
        assert {made[name, 11].pk, made[name, 12].pk} <= set(found("central bank"))
