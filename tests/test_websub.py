import hashlib
import hmac
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.utils import timezone

from articles import tasks, websub
from articles.models import Article, Subscription
from articles.sources import record_success
from tests.factories import make_source

SITE = "https://news.example.org"


def hub_feed(server, hub_path="/hub", items=()):
    """An RSS feed naming its hub and itself (atom:link), as WebSub publishers do."""
    entries = "".join(
        f"<item><title>{title}</title><link>{server.base}/{slug}.html</link></item>"
        for slug, title in items
    )
    rss = (
        "<rss version='2.0' xmlns:atom='http://www.w3.org/2005/Atom'><channel><title>Pushed</title>"
        f"<atom:link rel='hub' href='{server.base}{hub_path}'/>"
        f"<atom:link rel='self' href='{server.base}/feed.xml'/>{entries}</channel></rss>"
    )
    return rss


def subscribed(local_server, settings, client, verify=True):
    """A source whose feed names a hub, fetched once: its subscription, verified by default."""
    settings.SITE_URL = SITE
    local_server.add("/hub", "", status=202)
    feed = local_server.add("/feed.xml", hub_feed(local_server, items=[("first", "First")]),
                            content_type="application/rss+xml")
    source = make_source(feed_url=feed, use_feed_content=True)
    tasks.fetch_source_task(source.pk)
    subscription = Subscription.objects.get(source=source)
    Article.objects.all().delete()  # the feed's first entry: only pushed ones count below
    if verify:
        response = client.get(
            callback_path(subscription),
            {"hub.mode": "subscribe", "hub.topic": subscription.topic_url,
             "hub.challenge": "c-123", "hub.lease_seconds": "3600"},
        )
        assert response.content == b"c-123"
        subscription.refresh_from_db()
    return subscription


def callback_path(subscription):
    return websub.callback_url(subscription).removeprefix(SITE)


def push(client, subscription, body, secret=None, method="sha256"):
    signature = hmac.new((secret or subscription.secret).encode(), body, getattr(hashlib, method))
    return client.post(
        callback_path(subscription), body, content_type="application/rss+xml",
        HTTP_X_HUB_SIGNATURE=f"{method}={signature.hexdigest()}",
    )


@pytest.mark.django_db
def test_a_feed_naming_a_hub_is_subscribed_through_the_guarded_client(local_server, settings, client):
    """The hub gets the topic (the feed's rel=self), a callback under SITE_URL, a secret
    of the subscription's own; the challenge is answered and the lease recorded."""
    subscription = subscribed(local_server, settings, client, verify=False)
    assert subscription.state == Subscription.State.PENDING
    [(path, _headers, body)] = local_server.posts
    form = {key: values[0] for key, values in parse_qs(body.decode()).items()}
    assert path == "/hub"
    assert form["hub.mode"] == "subscribe"
    assert form["hub.topic"] == f"{local_server.base}/feed.xml"
    assert form["hub.callback"].startswith(f"{SITE}/websub/")
    assert form["hub.secret"] == subscription.secret and len(subscription.secret) >= 32
    response = client.get(
        callback_path(subscription),
        {"hub.mode": "subscribe", "hub.topic": form["hub.topic"], "hub.challenge": "xyz",
         "hub.lease_seconds": "600"},
    )
    assert response.status_code == 200 and response.content == b"xyz"
    subscription.refresh_from_db()
    assert subscription.state == Subscription.State.ACTIVE
    assert subscription.lease_expires_at > timezone.now() + timedelta(seconds=590)
    # Fetching again does not subscribe again.
    tasks.fetch_source_task(subscription.source_id)
    assert len(local_server.posts) == 1


@pytest.mark.django_db
def test_no_subscription_without_site_url(local_server, settings):
    """Without SITE_URL no hub could reach us: the source is polled only."""
    settings.SITE_URL = ""
    local_server.add("/hub", "", status=202)
    feed = local_server.add("/feed.xml", hub_feed(local_server, items=[("first", "First")]),
                            content_type="application/rss+xml")
    tasks.fetch_source_task(make_source(feed_url=feed, use_feed_content=True).pk)
    assert not Subscription.objects.exists() and local_server.posts == []


@pytest.mark.django_db
def test_a_hub_address_that_is_private_is_refused(settings):
    """The hub is asked through the guarded client: a private address is never posted to."""
    settings.SITE_URL = SITE
    source = make_source(feed_url="https://feeds.example.org/feed.xml")
    subscription = websub.subscribe_if_offered(source, "http://127.0.0.1:9/hub", "")
    subscription.refresh_from_db()
    assert subscription.state == Subscription.State.FAILED
    assert "non-public address" in subscription.last_error


@pytest.mark.django_db
def test_a_challenge_is_answered_only_for_a_subscription_asked_for(local_server, settings, client):
    """Unknown token, another topic, an unsubscribe nobody asked for, or a verification
    long after the request: 404, no challenge echoed."""
    subscription = subscribed(local_server, settings, client, verify=False)
    path = callback_path(subscription)
    good = {"hub.mode": "subscribe", "hub.topic": subscription.topic_url, "hub.challenge": "c"}
    assert client.get("/websub/not-a-token/", good).status_code == 404
    assert client.get(path, {**good, "hub.topic": "https://evil.example/feed"}).status_code == 404
    assert client.get(path, {**good, "hub.mode": "unsubscribe"}).status_code == 404
    Subscription.objects.update(requested_at=timezone.now() - timedelta(hours=2))
    response = client.get(path, good)
    assert response.status_code == 404 and b"c" not in response.content
    subscription.refresh_from_db()
    assert subscription.state == Subscription.State.PENDING


@pytest.mark.django_db
def test_a_signed_push_is_ingested_like_a_fetched_feed(local_server, settings, client, monkeypatch):
    """A push signed with the subscription's secret stores its new entries and
    queues their extraction."""
    subscription = subscribed(local_server, settings, client)
    queued = []
    monkeypatch.setattr("articles.views.enqueue_extraction", queued.extend)
    body = hub_feed(local_server, items=[("fresh", "Fresh news")]).encode()
    response = push(client, subscription, body)
    assert response.status_code == 202
    article = Article.objects.get(source=subscription.source)
    assert article.title == "Fresh news" and queued == [article.pk]
    subscription.refresh_from_db()
    assert subscription.pushes == 1 and subscription.last_push_at is not None
    # sha1, the signature older hubs send, is accepted too.
    body = hub_feed(local_server, items=[("older", "Older hub")]).encode()
    assert push(client, subscription, body, method="sha1").status_code == 202
    assert Article.objects.filter(title="Older hub").exists()


@pytest.mark.django_db
def test_a_forged_push_is_ignored(local_server, settings, client):
    """A wrong secret, a tampered body or no signature: acknowledged (WebSub asks for a
    2xx, so a forger learns nothing) but nothing is stored."""
    subscription = subscribed(local_server, settings, client)
    body = hub_feed(local_server, items=[("forged", "Forged news")]).encode()
    assert push(client, subscription, body, secret="guessed-secret").status_code == 202
    signature = hmac.new(subscription.secret.encode(), b"other body", hashlib.sha256).hexdigest()
    response = client.post(callback_path(subscription), body, content_type="application/rss+xml",
                           HTTP_X_HUB_SIGNATURE=f"sha256={signature}")
    assert response.status_code == 202
    response = client.post(callback_path(subscription), body, content_type="application/rss+xml")
    assert response.status_code == 202
    assert not Article.objects.exists()
    subscription.refresh_from_db()
    assert subscription.pushes == 0


@pytest.mark.django_db
def test_a_push_for_an_unknown_subscription_is_refused(local_server, settings, client):
    """A token nobody was given: 404, nothing stored."""
    subscription = subscribed(local_server, settings, client)
    body = hub_feed(local_server, items=[("x", "Unknown")]).encode()
    subscription.token = "someone-elses-token"
    assert push(client, subscription, body).status_code == 404
    assert not Article.objects.exists()


@pytest.mark.django_db
def test_an_oversized_push_is_refused_before_it_is_read(local_server, settings, client):
    """Over FETCH_MAX_BYTES, the fetch's own cap: 413, nothing stored, even when signed."""
    subscription = subscribed(local_server, settings, client)
    settings.FETCH_MAX_BYTES = 2000
    body = hub_feed(local_server, items=[(f"a{n}", "Padding " * 20) for n in range(20)]).encode()
    assert len(body) > 2000
    assert push(client, subscription, body).status_code == 413
    assert not Article.objects.exists()


@pytest.mark.django_db
def test_a_push_after_the_lease_ended_is_refused_and_the_lease_renewed(local_server, settings, client):
    """An expired lease: 410 (the hub stops), nothing stored; renewal asks the hub again,
    and a lease near its end is renewed before it ends."""
    subscription = subscribed(local_server, settings, client)
    Subscription.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    body = hub_feed(local_server, items=[("late", "Late news")]).encode()
    assert push(client, subscription, body).status_code == 410
    assert not Article.objects.exists()
    assert websub.renew_subscriptions() == 1
    assert len(local_server.posts) == 2  # the first subscription, then the renewal
    assert websub.renew_subscriptions() == 0  # asked: the hub's answer may still come
    client.get(callback_path(subscription), {
        "hub.mode": "subscribe", "hub.topic": subscription.topic_url, "hub.challenge": "again",
        "hub.lease_seconds": "1000",
    })
    assert push(client, subscription, body).status_code == 202
    # A lease with less than a fifth left is renewed before it ends.
    Subscription.objects.update(lease_expires_at=timezone.now() + timedelta(seconds=150))
    assert websub.renew_subscriptions() == 1
    Subscription.objects.update(
        requested_at=None, lease_expires_at=timezone.now() + timedelta(seconds=900)
    )
    assert websub.renew_subscriptions() == 0


@pytest.mark.django_db
def test_a_pushed_source_is_still_polled_at_its_slowest(local_server, settings, client):
    """Polling goes on as a safety net, at the source's max_interval."""
    subscription = subscribed(local_server, settings, client)
    source = subscription.source
    now = timezone.now()
    record_success(source, status=200, now=now)
    source.refresh_from_db()
    assert source.next_fetch_at == now + source.max_interval
    Subscription.objects.update(lease_expires_at=now - timedelta(seconds=1))
    record_success(source, status=200, now=now)
    source.refresh_from_db()
    assert source.next_fetch_at < now + source.max_interval


@pytest.mark.django_db
def test_a_denied_subscription_shows_in_the_admin(local_server, settings, client, admin_client):
    """The hub's denial is recorded; a source's page in the admin shows its push state."""
    subscription = subscribed(local_server, settings, client, verify=False)
    client.get(callback_path(subscription), {
        "hub.mode": "denied", "hub.topic": subscription.topic_url, "hub.reason": "not allowed",
    })
    subscription.refresh_from_db()
    assert subscription.state == Subscription.State.FAILED
    response = admin_client.get(f"/admin/articles/source/{subscription.source_id}/change/")
    assert b"refused via" in response.content and b"not allowed" in response.content
    Subscription.objects.update(
        state=Subscription.State.ACTIVE, lease_expires_at=timezone.now() + timedelta(days=1)
    )
    response = admin_client.get(f"/admin/articles/source/{subscription.source_id}/change/")
    assert b"pushed until" in response.content
