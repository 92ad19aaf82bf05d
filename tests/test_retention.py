from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from articles.models import Article, ArticleTerm, Comment, RelatedLink, SavedArticle, Story, Tag
from articles.related.index import WINDOW
from articles.retention import (
    LATE_ARRIVAL,
    bytes_per_article,
    prune_term_index,
    remove_expired_articles,
)
from articles.tasks import prune_term_index_task, remove_expired_articles_task
from tests.factories import link, make_article, make_source, make_story

pytestmark = pytest.mark.django_db


def days_ago(days):
    return timezone.now() - timedelta(days=days)


def post_terms(article, count, published_at):
    ArticleTerm.objects.bulk_create(
        ArticleTerm(article=article, term=f"word{n}", weight=0.1, published_at=published_at)
        for n in range(count)
    )


def test_postings_older_than_the_window_are_pruned_in_batches():
    kept_for = WINDOW + LATE_ARRIVAL
    old, recent = make_article(), make_article()
    post_terms(old, 25, timezone.now() - kept_for - timedelta(hours=1))
    post_terms(recent, 7, timezone.now() - kept_for + timedelta(hours=1))

    assert prune_term_index(batch=10) == 25  # three batches: 10, 10, 5

    assert not ArticleTerm.objects.filter(article=old).exists()
    assert ArticleTerm.objects.filter(article=recent).count() == 7
    assert prune_term_index() == 0
    assert Article.objects.filter(pk=old.pk).exists()  # only its postings go


def test_pruning_stops_at_its_time_budget_and_the_next_run_goes_on():
    post_terms(make_article(), 30, days_ago(30))

    assert prune_term_index(batch=10, budget=0) == 10
    assert prune_term_index_task() == "20 postings pruned"
    assert not ArticleTerm.objects.exists()


def test_without_retention_days_every_article_is_kept(settings):
    settings.RETENTION_DAYS = None
    make_article(published_at=days_ago(4000))

    assert remove_expired_articles() == 0
    assert Article.objects.count() == 1


def test_expired_articles_go_with_their_links_postings_tags_and_empty_stories(settings):
    settings.RETENTION_DAYS = 30
    reader = get_user_model().objects.create_user("reader")
    source = make_source()
    expired = make_article(source=source, published_at=days_ago(40))
    commented = make_article(source=source, published_at=days_ago(40))
    saved = make_article(source=source, published_at=days_ago(41))
    featured = make_article(source=source, published_at=days_ago(42), is_featured=True)
    fresh = make_article(source=source, published_at=days_ago(2))
    Comment.objects.create(article=commented, user=reader, body="Still worth reading.")
    SavedArticle.objects.create(article=saved, user=reader)
    link(expired, fresh)
    link(fresh, expired)
    post_terms(expired, 3, expired.published_at)
    Tag.objects.add_to_articles([(expired.pk, ["Harbour"])])
    alone = make_story(expired)
    shared = make_story(make_article(source=make_source(), published_at=days_ago(39),
                                     word_count=900), fresh)
    assert shared.lead_article_id != fresh.pk

    assert remove_expired_articles() == 2

    assert set(Article.objects.all()) == {commented, saved, featured, fresh}
    assert not RelatedLink.objects.exists()
    assert not ArticleTerm.objects.exists()
    assert not Article.tags.through.objects.exists()
    assert not Story.objects.filter(pk=alone.pk).exists()
    shared.refresh_from_db()
    assert (shared.lead_article_id, shared.article_count) == (fresh.pk, 1)
    assert Article.objects.get(pk=fresh.pk).is_story_lead


def test_expired_articles_are_removed_in_batches(settings):
    settings.RETENTION_DAYS = 7
    source = make_source()
    for day in range(5):
        make_article(source=source, published_at=days_ago(10 + day))
    newest = make_article(source=source, published_at=days_ago(1))

    assert remove_expired_articles(batch=2, budget=0) == 2  # the oldest first
    assert not Article.objects.filter(published_at__lt=days_ago(12.5)).exists()
    assert remove_expired_articles_task() == "3 articles removed"
    assert list(Article.objects.all()) == [newest]


@pytest.mark.postgresql(reason="PostgreSQL's own size functions")
def test_bytes_per_article_counts_the_rows_their_toast_and_indexes():
    import random
    import string

    letters = random.Random(1)
    text = "".join(letters.choice(string.ascii_letters + string.digits) for _ in range(20000))
    source = make_source()
    make_article(source=source)
    before = bytes_per_article()

    for _ in range(4):
        make_article(source=source, body_text=text, body_html=text)

    # Incompressible: each new article stores both copies of its text whole.
    assert bytes_per_article() * 5 - before >= 4 * 2 * len(text)
