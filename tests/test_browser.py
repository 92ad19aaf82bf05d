"""What a reader and an editor see and click, in Debian's chromium (Playwright)."""

import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from articles.models import Comment, SavedArticle, Source
from articles.summary import key_points
from tests.factories import FLOOD_TEXT, link, make_article, make_category, make_source
from tests.factories import PAGE

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def shoot(page, name):
    """Screenshots at both sizes, for a person to look at (test-artifacts/, ignored by git)."""
    ARTIFACTS.mkdir(exist_ok=True)
    for label, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(ARTIFACTS / f"{name}-{label}.png"))
    page.set_viewport_size({"width": 1280, "height": 800})


@pytest.fixture
def news():
    world = make_category(name="World", slug="world")
    herald = make_source(name="Harbour Herald", slug="harbour-herald", category=world)
    times = make_source(name="Northgate Times", slug="northgate-times", category=world)
    flood = make_article(
        source=herald,
        title="Marrowby evacuates 1,200 residents as the river Lune floods",
        summary="Storm Corran pushed the river Lune over its banks in Marrowby overnight.",
        body_html="".join(f"<p>{line}</p>" for line in FLOOD_TEXT.splitlines()),
        body_text=FLOOD_TEXT,
        # What the pipeline would choose: never the opening shown under it.
        key_points=key_points(FLOOD_TEXT, "Storm Corran pushed the river Lune over its banks in Marrowby overnight."),
    )
    follow_up = make_article(
        source=times,
        title="Volunteers fill sandbags as the Lune keeps rising in Marrowby",
        summary="Hundreds of volunteers worked through the night in Marrowby.",
    )
    link(flood, follow_up, 0.6)
    link(follow_up, flood, 0.6)
    for n in range(8):
        make_article(source=times, title=f"Council budget report part {n}")
    return flood, follow_up


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    yield page
    context.close()


def test_reader_searches_reads_follows_related_signs_up_comments_and_saves(
    page, live_server, news
):
    flood, follow_up = news
    page.goto(live_server.url + "/")
    assert page.get_by_role("heading", name="Latest news").is_visible()
    shoot(page, "reader-1-home")

    page.get_by_role("searchbox", name="Search news").fill("Lune flood")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/?q=*")
    assert page.locator(".search-result").count() >= 1
    assert page.locator(".search-result mark").count() >= 1
    shoot(page, "reader-2-search")

    page.get_by_role("link", name=flood.title).first.click()
    page.wait_for_url(f"**{flood.get_absolute_url()}")
    assert page.get_by_role("heading", name="Key points").is_visible()
    shoot(page, "reader-3-article")

    page.locator(".related").get_by_role("link", name=follow_up.title).click()
    page.wait_for_url(f"**{follow_up.get_absolute_url()}")
    assert page.get_by_role("heading", level=1).inner_text() == follow_up.title

    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password", exact=True).fill("sea-level-rise-77")
    page.get_by_label("Password confirmation").fill("sea-level-rise-77")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(live_server.url + "/")
    assert page.get_by_role("button", name="Sign out ana").is_visible()

    page.goto(live_server.url + flood.get_absolute_url())
    page.get_by_label("Your comment").fill("Stay safe, Marrowby. More at https://example.org/help")
    page.get_by_role("button", name="Post comment").click()
    page.wait_for_selector(".comment")
    assert "Stay safe, Marrowby" in page.locator(".comment").inner_text()
    assert page.locator(".comment a[href='https://example.org/help']").count() == 1
    shoot(page, "reader-4-comment")

    page.get_by_role("button", name="Save").first.click()
    page.wait_for_selector("button.is-saved")
    page.get_by_role("link", name="Saved").click()
    page.wait_for_url("**/saved/")
    assert page.get_by_role("link", name=flood.title).is_visible()
    shoot(page, "reader-5-saved")

    user = get_user_model().objects.get(username="ana")
    assert Comment.objects.filter(user=user, article=flood).count() == 1
    assert SavedArticle.objects.filter(user=user, article=flood).exists()


def test_installable_and_saved_article_opens_offline(page, live_server, news):
    flood, _ = news
    manifest = json.loads(page.request.get(live_server.url + "/manifest.webmanifest").text())
    assert manifest["display"] == "standalone"
    assert {icon["sizes"] for icon in manifest["icons"]} >= {"192x192", "512x512"}

    get_user_model().objects.create_user("ben", password="offline-reading-12")
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("ben")
    page.get_by_label("Password").fill("offline-reading-12")
    page.get_by_role("button", name="Sign in").click()
    page.goto(live_server.url + flood.get_absolute_url())
    page.get_by_role("button", name="Save").first.click()
    page.goto(live_server.url + "/saved/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    # Load once under the worker's control so it keeps its copies.
    page.reload()
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function(
        f"caches.open('lede-pages-v1').then(c => c.match('{flood.get_absolute_url()}')).then(Boolean)"
    )
    page.context.set_offline(True)
    page.goto(live_server.url + flood.get_absolute_url())
    assert page.get_by_role("heading", level=1).inner_text() == flood.title
    shoot(page, "reader-6-offline")
    page.context.set_offline(False)


def test_editor_imports_opml_and_previews_extraction(
    page, live_server, local_server, tmp_path, settings, sync_tasks
):
    get_user_model().objects.create_superuser("editor", "e@example.org", "editing-news-99")
    paragraphs = "".join(
        f"<p>Paragraph {n}: the harbour bridge repairs start on Monday, the council said, "
        "after a long debate about cost, traffic and safety.</p>" for n in range(6)
    )
    article_url = local_server.add("/bridge.html", PAGE.format(title="Bridge repairs", paragraphs=paragraphs))
    # The live server runs in this process: the allowlist reaches its fetches.
    opml = tmp_path / "sources.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head/><body><outline text="Local">'
        '<outline type="rss" text="Quay Gazette" xmlUrl="https://quay.example/rss"/>'
        "</outline></body></opml>"
    )
    page.goto(live_server.url + "/admin/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill("editing-news-99")
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server.url + "/admin/articles/source/")
    page.get_by_role("link", name="Import OPML").click()
    page.set_input_files("input[type=file]", str(opml))
    page.get_by_role("button", name="Import").click()
    page.wait_for_selector("text=Imported 1 new source(s)")
    assert Source.objects.filter(name="Quay Gazette", category__name="Local").exists()
    shoot(page, "editor-1-import")

    page.get_by_role("link", name="Back to the sources").click()
    page.get_by_role("link", name="Preview extraction").click()
    page.get_by_label("Page URL").fill(article_url)
    page.get_by_role("button", name="Preview").click()
    page.wait_for_selector(".preview-text")
    assert "harbour bridge repairs" in page.locator(".preview-text").inner_text()
    assert "Bridge repairs" in page.locator(".preview").inner_text()
    shoot(page, "editor-2-preview")
