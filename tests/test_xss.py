"""Every payload of the XSS list, through feeds and pages, rendered in a real browser."""

import pytest
from django.test import Client

from articles.models import Article, Source
from tests.hostile import run_xss, unsafe_markup, xss_payloads
from tests.corpus import corpus_path

# Replaces alert & co. before any page script; a call or a dialog is a hit.
TRAP = """
window.__xss = [];
for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = (...args) => { window.__xss.push(name + ":" + String(args[0])); };
}
"""


def watched_page(context):
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    return page


def open_and_watch(page, url):
    page.dialogs.clear()
    page.goto(url, wait_until="load")
    page.wait_for_timeout(50)
    return page.dialogs + page.evaluate("window.__xss")


def test_unsafe_markup_finds_what_it_must():
    """The parse check itself: each kind of executable markup is reported."""
    html = (
        '<html><body><img src=x onerror="alert(1)"><a href=" javascript:alert(1)">x</a>'
        '<script>alert(1)</script><iframe src="/"></iframe></body></html>'
    )
    assert len(unsafe_markup(html)) == 4
    assert unsafe_markup('<html><body><script src="/static/app.js"></script></body></html>') == []


# The list (about 6,600 payloads) in parts of 500, which pytest-xdist spreads
# over its workers: one test of all of them took 10 minutes on two busy cores.
PART, PARTS = 500, 14


def test_the_parts_cover_every_payload():
    corpus = corpus_path("xss").parent
    assert len(xss_payloads(corpus)) <= PART * PARTS, "add parts: payloads would go untested"


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
@pytest.mark.parametrize("part", range(PARTS))
def test_no_payload_survives_or_runs(part, local_server, live_server, browser, settings):
    corpus = corpus_path("xss").parent
    settings.FETCH_TIMEOUT = 5
    tally = run_xss(local_server, corpus, Client(), window=(part * PART, (part + 1) * PART))
    print("\n" + tally.line())
    assert tally.counts["crashed"] == 0, tally.problems[:10]
    assert tally.counts["hung"] == 0
    assert tally.counts["ingested"] == tally.counts["tried"]

    context = browser.new_context()
    context.add_init_script(TRAP)
    page = watched_page(context)

    # The harness sees script that does run: an unprotected local page.
    control = local_server.add("/control.html", "<html><body><script>alert(7)</script></body></html>")
    assert "alert:7" in open_and_watch(page, control)

    urls = [live_server.url + "/", live_server.url + "/?page=2"]
    page_articles = Article.objects.visible().filter(guid__startswith="page-")
    feed_articles = Article.objects.visible().filter(guid__startswith="xss-").order_by("pk")
    urls += [live_server.url + a.get_absolute_url() for a in page_articles]
    urls += [live_server.url + a.get_absolute_url() for a in feed_articles[:: max(1, feed_articles.count() // 15)]]
    # The source named after a payload (its page lists its articles, if any).
    page_source = Source.objects.get(feed_url__endswith=f"/xss/pages-{part * PART}.xml")
    urls += [live_server.url + page_source.get_absolute_url()]
    hits = {}
    for url in urls:
        fired = open_and_watch(page, url)
        if fired:
            hits[url] = fired
    context.close()
    print(f"opened {len(urls)} pages in chromium")
    assert hits == {}
