import gzip
import json

import pytest

from articles.extract import extract_article, extract_page
from articles.ingest import upsert_entries, Entry
from articles.models import Article
from bench.scoring import score_pages
from tests.conftest import corpus_path
from tests.factories import make_source


def test_extract_page_on_real_pages():
    """Text, title and metadata come out of real news pages, close to the truth."""
    folder = corpus_path("extraction", "scrapinghub-aeb")
    truth = json.loads((folder / "ground-truth.json").read_text())
    pairs = []
    for page_id in sorted(truth)[:15]:
        html = gzip.decompress((folder / "html" / f"{page_id}.html.gz").read_bytes())
        extraction = extract_page(html, truth[page_id]["url"])
        assert extraction.title
        assert "<script" not in extraction.body_html
        pairs.append((truth[page_id]["articleBody"], extraction.text))
    precision, recall, f1 = score_pages(pairs)
    assert f1 > 0.85, (precision, recall, f1)


def test_extract_page_of_nothing_is_empty():
    assert extract_page(b"<html><body></body></html>").text == ""


def make_pending(source, url, content_html="", summary=""):
    entry = Entry(guid=url, url=url, title="A story", summary=summary, content_html=content_html)
    [article_id] = upsert_entries(source, [entry])
    return article_id


@pytest.mark.django_db
def test_unreachable_page_falls_back_to_feed_content(local_server):
    """A 404 page leaves the feed's own text, with the reason recorded."""
    source = make_source()
    article_id = make_pending(
        source,
        local_server.base + "/missing.html",
        content_html="<p>" + "The feed carries the whole story here. " * 20 + "</p>",
    )
    article = extract_article(article_id)
    assert article.state == Article.State.READY
    assert "The feed carries the whole story" in article.body_text
    assert "HTTP 404" in article.state_reason and "feed's own text" in article.state_reason


@pytest.mark.django_db
def test_page_with_no_text_and_no_feed_text_fails_with_reason(local_server):
    source = make_source()
    url = local_server.add("/empty.html", "<html><body><nav>Home</nav></body></html>")
    article = extract_article(make_pending(source, url))
    assert article.state == Article.State.FAILED
    assert "too little text" in article.state_reason


@pytest.mark.django_db
def test_non_html_page_is_refused(local_server):
    source = make_source()
    url = local_server.add("/file.pdf", b"%PDF-1.4", content_type="application/pdf")
    article = extract_article(make_pending(source, url, summary="Short summary from the feed."))
    assert "Not an HTML page" in article.state_reason
    assert article.body_text == "Short summary from the feed."


@pytest.mark.django_db
def test_a_claimed_article_is_not_extracted_twice(local_server):
    source = make_source()
    url = local_server.add("/a.html", "<html><body><p>x</p></body></html>")
    article_id = make_pending(source, url, summary="Summary.")
    assert extract_article(article_id) is not None
    assert extract_article(article_id) is None  # ready: nothing to claim
    requests = [path for path, _headers in local_server.requests if path == "/a.html"]
    assert len(requests) == 1
