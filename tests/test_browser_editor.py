"""What a new editor meets in the admin (issue #22): each rough edge, kept fixed."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.contrib.auth import get_user_model

from tests.browser import DESKTOP, assert_accessible, open_page, shoot, sign_in
from tests.factories import PAGE, make_article, make_category, make_source

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
PASSWORD = "editing-news-99"
LONG_ERROR = (
    "Failed to resolve domain feeds.harbour-herald.example: [Errno -3] Temporary failure in "
    "name resolution; the fetch is retried with backoff after every failure"
)


@pytest.fixture
def newsroom():
    world = make_category(name="World", slug="world")
    sources = [
        make_source(
            name=f"Harbour Herald edition {n}", category=world, language="en" if n % 2 else "",
            consecutive_failures=n % 3, last_error=LONG_ERROR if n % 3 else "",
            last_fetched_at=timezone.now() - timedelta(minutes=n),
        )
        for n in range(12)
    ]
    for n in range(30):
        make_article(
            source=sources[n % 12],
            title=f"Marrowby council approves the long-delayed harbour bridge repairs after a "
            f"heated six-hour debate about cost, traffic and safety, part {n}",
        )
    get_user_model().objects.create_superuser("editor", "editor@example.org", PASSWORD)
    return sources


def fits_the_width(page):
    """Nothing off to the right: neither the page nor the list's own scroller."""
    return page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth && "
        "[...document.querySelectorAll('.results')].every(e => e.scrollWidth <= e.clientWidth)"
    )


def test_admin_lists_fit_1366_px_with_full_values_on_hover(browser, live_server, newsroom):
    with open_page(browser, size=DESKTOP) as page:
        missing = []
        page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
        sign_in(page, live_server.url, "editor", PASSWORD, admin=True)
        page.goto(live_server.url + "/admin/articles/source/")
        assert fits_the_width(page)
        error = page.locator("td.field-short_error .truncated").first
        assert error.get_attribute("title") == LONG_ERROR
        assert error.evaluate("e => e.scrollWidth > e.clientWidth")  # cut, not wrapped
        tools = page.locator(".object-tools")
        assert tools.get_by_role("link", name="Import OPML").is_visible()
        assert tools.get_by_role("link", name="Export OPML").is_visible()
        assert_accessible(page)
        shoot(page, "admin-sources")

        page.goto(live_server.url + "/admin/articles/article/")
        assert fits_the_width(page)
        heights = page.locator("#result_list tbody tr").evaluate_all(
            "rows => rows.map(row => row.getBoundingClientRect().height)"
        )
        assert len(heights) == 30 and max(heights) < 60, heights  # one line a row
        assert_accessible(page)
        shoot(page, "admin-articles")
        assert not missing, missing  # the favicon among them


def test_admin_change_pages_and_preview_pass_axe(browser, live_server, newsroom, local_server):
    paragraphs = "".join(
        f"<p>Paragraph {n}: the harbour bridge repairs start on Monday, the "
        '<a href="/council">council</a> said, after a long debate about cost.</p>'
        for n in range(6)
    )
    page_url = local_server.add("/bridge.html", PAGE.format(title="Bridge repairs", paragraphs=paragraphs))
    source = newsroom[1]
    article = source.articles.first()
    with open_page(browser) as page:
        sign_in(page, live_server.url, "editor", PASSWORD, admin=True)
        for url in [
            f"/admin/articles/source/{source.pk}/change/",
            f"/admin/articles/article/{article.pk}/change/",
            "/admin/articles/source/preview/",
            f"/admin/articles/source/{source.pk}/delete/",
        ]:
            page.goto(live_server.url + url)
            assert_accessible(page)
        shoot(page, "admin-delete-source")
        page.goto(live_server.url + "/admin/articles/source/preview/")
        page.get_by_label("Page URL").fill(page_url)
        page.get_by_role("button", name="Preview").click()
        page.wait_for_selector(".preview-text")
        assert_accessible(page)
        # axe-core 4.4 leaves link-in-text-block for review: the breadcrumbs'
        # links must not differ from their text by colour alone.
        home = page.locator(".breadcrumbs a").first
        assert "underline" in home.evaluate("e => getComputedStyle(e).textDecorationLine")
        shoot(page, "admin-preview")
