"""The same content is never extracted twice: 304s, unchanged bytes, one page in two feeds."""

import pytest

from articles.pipeline import extract_article
from articles.pipeline.reuse import extractor_id
from articles.models import Article
from tests.factories import make_article, make_source
from tests.localserver import Route

PAGE = """<html lang="en"><head><title>{title}</title></head><body><article>
<h1>{title}</h1>{paragraphs}</article></body></html>"""


def page(title, words="the ferry timetable changes from Monday after a long consultation"):
    paragraphs = "".join(f"<p>Paragraph {n}: {words}, the operator said.</p>" for n in range(8))
    return PAGE.format(title=title, paragraphs=paragraphs).encode()


def pending_article(url, **fields):
    return make_article(
        url=url, state=Article.State.PENDING, body_text="", body_html="", word_count=0, **fields
    )


def served_with_etag(server, path, body, etag='"v1"'):
    """A page that answers a matching If-None-Match with 304, as real servers do."""

    def respond(handler):
        if handler.headers.get("If-None-Match") == etag:
            return Route(b"", 304, {"ETag": etag})
        return Route(body, 200, {"Content-Type": "text/html; charset=utf-8", "ETag": etag})

    server.routes[path] = respond
    return server.base + path


def conditional_requests(server, path):
    return [headers.get("If-None-Match") for seen, headers in server.requests if seen == path]


@pytest.mark.django_db
def test_re_extraction_of_an_unchanged_page_is_a_304_and_keeps_the_result(local_server):
    url = served_with_etag(local_server, "/ferry.html", page("Ferry timetable changes"))
    article = pending_article(url)
    first = extract_article(article.pk)
    assert first.state == Article.State.READY and "ferry timetable" in first.body_text
    assert first.page_validators == {"etag": '"v1"', "last_modified": "", "extractor": extractor_id()}

    again = extract_article(article.pk, force=True)

    assert conditional_requests(local_server, "/ferry.html") == [None, '"v1"']
    again.refresh_from_db()
    assert again.state == Article.State.READY and again.claimed_until is None
    assert again.extracted_at == first.extracted_at  # nothing was extracted again
    assert again.body_text == first.body_text


@pytest.mark.django_db
def test_same_bytes_without_validators_are_not_extracted_again(local_server):
    url = local_server.add("/bridge.html", page("Bridge reopens"))
    article = pending_article(url)
    first = extract_article(article.pk)

    kept = extract_article(article.pk, force=True)
    kept.refresh_from_db()
    assert kept.extracted_at == first.extracted_at and kept.state == Article.State.READY

    local_server.add("/bridge.html", page("Bridge reopens", "the bridge reopened to cyclists and buses"))
    changed = extract_article(article.pk, force=True)
    assert changed.extracted_at > first.extracted_at
    assert "cyclists" in changed.body_text and changed.page_hash != first.page_hash


@pytest.mark.django_db
def test_a_new_extractor_extracts_again_and_asks_unconditionally(local_server):
    url = served_with_etag(local_server, "/dam.html", page("Dam inspection"))
    article = pending_article(url)
    first = extract_article(article.pk)
    # As stored by an older release of the extractor.
    Article.objects.filter(pk=article.pk).update(
        page_hash="0" * 64, page_validators={"etag": '"v1"', "extractor": "older"}
    )

    again = extract_article(article.pk, force=True)

    assert conditional_requests(local_server, "/dam.html") == [None, None]
    assert again.extracted_at > first.extracted_at
    assert again.page_validators["extractor"] == extractor_id()


@pytest.mark.django_db
def test_one_page_in_two_feeds_is_extracted_once(local_server):
    url = local_server.add("/wire.html", page("Wire report on the harbour strike"))
    first = extract_article(pending_article(url, source=make_source()).pk)
    # Mark the stored result, so a copy of it can be told from a new extraction.
    Article.objects.filter(pk=first.pk).update(
        body_text=first.body_text + "\nStored once.", author="Desk Editor"
    )

    second = extract_article(pending_article(url, source=make_source()).pk)

    assert second.state == Article.State.READY and second.state_reason == ""
    assert second.body_text.endswith("Stored once.") and second.author == "Desk Editor"
    assert second.page_hash == first.page_hash
