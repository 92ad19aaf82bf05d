"""The fetcher reaches public addresses only; no packet leaves 127.0.0.0/8 here.

Non-loopback ranges are checked where the address is checked, with a patched
resolver, and the refusal is asserted before any connect. End-to-end checks
aim only at loopback servers.
"""

import socket

import pytest

from articles.fetch import FetchError, fetch
from articles.ingest import ingest_source
from articles.models import Article
from articles.pipeline import extract_article
from tests.factories import make_source
from tests.hostile import loopback_spellings
from tests.localserver import LocalServer

# Fetch slots live in the database cache on this setup.
pytestmark = pytest.mark.django_db

NON_PUBLIC = [
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # CGNAT
    "127.0.0.1",
    "127.255.255.254",
    "0.0.0.0",
    "224.0.0.1",  # multicast
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "192.0.0.8",
    "198.18.0.1",
    "::1",
    "::",
    "fe80::1",  # link-local
    "fc00::1",  # unique local
    "ff02::1",  # multicast
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b:1::a00:1",
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
]


@pytest.fixture
def resolver(monkeypatch):
    """Every name resolves to `resolver.address`; connects are recorded and refused."""

    class Resolver:
        address = None
        connects = []

    def fake_getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        family = socket.AF_INET6 if ":" in Resolver.address else socket.AF_INET
        sockaddr = (Resolver.address, port or 80) + ((0, 0) if family == socket.AF_INET6 else ())
        return [(family, socket.SOCK_STREAM, 6, "", sockaddr)]

    def fake_connect(sock, address):
        Resolver.connects.append(address)
        raise ConnectionRefusedError("test: connect attempted")

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", fake_connect)
    return Resolver


@pytest.mark.parametrize("address", NON_PUBLIC)
def test_names_resolving_to_non_public_addresses_are_refused_before_connect(resolver, address):
    resolver.address = address
    with pytest.raises(FetchError) as refused:
        fetch("http://innocent-looking.example/feed.xml")
    assert "non-public address" in refused.value.reason
    assert resolver.connects == []


def test_a_public_address_is_let_through_to_connect(resolver):
    """The guard is what refuses above: a public address reaches connect()."""
    resolver.address = "93.184.215.14"
    with pytest.raises(FetchError) as failed:
        fetch("http://public.example/")
    assert "non-public" not in failed.value.reason
    assert resolver.connects and resolver.connects[0][0] == "93.184.215.14"


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://example.org/x", "gopher://127.0.0.1:70/", "javascript:alert(1)",
     "http:///nohost"],
)
def test_only_http_and_https(resolver, url):
    resolver.address = "93.184.215.14"
    with pytest.raises(FetchError) as refused:
        fetch(url)
    assert refused.value.reason.startswith("Refused")
    assert resolver.connects == []


@pytest.fixture
def forbidden_server():
    server = LocalServer()
    server.add("/secret", "internal admin page")
    yield server
    server.close()


@pytest.mark.django_db
def test_feed_items_and_redirects_never_reach_a_private_server(local_server, forbidden_server):
    """An allowlisted feed pointing at a second local server: that server sees nothing."""
    port = forbidden_server.port
    targets = loopback_spellings(port)
    redirect_hops = []
    for n, target in enumerate(targets):
        # The same targets again, this time behind a redirect on the allowed host.
        redirect_hops.append(
            local_server.add(f"/hop/{n}", b"", status=302, Location=target)
        )
    local_server.add(
        "/hop/chain", b"", status=301, Location=f"{local_server.base}/hop/0"
    )
    links = targets + redirect_hops + [f"{local_server.base}/hop/chain"]
    items = "".join(
        f"<item><title>Item {n}</title><link>{link.replace('&', '&amp;')}</link>"
        f"<guid isPermaLink='false'>item-{n}</guid><description>Summary {n}</description></item>"
        for n, link in enumerate(links)
    )
    feed_url = local_server.add(
        "/feed.xml",
        f"<rss version='2.0'><channel><title>Trap</title>{items}</channel></rss>",
        content_type="application/rss+xml",
    )
    source = make_source(feed_url=feed_url)
    assert ingest_source(source).status == "ok"
    assert Article.objects.count() == len(links)
    for article in Article.objects.all():
        extract_article(article.pk)
        article.refresh_from_db()
        assert "Refused" in article.state_reason, (article.url, article.state_reason)

    # A feed URL that redirects into private space is refused the same way.
    redirecting = make_source(feed_url=redirect_hops[0])
    assert ingest_source(redirecting).status == "failed"
    redirecting.refresh_from_db()
    assert "Refused" in redirecting.last_error

    assert forbidden_server.requests == []


@pytest.mark.django_db
def test_allowlist_is_exact_host_and_port(local_server, settings):
    other = LocalServer()
    try:
        url = other.add("/x", "hello")
        with pytest.raises(FetchError):
            fetch(url)
        settings.FETCH_PRIVATE_ALLOWLIST = [f"127.0.0.1:{other.port}"]
        assert fetch(url).content == b"hello"
        with pytest.raises(FetchError):
            fetch(f"http://localhost:{other.port}/x")
    finally:
        other.close()


@pytest.mark.django_db
def test_a_kept_alive_connection_is_not_reused_past_the_allowlist(settings):
    """Fetches reuse a thread's connections; one opened while a private pair was
    allowlisted must not carry a request once the pair is no longer allowed."""
    server = LocalServer(keep_alive=True)
    try:
        url = server.add("/x", "hello")
        settings.FETCH_PRIVATE_ALLOWLIST = [f"127.0.0.1:{server.port}"]
        assert fetch(url).content == b"hello"
        assert fetch(url).content == b"hello"
        assert server.peers[0] == server.peers[1]  # one connection, kept alive
        settings.FETCH_PRIVATE_ALLOWLIST = []
        with pytest.raises(FetchError, match="Refused"):
            fetch(url)
        assert len(server.requests) == 2
    finally:
        server.close()
