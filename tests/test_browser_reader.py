"""What a new reader meets in the browser (issue #22): each rough edge, kept fixed."""

import pytest
from django.contrib.auth import get_user_model

from articles.models import Comment, SavedArticle
from articles.summary import key_points
from tests.browser import (
    DESKTOP, PHONE, assert_accessible, covered_controls, open_page, shoot, sign_in,
)
from tests.factories import FLOOD_TEXT, link, make_article, make_category, make_source, make_story

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
PASSWORD = "sea-level-rise-77"


@pytest.fixture
def news():
    world = make_category(name="World", slug="world")
    business = make_category(name="Business", slug="business")
    herald = make_source(name="Harbour Herald", slug="harbour-herald", category=world)
    times = make_source(name="Northgate Times", slug="northgate-times", category=world)
    courier = make_source(name="Quay Courier", slug="quay-courier", category=world)
    ledger = make_source(name="Market Ledger", slug="market-ledger", category=business)
    flood = make_article(
        source=herald,
        title="Marrowby evacuates 1,200 residents as the river Lune floods",
        summary="Storm Corran pushed the river Lune over its banks in Marrowby overnight.",
        body_html="".join(f"<p>{line}</p>" for line in FLOOD_TEXT.splitlines()),
        body_text=FLOOD_TEXT,
        # What the pipeline would choose: never the opening shown under it.
        key_points=key_points(FLOOD_TEXT, "Storm Corran pushed the river Lune over its banks in Marrowby overnight."),
    )
    sandbags = make_article(
        source=times,
        title="Volunteers fill sandbags as the Lune keeps rising in Marrowby",
        summary="Hundreds of volunteers worked through the night in Marrowby.",
    )
    railway = make_article(
        source=courier,
        title="Railway to Marrowby closed by the Lune floods",
        summary="The Railway line is shut until the water falls.",
    )
    for article in (flood, sandbags, railway):
        for other in (flood, sandbags, railway):
            if other != article:
                link(article, other, 0.6)
    story = make_story(flood, sandbags, railway)
    for n in range(6):
        make_article(source=ledger, title=f"Market report part {n}: shares steady")
    for n in range(4):
        make_article(source=times, title=f"Council budget report part {n}")
    get_user_model().objects.create_user("ana", password=PASSWORD)
    return {"flood": flood, "sandbags": sandbags, "railway": railway, "story": story}


def test_save_on_a_homepage_card_saves_instead_of_opening(browser, live_server, news):
    """The headline's card-wide link sits under the Save button: a click saves."""
    with open_page(browser) as page:
        sign_in(page, live_server.url, "ana", PASSWORD)
        page.goto(live_server.url + "/")
        page.locator(".card .save-button").first.click()
        page.wait_for_selector(".card button.is-saved")
        assert page.url == live_server.url + "/"
    assert SavedArticle.objects.filter(user__username="ana").count() == 1


def test_sign_in_page_is_branded_with_the_site_name(browser, live_server, news):
    with open_page(browser) as page:
        page.goto(live_server.url + "/accounts/login/")
        assert page.title() == "Sign in · Lede"
        assert page.locator(".site-name").inner_text() == "Lede"
        assert "127.0.0.1" not in page.locator(".site-footer").inner_text()
        assert_accessible(page)
        shoot(page, "sign-in")


def test_search_on_a_phone_shows_results_in_the_first_screen(browser, live_server, news):
    """The filters fit above the fold, and the marks hold whole words."""
    with open_page(browser, size=PHONE) as page:
        page.goto(live_server.url + "/search/?q=railway")
        first = page.locator(".search-result").first
        assert first.bounding_box()["y"] < PHONE[1] * 0.6
        marks = page.locator(".search-result mark").all_inner_texts()
        assert marks and all(mark.lower() == "railway" for mark in marks), marks
        assert_accessible(page)
        shoot(page, "search")
    with open_page(browser) as page:
        page.goto(live_server.url + "/search/?q=railway")
        tops = [page.locator(f'.search-form label[for="{name}"]').bounding_box()["y"]
                for name in ("q", "source", "category", "period")]
        assert max(tops) - min(tops) < 1, tops  # the labels line up over their fields


def test_older_matches_go_on_past_the_newest_ranked_and_back(browser, live_server, news, monkeypatch):
    """A capped search's link leads to the matches before the ones ranked, and
    back; the search form above the results takes its click (no control on
    the page is covered: test_no_control_is_covered_on_any_page)."""
    from articles import search

    monkeypatch.setattr(search, "MAX_RANKED", 2)  # "Marrowby" is in three headlines
    with open_page(browser) as page:
        page.goto(live_server.url + "/search/?q=marrowby")
        assert page.locator(".search-result").count() == 2
        shoot(page, "search-capped")
        page.locator("p.older-matches").get_by_role("link", name="Older matches →").click()
        page.wait_for_url("**before=*")
        assert page.locator(".search-result").count() == 1
        assert "1 older result for “marrowby”." in page.locator("p.meta").first.inner_text()
        assert_accessible(page)
        page.get_by_role("link", name="Back to the newest").click()
        page.wait_for_url("**/search/?q=marrowby")
        page.locator("#q").fill("railway")
        page.locator("button.search-submit").click()
        page.wait_for_url("**q=railway*")
        assert page.locator(".search-result").count() == 1


def test_no_control_is_covered_on_any_page(browser, live_server, news, monkeypatch):
    """On every page a reader, a signed-in reader or an editor sees, at both
    sizes, each link, button and field takes its own click (a result's
    card-wide link had covered the search page)."""
    from articles import search
    from articles.models import Tag

    monkeypatch.setattr(search, "MAX_RANKED", 2)  # the search page with its "older" link
    flood, ana = news["flood"], get_user_model().objects.get(username="ana")
    flood.tags.add(Tag.objects.create(name="Floods", slug="floods"))
    Comment.objects.create(article=flood, user=ana, body="Stay safe, Marrowby.")
    SavedArticle.objects.create(article=flood, user=ana)
    get_user_model().objects.create_superuser("ed", password=PASSWORD)
    visits = {
        None: ["/", flood.get_absolute_url(), "/sources/harbour-herald/", "/categories/world/",
               "/tags/floods/", f"/stories/{news['story'].pk}/", "/search/?q=marrowby",
               "/search/?q=report", "/feeds/", "/accounts/login/", "/accounts/signup/"],
        "ana": ["/", flood.get_absolute_url(), "/saved/", "/search/?q=marrowby"],
        "ed": ["/admin/", "/admin/articles/source/", f"/admin/articles/source/{flood.source_id}/change/",
               "/admin/articles/article/", f"/admin/articles/article/{flood.pk}/change/",
               "/admin/articles/comment/"],
    }
    for username, paths in visits.items():
        with open_page(browser) as page:
            if username:
                sign_in(page, live_server.url, username, PASSWORD, admin=username == "ed")
            for path in paths:
                page.goto(live_server.url + path)
                covered = covered_controls(page)
                assert covered == [], (path, covered)


def test_comment_outcome_shows_beside_the_comments_and_deleting_asks_first(
    browser, live_server, news
):
    flood = news["flood"]
    with open_page(browser) as page:
        sign_in(page, live_server.url, "ana", PASSWORD)
        page.goto(live_server.url + flood.get_absolute_url())
        page.get_by_label("Your comment").fill("Stay safe, Marrowby.")
        page.get_by_role("button", name="Post comment").click()
        notice = page.locator("#comments .message", has_text="Your comment is posted.")
        notice.wait_for()
        assert notice.is_visible()
        assert page.locator("main > .messages").count() == 0
        top = page.evaluate("window.scrollY")
        box = notice.bounding_box()
        assert top <= box["y"] + top < top + 900  # in the screen the page landed on

        page.get_by_role("link", name="Delete your comment").click()
        assert page.get_by_role("heading", name="Delete your comment?").is_visible()
        assert Comment.objects.filter(user__username="ana").count() == 1
        assert_accessible(page)
        page.get_by_role("button", name="Delete comment").click()
        page.locator("#comments .message", has_text="Your comment is deleted.").wait_for()
    assert Comment.objects.filter(user__username="ana").count() == 0


def test_the_footer_feed_link_shows_a_readable_page_that_says_how_to_subscribe(
    browser, live_server, news
):
    """The footer leads to a page about the feeds; the feeds themselves, opened
    in a browser that still runs XSLT, show a page too, not raw XML."""
    with open_page(browser) as page:
        page.goto(live_server.url + "/")
        page.locator(".site-footer").get_by_role("link", name="RSS and Atom feeds").click()
        page.wait_for_load_state()
        assert page.get_by_role("heading", name="Follow Lede in a feed reader").is_visible()
        assert_accessible(page)
        shoot(page, "feeds")
        page.get_by_role("link", name="RSS").first.click()
        page.wait_for_load_state()
        heading = page.get_by_role("heading", name="This is a news feed")
        heading.wait_for()  # the stylesheet is fetched and applied after the feed loads
        assert page.get_by_role("link", name=news["flood"].title).is_visible()
        # Chromium's own banner about removing XSLT is not the page's.
        assert_accessible(page, exclude=["xslt-warning-banner"])
        shoot(page, "feed-rss")
        page.goto(live_server.url + "/feeds/latest.atom")
        page.get_by_role("heading", name="This is a news feed").wait_for()


def test_homepage_article_and_story_pages_read_well_and_pass_axe(browser, live_server, news):
    """Top stories first, with the other sources' headlines and names; a section
    per category; then the article and the story's page."""
    with open_page(browser) as page:
        page.goto(live_server.url + "/")
        top = page.locator(".top-stories")
        assert top.get_by_role("heading", name="Top stories").is_visible()
        assert top.locator(".other-coverage li").count() == 2
        named = top.locator(".story-sources").first.inner_text()
        assert all(name in named for name in ("Harbour Herald", "Northgate Times", "Quay Courier"))
        assert page.get_by_role("heading", name="Business").is_visible()
        assert_accessible(page)
        shoot(page, "home")
        page.goto(live_server.url + news["flood"].get_absolute_url())
        assert_accessible(page)
        shoot(page, "article")
        page.goto(live_server.url + news["story"].get_absolute_url())
        assert_accessible(page)
        shoot(page, "story")


def test_the_lead_picture_is_shown_whole(browser, live_server, local_server, settings, tmp_path):
    """Never cropped to fill its column: words printed near its edges stay readable."""
    import io

    from PIL import Image

    from articles.tasks import store_lead_images_task

    settings.MEDIA_ROOT = tmp_path / "media"
    buffer = io.BytesIO()
    Image.new("RGB", (1600, 1200), "teal").save(buffer, "JPEG")
    url = local_server.add("/lead.jpg", buffer.getvalue(), content_type="image/jpeg")
    make_article(title="Harbour at dawn", lead_image_url=url)
    store_lead_images_task()
    for size in (DESKTOP, PHONE):
        with open_page(browser, size=size) as page:
            page.goto(live_server.url + "/")
            image = page.locator(".card-lead .card-image")
            image.wait_for()
            page.wait_for_function("document.querySelector('.card-lead .card-image').complete")
            box, natural = image.evaluate(
                "e => [e.clientWidth / e.clientHeight, e.naturalWidth / e.naturalHeight]"
            )
            assert abs(box - natural) < 0.02, (size, box, natural)
