from datetime import timedelta

import pytest
from django.utils import timezone

from articles.article_page import page_article
from articles.models import Tag
from articles.related import relate_article
from articles.related.topics import article_names, related_coverage
from tests.factories import link, make_article, make_category, make_source, make_story

pytestmark = pytest.mark.django_db


def texts(*names):
    """A body that names `names` among ordinary words: relating indexes them as '^' terms."""
    filler = "The council met on the matter and the residents waited for the decision on the plan."
    return "\n".join(f"{filler} Officials said {name} would decide soon." for name in names * 3)


def titles(cards):
    return [card.title for card in cards]


def test_same_story_lists_links_and_story_members_other_sources_first():
    """A story of three sources lists both others, linked or not; the article's own
    source comes last; a copy is never a card."""
    source = make_source()
    article = make_article(source=source, title="Rail strike begins")
    own_source = make_article(source=source, title="Rail strike: own follow-up")
    other = make_article(title="Rail strike: other source")
    unlinked = make_article(title="Rail strike: third source, not linked")
    copy = make_article(title="Rail strike copy", copy_of=other)
    make_story(article, own_source, other, unlinked, copy)
    link(article, own_source, 0.9)
    link(article, other, 0.4)
    article.refresh_from_db()

    same_story, _ = related_coverage(article, [])

    assert titles(same_story)[-1] == "Rail strike: own follow-up"
    assert set(titles(same_story)) == {
        "Rail strike: own follow-up", "Rail strike: other source", "Rail strike: third source, not linked"
    }
    assert titles(same_story)[0] == "Rail strike: other source"  # linked, other source


def topic_world():
    """An article with a name shared by one article of its category, a tag
    ("Bridges") shared by another, a third sharing the category alone and a
    fourth sharing nothing: (article, the tag, the category's sources)."""
    world = make_category()
    sources = [make_source(category=world) for _ in range(3)]
    article = make_article(source=sources[0], title="Varga opens the Lune bridge", body_text=texts("Ilse Varga", "Lune"))
    named = make_article(source=sources[1], title="Varga's budget", body_text=texts("Ilse Varga", "Marrowby"))
    tagged = make_article(source=sources[2], title="Bridges everywhere", body_text=texts("Keswick"))
    plain = make_article(source=sources[1], title="Same category only", body_text=texts("Penrith"))
    elsewhere = make_article(title="Other category, nothing shared", body_text=texts("Carlisle"))
    for item in (article, named, tagged, plain, elsewhere):
        relate_article(item.pk)
    bridges = Tag.objects.create(name="Bridges", slug="bridges")
    article.tags.add(bridges)
    tagged.tags.add(bridges)
    article.refresh_from_db()
    return article, bridges, sources


def test_more_on_this_topic_ranks_shared_names_then_tags_then_category():
    article, bridges, _sources = topic_world()

    same_story, more = related_coverage(article, [bridges.pk])

    listed = titles(same_story)
    topic = [title for title in titles(more) if title not in listed]
    assert topic == titles(more), "never something already listed"
    assert "Other category, nothing shared" not in topic
    expected = [title for title in ["Varga's budget", "Bridges everywhere", "Same category only"] if title not in listed]
    assert topic == expected


@pytest.mark.postgresql(reason="prepared statements and their plans are PostgreSQL's")
def test_the_page_reads_run_prepared_with_one_plan_and_rank_alike(client):
    """The article page's reads (articles/rows.py) are prepared once a connection
    has run them a few times, planned once for all values, and give the same
    cards prepared as not: names, then tags (a rare one beside a common one),
    then the category."""
    from django.db import connection

    article, _bridges, sources = topic_world()
    common = Tag.objects.create(name="News", slug="news")
    article.tags.add(common)
    for _ in range(60):  # a tag most of the archive carries, none of it in the window
        make_article(source=sources[2], published_at=timezone.now() - timedelta(days=30)).tags.add(common)
    article.refresh_from_db()

    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone()[0] == "force_generic_plan"
    seen = []
    for _ in range(8):
        shown = page_article(article.slug)
        same_story, more = related_coverage(shown, [tag.pk for tag in shown.tag_list])
        seen.append((titles(same_story), titles(more)))
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200 and b"Varga&#x27;s budget" in response.content
    assert all(cards == seen[0] for cards in seen), "prepared or not, the same cards"
    topic = [title for title in seen[0][1] if title not in seen[0][0]]
    assert topic == [
        t for t in ["Varga's budget", "Bridges everywhere", "Same category only"] if t not in seen[0][0]
    ], "the common tag's old articles are outside the window"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE %s OR statement LIKE %s",
            ["WITH candidates%", "SELECT % WHERE a.slug = %"],
        )
        prepared = cursor.fetchall()
    assert len(prepared) >= 2, "the topic statement and the article's own row are prepared"
    assert all(generic > 0 and custom == 0 for _statement, generic, custom in prepared)


def test_at_least_four_cards_when_the_category_holds_four_recent_articles():
    """Nothing shared but the category: four other shown articles of the last
    seven days fill the list, other sources first; a copy, a hidden article and
    one older than the window do not."""
    world = make_category()
    own, other = make_source(category=world), make_source(category=world)
    article = make_article(source=own)
    recent = [make_article(source=source) for source in (own, other, other, own)]
    make_article(source=other, copy_of=recent[1])
    make_article(source=other, is_hidden=True)
    make_article(source=other, published_at=timezone.now() - timedelta(days=20))

    _, more = related_coverage(article, [])

    assert {card.pk for card in more} == {card.pk for card in recent}
    assert [card.source_id for card in more[:2]] == [other.pk, other.pk]


def test_the_related_queries_do_not_grow_with_the_cards(django_assert_num_queries):
    world = make_category()
    article = make_article(source=make_source(category=world))
    for _ in range(10):
        link(article, make_article(source=make_source(category=world)))
        make_article(source=make_source(category=world))
    # Same story, the article's names, more on this topic.
    with django_assert_num_queries(3):
        same_story, more = related_coverage(article, [])
    assert len(same_story) == 8 and len(more) == 6


def test_article_page_shows_both_parts_as_cards_before_comments(client):
    world = make_category()
    article = make_article(source=make_source(category=world), title="Flood in Marrowby")
    follow_up = make_article(title="Marrowby follow-up", summary="Volunteers filled sandbags all night.")
    link(article, follow_up)
    topical = [make_article(source=make_source(name=f"Paper {n}", category=world)) for n in range(4)]

    html = client.get(article.get_absolute_url()).content.decode()

    assert html.index("Same story") < html.index("Marrowby follow-up") < html.index("More on this topic")
    for card in topical:
        assert card.title in html and card.source.name in html
    assert "Volunteers filled sandbags all night." in html
    assert html.count('class="related-card"') == 5
    assert html.index("More on this topic") < html.index('id="comments"')


def test_an_article_with_no_names_tags_or_category_has_no_topic_cards():
    article = make_article(source=make_source(category=None), body_text="")
    make_article(source=make_source(category=None), body_text="")
    assert article_names(article) == []
    assert related_coverage(article, []) == ([], [])
