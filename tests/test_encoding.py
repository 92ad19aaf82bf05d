"""Feeds and pages whose charset is wrong or missing are stored as the text they hold."""

import codecs

import pytest

from articles.encoding import decode_page, feed_as_utf8
from articles.ingest import FeedRefused, ingest_source, parse_feed
from articles.models import Article
from articles.pipeline import extract_article
from tests.factories import PAGE, make_article, make_source

RUSSIAN_TITLE = "Новости дня"
RUSSIAN_SUMMARY = "Сегодня в Москве прошёл большой праздник: люди вышли на улицы города."
FRENCH = (
    "Le café de la gare a rouvert ses portes. Où êtes-vous allés déjà cet été ? Les élèves "
    "étudient à l'école, près du théâtre, où la fête aura lieu à Noël."
)


def russian_feed(link):
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<rss version='2.0'><channel><title>Лента</title>"
        f"<item><title>{RUSSIAN_TITLE}</title><link>{link}</link>"
        f"<description>{RUSSIAN_SUMMARY}</description></item>"
        "</channel></rss>"
    )


@pytest.mark.django_db
def test_windows_1251_feed_labelled_utf8_is_stored_as_russian(local_server):
    body = russian_feed(local_server.base + "/novosti.html").encode("cp1251")
    url = local_server.add("/feed.xml", body, content_type="application/rss+xml")
    source = make_source(feed_url=url)
    result = ingest_source(source)
    assert result.status == "ok", result.error
    article = Article.objects.get(source=source)
    assert article.title == RUSSIAN_TITLE
    assert article.summary == RUSSIAN_SUMMARY


@pytest.mark.django_db
def test_undeclared_latin1_page_is_stored_as_french(local_server):
    paragraphs = "".join(f"<p>{FRENCH}</p>" for _ in range(4))
    page = PAGE.format(title="La fête à Noël", paragraphs=paragraphs).replace(' lang="en"', "")
    url = local_server.add("/fete.html", page.encode("latin-1"), content_type="text/html")
    article = make_article(url=url, state=Article.State.PENDING, body_text="", body_html="")
    article = extract_article(article.pk)
    assert article.state == Article.State.READY, article.state_reason
    assert FRENCH in article.body_text


def test_a_page_is_read_in_its_declared_charset_when_that_decodes_cleanly():
    page = f"<html><head><meta charset='windows-1251'></head><body>{RUSSIAN_SUMMARY}</body></html>"
    content = page.encode("cp1251")
    assert RUSSIAN_SUMMARY in decode_page(content)
    assert RUSSIAN_SUMMARY in decode_page(content, charset="windows-1251")
    # An HTTP charset that cannot decode the bytes gives way to the <meta> one.
    assert RUSSIAN_SUMMARY in decode_page(content, charset="utf-8")


def test_a_feed_that_decodes_as_declared_is_left_as_it_is():
    feed = russian_feed("https://news.example/1").replace("UTF-8", "windows-1251")
    assert feed_as_utf8(feed.encode("cp1251")) == feed.replace("windows-1251", "utf-8").encode()
    parsed = parse_feed(feed.encode("cp1251"))
    assert parsed.entries[0].title == RUSSIAN_TITLE


def test_utf16_feed_is_read():
    feed = '<?xml version="1.0" encoding="UTF-16"?>' + russian_feed("https://news.example/1")[39:]
    parsed = parse_feed(codecs.BOM_UTF16_LE + feed.encode("utf-16-le"))
    assert [entry.title for entry in parsed.entries] == [RUSSIAN_TITLE]


ENTITY_FEEDS = {
    "utf-16": '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE rss [<!ENTITY a "aaaa">]>'
    "<rss><channel><title>&a;</title></channel></rss>",
    "after a 70 KB comment": '<?xml version="1.0"?><!-- ' + "padding " * 9000 + "-->"
    '<!DOCTYPE rss [<!ENTITY a "aaaa">]><rss><channel><title>&a;</title></channel></rss>',
    "parameter entity": '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY % p "x">]><rss/>',
    "after an undeclared parameter entity": '<?xml version="1.0"?>'
    '<!DOCTYPE rss [%hidden; <!ENTITY a "aaaa">]><rss><channel><title>&a;</title></channel></rss>',
    "external": '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a SYSTEM "file:///etc/passwd">]>'
    "<rss><channel><title>&a;</title></channel></rss>",
    "in windows-1251": '<?xml version="1.0" encoding="windows-1251"?>'
    '<!DOCTYPE rss [<!ENTITY a "Новости">]><rss><channel><title>&a;</title></channel></rss>',
    "in a broken prolog": '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaa"> <!junk>]><rss/>',
}


@pytest.mark.parametrize("name", ENTITY_FEEDS)
def test_entity_declarations_are_refused_wherever_the_prolog_hides_them(name):
    feed = ENTITY_FEEDS[name]
    if name == "utf-16":
        content = codecs.BOM_UTF16_BE + feed.encode("utf-16-be")
    elif name == "in windows-1251":
        content = feed.encode("cp1251")
    else:
        content = feed.encode("utf-8")
    assert len(content) > 70_000 or name != "after a 70 KB comment"
    with pytest.raises(FeedRefused):
        parse_feed(content)


def test_a_doctype_without_entities_is_read():
    feed = (
        '<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        '"http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91"><channel>'
        "<title>Old</title><item><title>One</title><link>https://news.example/1</link></item>"
        "</channel></rss>"
    )
    assert [entry.title for entry in parse_feed(feed.encode()).entries] == ["One"]
