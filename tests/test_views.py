from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils.timezone import now as timezone_now

from articles.models import Article
from tests.factories import link, make_article, make_category, make_source, make_story




@pytest.mark.django_db
@pytest.mark.parametrize("related", [1, 6])
@pytest.mark.parametrize("comments", [0, 1, 3])
def test_article_page_query_count_is_fixed(
    client, django_assert_num_queries, django_user_model, related, comments
):
    """The article page runs the same queries with 1 or 6 related articles, for a
    copy in a story too (its original and story come with the article's row);
    its comments are read only when it has some, by one query however many."""
    from articles.models import Comment
    from articles.reader import refresh_comment_counts

    original = make_article(source=make_source(name="First Wire"))
    article = make_article(copy_of=original)
    make_story(original, article, make_article())
    others = [make_article() for _ in range(related)]
    for other in others:
        link(article, other)
    readers = [
        django_user_model.objects.create_user(f"reader{n}", password="x-pass-123456")
        for n in range(comments)
    ]
    for n, reader in enumerate(readers):
        Comment.objects.create(article=article, user=reader, body=f"Comment number {n}")
    refresh_comment_counts([article.pk])
    # article, copies, tags, navigation, same story, more on this topic; comments
    with django_assert_num_queries(7 if comments else 6):
        response = client.get(article.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    for n in range(comments):
        assert f"Comment number {n}" in html and f"reader{n}" in html
    for other in others:
        assert other.title in html
        assert other.source.name in html
    assert "Related articles" in html
    assert "first published by" in html and "First Wire" in html
    assert "Covered by 3 sources" in html


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 30])
def test_homepage_query_count_is_fixed(client, django_assert_num_queries, count):
    source = make_source(category=make_category(name="World", slug="world"))
    for _ in range(count):
        make_article(source=source)
    # count, page, featured, top stories, category sections and their
    # categories, navigation
    with django_assert_num_queries(7):
        response = client.get(reverse("articles:list"))
    assert response.status_code == 200
    assert len(response.context["article_list"]) == min(count, 24)


@pytest.mark.django_db
def test_article_page_shows_everything_a_reader_needs(client):
    source = make_source(name="Daily Planet")
    article = make_article(
        source=source,
        author="Lois Lane",
        # Hours old: the factory's default date is "now" for every 48th article.
        published_at=timezone_now() - timedelta(hours=3),
        lead_image_url="https://img.example/lead.jpg",
        image_lead="images/ab/abcdef-lead.webp",
        image_thumb="images/ab/abcdef-thumb.webp",
        body_html="<p>First paragraph.</p><p>Second paragraph.</p>",
        canonical_url="https://dailyplanet.example/story",
        key_points=["The first point.", "The second point.", "The third point."],
    )
    html = client.get(article.get_absolute_url()).content.decode()
    assert article.title in html
    assert 'href="%s"' % source.get_absolute_url() in html
    assert "Lois Lane" in html
    # The stored copy, from our origin; never the publisher's URL.
    assert 'src="/media/images/ab/abcdef-lead.webp"' in html and "img.example" not in html
    assert "<p>Second paragraph.</p>" in html
    assert 'href="https://dailyplanet.example/story"' in html
    assert "Read the original at" in html
    assert "ago" in html  # relative time
    assert "No related articles yet." in html
    assert "Key points" in html and "<li>The third point.</li>" in html


@pytest.mark.django_db
def test_hidden_and_unready_articles_are_not_shown(client):
    hidden = make_article(is_hidden=True)
    pending = make_article(state=Article.State.PENDING)
    shown = make_article()
    html = client.get(reverse("articles:list")).content.decode()
    assert shown.title in html
    assert hidden.title not in html and pending.title not in html
    assert client.get(hidden.get_absolute_url()).status_code == 404
    assert client.get(pending.get_absolute_url()).status_code == 404


@pytest.mark.django_db
def test_source_and_category_pages_list_their_articles(client, django_assert_num_queries):
    category = make_category(name="Science", slug="science")
    source = make_source(category=category)
    mine = [make_article(source=source) for _ in range(3)]
    other = make_article()
    # The first page reads the navigation's categories; the second has them
    # from the process's menus (articles/menus.py).
    for url, queries in ((source.get_absolute_url(), 4), (category.get_absolute_url(), 3)):
        with django_assert_num_queries(queries):
            html = client.get(url).content.decode()
        assert all(article.title in html for article in mine)
        assert other.title not in html
    assert client.get(reverse("articles:source", args=["nope"])).status_code == 404


@pytest.mark.django_db
def test_pagination(client):
    source = make_source()
    for _ in range(30):
        make_article(source=source)
    page2 = client.get(reverse("articles:list") + "?page=2")
    assert page2.status_code == 200
    assert len(page2.context["article_list"]) == 6
    assert client.get(reverse("articles:list") + "?page=9").status_code == 404


@pytest.mark.django_db
def test_story_page_lists_coverage_earliest_first(client):
    first = make_article()
    second = make_article()
    story = make_story(first, second)
    response = client.get(story.get_absolute_url())
    titles = [article.title for article in response.context["coverage"]]
    earliest = sorted([first, second], key=lambda a: a.published_at)
    assert titles == [a.title for a in earliest]


def test_healthz(client):
    assert client.get("/healthz").content == b"ok"


def queries_for(client, url):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.mark.django_db
@pytest.mark.parametrize("signed_in", [False, True])
def test_no_page_query_count_grows_with_content(client, django_user_model, signed_in):
    """Every reader page costs the same queries with 1 item as with many."""
    from articles.reader import refresh_comment_counts, set_saved
    from articles.models import Comment, Story, Tag
    from articles.related import refresh_stories
    
    user = django_user_model.objects.create_user("counter", password="pw-123456789")
    if signed_in:
        client.force_login(user)
    category = make_category(name="World", slug="world")
    source = make_source(category=category, slug="wire")
    tag = Tag.objects.create(name="Floods", slug="floods")
    story = Story.objects.create(first_published_at=timezone_now(), updated_at=timezone_now())
    main = make_article(source=source, title="Harbour flood warning", story=story)
    urls = [
        "/", "/?page=1", source.get_absolute_url(), category.get_absolute_url(),
        tag.get_absolute_url(), "/search/?q=harbour", story.get_absolute_url(),
        main.get_absolute_url(), "/feeds/latest.rss", "/sitemap.xml",
    ] + (["/saved/"] if signed_in else [])

    def grow(n):
        for _ in range(n):
            article = make_article(source=source, title="Harbour flood update", story=story)
            article.tags.add(tag)
            link(main, article)
            Comment.objects.create(article=main, user=user, body="A comment")
            set_saved(user, article, True)
        refresh_stories([story.pk])
        refresh_comment_counts([main.pk])

    grow(1)
    few = {url: queries_for(client, url) for url in urls}
    grow(12)
    many = {url: queries_for(client, url) for url in urls}
    assert few == many


@pytest.mark.django_db
def test_homepage_shows_a_story_once_with_its_source_count(client):
    lead = make_article(title="Rail strike halts trains", word_count=600)
    other = make_article(title="Commuters stranded by rail strike", word_count=300)
    story = make_story(lead, other)
    html = client.get("/").content.decode()
    # One card; the other source's headline only among the story's other coverage.
    assert html.count(f">{lead.title}</a></h2>") == 1
    assert f">{other.title}</a></h2>" not in html
    assert "2 sources" in html and story.get_absolute_url() in html
    coverage = client.get(story.get_absolute_url()).content.decode()
    assert lead.title in coverage and other.title in coverage


@pytest.mark.django_db
def test_syndicated_copy_is_shown_once_with_also_published_by(client):
    original = make_article(title="Wire report on the harbour")
    copy = make_article(title="Wire report on the harbour", copy_of=original,
                        source=make_source(name="Second Paper"))
    home = client.get("/").content.decode()
    assert home.count("Wire report on the harbour") == 1
    page = client.get(original.get_absolute_url()).content.decode()
    assert "Also published by" in page and "Second Paper" in page
    copy_page = client.get(copy.get_absolute_url()).content.decode()
    assert "first published by" in copy_page and original.source.name in copy_page


@pytest.mark.django_db
def test_homepage_follows_the_story_lead_when_the_lead_is_hidden(client):
    from articles.related import refresh_stories

    lead = make_article(title="Dam breach floods valley", word_count=900)
    other = make_article(title="Valley residents evacuated after dam breach", word_count=400)
    story = make_story(lead, other)
    flags = dict(Article.objects.values_list("pk", "is_story_lead"))
    assert flags == {lead.pk: True, other.pk: False}
    Article.objects.filter(pk=lead.pk).update(is_hidden=True)
    refresh_stories([story.pk])
    flags = dict(Article.objects.values_list("pk", "is_story_lead"))
    assert flags == {lead.pk: False, other.pk: True}
    html = client.get("/").content.decode()
    assert other.title in html and lead.title not in html


@pytest.mark.django_db
def test_lists_go_back_a_bounded_number_of_pages(client, monkeypatch):
    """A list counts at most MAX_LISTED articles, so its cost does not grow with the archive."""
    from articles import views

    monkeypatch.setattr(views, "MAX_LISTED", 2 * views.PAGE_SIZE)
    source = make_source()
    for _ in range(2 * views.PAGE_SIZE + 5):
        make_article(source=source)
    assert client.get("/?page=2").status_code == 200
    assert client.get("/?page=3").status_code == 404
    assert client.get(source.get_absolute_url() + "?page=3").status_code == 404


@pytest.mark.django_db
def test_empty_homepage_tells_staff_what_failed_and_readers_nothing_false(client, admin_client):
    """Offline, every source failed: staff read how many and why, with a link to
    the admin; readers a neutral line, never "fills within a minute" forever."""
    for n in range(3):
        make_source(consecutive_failures=2, last_error="Failed to resolve domain")
    make_source(consecutive_failures=1, last_error="HTTP 503")
    make_source()  # never fetched
    staff = admin_client.get("/").content.decode()
    assert "4 of 5 sources failed to fetch." in staff
    assert "Failed to resolve domain (3)" in staff and "HTTP 503 (1)" in staff
    assert "/admin/articles/source/?health=failing" in staff
    assert "make demo" in staff
    reader = client.get("/").content.decode()
    assert "No news to show yet" in reader
    assert "failed" not in reader and "within a minute" not in reader


@pytest.mark.django_db
def test_homepage_leads_with_top_stories_naming_their_sources_then_sections(client, django_assert_num_queries):
    """The biggest recent stories (most sources, then freshest) with the other
    sources' headlines and every source named; then a section per category; a
    source's own page does not repeat its name on every card."""
    from datetime import timedelta

    world = make_category(name="World", slug="world")
    sport = make_category(name="Sport", slug="sport")
    names = ["Harbour Herald", "Northgate Times", "Quay Courier"]
    sources = [make_source(name=name, category=world) for name in names]
    # Dates of their own: the factory's default hour cycles with its counter,
    # which xdist's test order moves.
    now = timezone_now()
    flood = [
        make_article(source=source, title=f"Lune floods: report {n}", word_count=900 - n,
                     published_at=now - timedelta(hours=n))
        for n, source in enumerate(sources)
    ]
    make_story(*flood)
    small = [make_article(source=sources[n], title=f"Budget row {n}", published_at=now - timedelta(hours=3 + n))
             for n in range(2)]
    make_story(*small)
    old = now - timedelta(days=4)
    stale = [make_article(source=source, title=f"Old quake {n}", published_at=old) for n, source in enumerate(sources)]
    make_story(*stale)
    cup = make_article(source=make_source(name="Pitch Post", category=sport), title="Cup final tonight")
    with django_assert_num_queries(10):
        response = client.get("/")
    top = response.context["top_stories"]
    stories = [Article.objects.get(pk=group[0].pk).story_id for group in (flood, small)]
    assert [article.story_id for article in top] == stories
    assert [a.title for a in top[0].other_coverage] == ["Lune floods: report 1", "Lune floods: report 2"]
    html = response.content.decode()
    assert "Harbour Herald, Northgate Times, Quay Courier" in html
    sections = dict((category.name, articles) for category, articles in response.context["sections"])
    assert [a.title for a in sections["Sport"]] == [cup.title]
    assert flood[0] not in sections["World"]  # shown once, in the top stories
    page = client.get(sources[0].get_absolute_url()).content.decode()
    assert page.count('class="source-label"') == 0
