"""The article and story pages as a reader sees them, light and dark, desktop and phone (Chromium)."""

from pathlib import Path

import pytest

from tests.factories import link, make_article, make_category, make_source, make_story

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
SCHEMES = ("light", "dark")
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def contexts(browser):
    """A page for each colour scheme and size; closed afterwards."""
    opened = []

    def open_page(scheme, size):
        width, height = SIZES[size]
        context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme)
        opened.append(context)
        return context.new_page()

    yield open_page
    for context in opened:
        context.close()


def shoot_all(contexts, url, name, check):
    """Open `url` in each scheme and size, run `check(page, size)`, keep a full-page screenshot."""
    ARTIFACTS.mkdir(exist_ok=True)
    for scheme in SCHEMES:
        for size in SIZES:
            page = contexts(scheme, size)
            page.goto(url)
            check(page, size)
            page.screenshot(path=str(ARTIFACTS / f"{name}-{scheme}-{size}.png"), full_page=True)


@pytest.fixture
def coverage():
    world = make_category(name="World", slug="world")
    herald = make_source(name="Harbour Herald", category=world)
    times = make_source(name="Northgate Times", category=world)
    courier = make_source(name="Fellside Courier", category=world)
    flood = make_article(
        source=herald,
        title="Marrowby evacuates 1,200 residents as the river Lune floods",
        summary="Storm Corran pushed the river Lune over its banks in Marrowby overnight.",
        body_html="<p>Storm Corran pushed the river Lune over its banks.</p>" * 6,
    )
    follow_up = make_article(
        source=times,
        title="Volunteers fill sandbags as the Lune keeps rising in Marrowby",
        summary="Hundreds of volunteers worked through the night in Marrowby, filling sandbags "
        "outside the school and the church while the water kept rising.",
    )
    make_story(flood, follow_up)
    link(flood, follow_up, 0.6)
    for n, source in enumerate([times, courier, courier, herald, times]):
        make_article(
            source=source,
            title=f"Council weighs the cost of flood defences, part {n + 1}",
            summary="The council met to weigh the cost of new flood defences along the river.",
        )
    flood.refresh_from_db()
    return flood, follow_up


def test_related_cards_sit_beside_the_text_and_before_comments_on_phones(
    contexts, live_server, coverage
):
    flood, follow_up = coverage

    def check(page, size):
        related = page.locator(".related")
        assert related.get_by_role("heading", name="Same story").is_visible()
        assert related.get_by_role("heading", name="More on this topic").is_visible()
        assert related.locator(".related-card").count() >= 5
        assert related.get_by_role("link", name=follow_up.title).is_visible()
        # Two lines of excerpt at most, whatever its length.
        excerpt = related.locator(".related-excerpt").first
        line_height = float(excerpt.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
        assert excerpt.bounding_box()["height"] <= 2 * line_height + 1
        body = page.locator(".article-body").bounding_box()
        cards = related.bounding_box()
        comments = page.locator("#comments").bounding_box()
        if size == "phone":
            assert body["y"] < cards["y"] < comments["y"]
        else:
            assert cards["x"] > body["x"] + body["width"]

    shoot_all(contexts, live_server.url + flood.get_absolute_url(), "article-related", check)


def test_story_page_tells_what_each_source_adds_and_when(contexts, live_server, coverage):
    from articles.models import Article
    from articles.related.additions import refresh_stale_additions

    flood, follow_up = coverage
    Article.objects.filter(pk=flood.pk).update(
        body_text="Storm Corran pushed the river Lune over its banks in Marrowby.\n"
        "Mayor Ilse Varga opened 3 shelters at the Marrowby school on Quay Street."
    )
    Article.objects.filter(pk=follow_up.pk).update(
        body_text="Storm Corran pushed the river Lune over its banks in Marrowby.\n"
        "Insurers put the damage at 40 million pounds, the Northgate Times learned."
    )
    refresh_stale_additions()

    def check(page, size):
        additions = page.locator("#additions")
        assert additions.get_by_role("heading", name="What each source adds").is_visible()
        assert "harbour herald adds:" in additions.inner_text().lower()
        assert "40 million pounds" in additions.inner_text()
        assert page.get_by_role("heading", name="Timeline").is_visible()
        assert page.locator(".timeline-item").count() == 2

    page = contexts("light", "desktop")
    page.goto(live_server.url + flood.get_absolute_url())
    page.get_by_role("link", name="what each adds").click()
    page.wait_for_url(f"**{flood.story.get_absolute_url()}#additions")
    shoot_all(contexts, live_server.url + flood.story.get_absolute_url(), "story-additions", check)


IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
# What Chromium sends once its install criteria are met: an event whose
# prompt() shows its own dialog (out of the page's reach in a test).
OFFER_INSTALL = """() => {
  const event = new Event("beforeinstallprompt", {cancelable: true});
  window.prompted = 0;
  event.prompt = () => { window.prompted += 1; return Promise.resolve(); };
  event.userChoice = Promise.resolve({outcome: "accepted"});
  window.dispatchEvent(event);
}"""


def test_install_block_offers_the_browser_s_install_or_the_ios_hint_and_never_nags(
    browser, contexts, live_server, coverage
):
    flood, _ = coverage
    url = live_server.url + flood.get_absolute_url()

    ARTIFACTS.mkdir(exist_ok=True)
    for scheme in SCHEMES:
        for size in SIZES:
            page = contexts(scheme, size)
            page.goto(url)
            block = page.locator("[data-install]")
            assert block.is_hidden(), "no offer from the browser: nothing shown"
            page.evaluate(OFFER_INSTALL)
            assert block.get_by_role("button", name="Install Lede").is_visible()
            assert block.locator("[data-install-ios]").is_hidden()
            block.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / f"install-offer-{scheme}-{size}.png"))
    block.get_by_role("button", name="Install Lede").click()
    assert page.evaluate("window.prompted") == 1
    page.wait_for_selector("[data-install]", state="hidden")

    for scheme in SCHEMES:
        iphone = browser.new_context(
            user_agent=IPHONE, viewport={"width": 390, "height": 844}, color_scheme=scheme
        )
        page = iphone.new_page()
        page.goto(url)
        hint = page.locator("[data-install-ios]")
        assert hint.is_visible() and "Add to Home Screen" in hint.inner_text()
        assert page.locator("[data-install-button]").is_hidden()
        page.locator("[data-install]").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"install-ios-{scheme}-phone.png"))
        assert page.locator("[role=dialog], dialog[open]").count() == 0, "no pop-up"
        iphone.close()

    installed = browser.new_context(user_agent=IPHONE)
    page = installed.new_page()
    page.add_init_script("Object.defineProperty(navigator, 'standalone', {value: true})")
    page.goto(url)
    page.evaluate(OFFER_INSTALL)
    assert page.locator("[data-install]").is_hidden(), "installed: never shown"
    installed.close()


def test_every_request_of_home_article_and_story_goes_to_our_origin(
    contexts, live_server, coverage, local_server, settings, tmp_path
):
    """Lead images come from our host; a publisher's image in a feed's body is
    dropped; a stored image that is gone shows a neutral placeholder."""
    import io

    from PIL import Image

    from articles.images import store_pending_images
    from articles.models import Article
    from articles.sanitize import clean_html

    settings.MEDIA_ROOT = tmp_path / "media"
    flood, follow_up = coverage
    for n, article in enumerate(Article.objects.all()):
        buffer = io.BytesIO()
        Image.new("RGB", (1600, 900), (40 + 20 * n, 90, 140)).save(buffer, "JPEG")
        url = local_server.add(f"/images/{n}.jpg", buffer.getvalue(), content_type="image/jpeg")
        Article.objects.filter(pk=article.pk).update(lead_image_url=url)
    # A feed's own body, as the fallback stores it: its image is dropped.
    feed_body = f'<p>From the feed.</p><p><img src="{local_server.base}/tracker.gif" alt=""></p>'
    Article.objects.filter(pk=flood.pk).update(body_html=clean_html(feed_body))
    assert store_pending_images() == Article.objects.count()
    publisher_requests = len(local_server.requests)
    gone = Article.objects.get(pk=follow_up.pk).image_thumb.name
    (settings.MEDIA_ROOT / gone).unlink()

    pages = {"home": "/", "article": flood.get_absolute_url(), "story": flood.story.get_absolute_url()}
    for scheme in SCHEMES:
        for size in SIZES:
            page = contexts(scheme, size)
            asked = []
            page.on("request", lambda request: asked.append(request.url))
            for name, path in pages.items():
                page.goto(live_server.url + path)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(ARTIFACTS / f"origin-{name}-{scheme}-{size}.png"), full_page=True)
            assert asked and all(url.startswith(live_server.url) or url.startswith("data:") for url in asked), [
                url for url in asked if not url.startswith(live_server.url)
            ]
            page.goto(live_server.url + flood.get_absolute_url())
            page.wait_for_load_state("networkidle")
            broken = page.evaluate(
                "Array.from(document.images).filter(i => i.complete && i.naturalWidth === 0"
                " && !i.src.startsWith('data:')).map(i => i.src)"
            )
            assert broken == [], "no broken-image icon"
            assert page.locator(".related img.image-placeholder").count() >= 1
    assert len(local_server.requests) == publisher_requests, "no reader's browser asked the publisher"


def test_with_an_s3_store_images_come_from_its_origin_only_and_load_under_the_csp(
    contexts, live_server, coverage, local_server, s3_store
):
    """A bucket named in the settings: the pages' images load from the store's
    origin (the CSP allows it, Chromium enforces it); every other request is ours."""
    import io

    from PIL import Image

    from articles.images import store_pending_images
    from articles.models import Article

    s3_store.configure(MEDIA_S3_ENDPOINT=s3_store.endpoint)
    flood, _ = coverage
    for n, article in enumerate(Article.objects.all()):
        buffer = io.BytesIO()
        Image.new("RGB", (1600, 900), (140, 40 + 20 * n, 90)).save(buffer, "JPEG")
        url = local_server.add(f"/images/{n}.jpg", buffer.getvalue(), content_type="image/jpeg")
        Article.objects.filter(pk=article.pk).update(lead_image_url=url)
    assert store_pending_images() == Article.objects.count()
    publisher_requests = len(local_server.requests)

    pages = {"home": "/", "article": flood.get_absolute_url(), "story": flood.story.get_absolute_url()}
    for scheme in SCHEMES:
        for size in SIZES:
            page = contexts(scheme, size)
            asked, refused = [], []
            page.on("request", lambda request: asked.append(request.url))
            page.on("console", lambda message: refused.append(message.text))
            for name, path in pages.items():
                page.goto(live_server.url + path)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(ARTIFACTS / f"s3-{name}-{scheme}-{size}.png"), full_page=True)
                # Lazy images below the fold too: each is loaded and decoded, or reported.
                loaded = page.evaluate(
                    """async () => {
                        const images = Array.from(document.images).filter(i => !i.src.startsWith('data:'));
                        images.forEach(i => { i.loading = 'eager'; });
                        return Promise.all(images.map(i => i.decode().then(
                            () => [i.src, i.naturalWidth > 0], () => [i.src, false])));
                    }"""
                )
                assert all(ok for _, ok in loaded), (name, loaded)
                assert loaded or name == "story", "the story page shows no images"
            ours = (live_server.url, s3_store.endpoint + "/", "data:")
            assert all(url.startswith(ours) for url in asked), [url for url in asked if not url.startswith(ours)]
            assert any(url.startswith(f"{s3_store.endpoint}/{s3_store.bucket}/images/") for url in asked)
            assert not [text for text in refused if "Content Security Policy" in text], refused
    assert len(local_server.requests) == publisher_requests, "no reader's browser asked the publisher"
