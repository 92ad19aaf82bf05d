"""WebSub: a feed that names a hub is pushed to us; polling goes on slowly as a safety net.

Subscribing, renewing and every other request to a hub go through the guarded
client (fetch.post_form). A hub's verification is answered only for a
subscription asked for (its token, its topic, a request outstanding); pushed
content is taken only within the fetch size cap, with a valid X-Hub-Signature
(HMAC with the subscription's own secret) and a lease still running, and is
then stored as a fetched feed would be.
"""

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from .fetch import FetchError, post_form
from .ingest import store_pushed_feed
from .models import Subscription

logger = logging.getLogger(__name__)
# A hub verifies within seconds; a request unanswered this long is asked again.
VERIFY_WITHIN = timedelta(hours=1)
# A lease is renewed once less than this share of it is left (and at least a minute).
RENEW_SHARE = 0.2
MIN_RENEW_MARGIN = timedelta(minutes=1)
SIGNATURES = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384,
              "sha512": hashlib.sha512}


def callback_url(subscription):
    return settings.SITE_URL + reverse("articles:websub", args=[subscription.token])


def subscribe_if_offered(source, hub_url, topic_url):
    """After a fetch: a feed naming a hub (and its own URL) is subscribed, once.

    Nothing without SITE_URL (no address a hub could reach) or without a hub.
    A new hub or topic starts a new subscription; a failed one is asked again
    by renew_subscriptions.
    """
    if not settings.SITE_URL or not hub_url:
        return None
    topic_url = topic_url or source.feed_url
    subscription = Subscription.objects.filter(source=source).first()
    if subscription and (subscription.hub_url, subscription.topic_url) == (hub_url, topic_url):
        return subscription
    if subscription is None:
        subscription = Subscription(source=source)
    subscription.hub_url, subscription.topic_url = hub_url, topic_url
    subscription.token = secrets.token_urlsafe(32)
    subscription.secret = secrets.token_urlsafe(32)
    subscription.state = Subscription.State.PENDING
    subscription.lease_expires_at = None
    try:
        with transaction.atomic():
            subscription.save()
    except IntegrityError:  # another fetch of the same feed subscribed meanwhile
        return Subscription.objects.filter(source=source).first()
    request_subscription(subscription)
    return subscription


def request_subscription(subscription, mode="subscribe"):
    """Ask the hub; it then verifies by calling back (answer_challenge).

    requested_at is committed before the request: a hub may verify before it
    answers.
    """
    now = timezone.now()
    Subscription.objects.filter(pk=subscription.pk).update(requested_at=now)
    subscription.requested_at = now
    data = {
        "hub.mode": mode,
        "hub.topic": subscription.topic_url,
        "hub.callback": callback_url(subscription),
        "hub.secret": subscription.secret,
        "hub.lease_seconds": str(settings.WEBSUB_LEASE_SECONDS),
    }
    try:
        post_form(subscription.hub_url, data)
    except FetchError as exc:
        Subscription.objects.filter(pk=subscription.pk).update(
            state=Subscription.State.FAILED, last_error=f"Hub: {exc.reason}"[:2000]
        )
        return False
    return True


def answer_challenge(token, params, now=None):
    """(status, body) for a hub's GET: the challenge echoed only for a request we made."""
    now = now or timezone.now()
    subscription = Subscription.objects.filter(token=token).first()
    mode, topic = params.get("hub.mode", ""), params.get("hub.topic", "")
    if subscription is None or topic != subscription.topic_url:
        return 404, ""
    if mode == "denied":
        Subscription.objects.filter(pk=subscription.pk).update(
            state=Subscription.State.FAILED, requested_at=None,
            last_error=f"Denied by the hub: {params.get('hub.reason', '')}"[:2000],
        )
        return 200, ""
    asked = subscription.requested_at and now - subscription.requested_at < VERIFY_WITHIN
    challenge = params.get("hub.challenge", "")
    if mode != "subscribe" or not asked or not challenge:
        return 404, ""
    lease = params.get("hub.lease_seconds", "")
    seconds = int(lease) if lease.isdigit() else settings.WEBSUB_LEASE_SECONDS
    Subscription.objects.filter(pk=subscription.pk).update(
        state=Subscription.State.ACTIVE, requested_at=None, lease_seconds=seconds,
        lease_expires_at=now + timedelta(seconds=seconds), last_error="",
    )
    return 200, challenge


def signature_valid(secret, body, header):
    """X-Hub-Signature: "method=hex", the HMAC of the body with the subscription's secret."""
    method, _, signature = (header or "").partition("=")
    digest = SIGNATURES.get(method.lower())
    if digest is None or not signature:
        return False
    expected = hmac.new(secret.encode(), body, digest).hexdigest()
    return hmac.compare_digest(expected, signature.strip().lower())


def receive_push(token, body, signature, now=None):
    """(status, new article ids) for a hub's POST of the feed's new content.

    Unknown token: 404. Lease over or subscription not active: 410, which
    tells the hub to stop. A body without a valid signature is ignored with a
    2xx, as WebSub asks (a refusal would tell a forger when a guess was
    right). `body` is at most FETCH_MAX_BYTES: the view refuses larger ones.
    """
    now = now or timezone.now()
    subscription = Subscription.objects.select_related("source").filter(token=token).first()
    if subscription is None:
        return 404, []
    running = subscription.lease_expires_at and subscription.lease_expires_at > now
    if subscription.state != Subscription.State.ACTIVE or not running:
        return 410, []
    if not signature_valid(subscription.secret, body, signature):
        logger.warning("A push for %s had no valid signature; ignored", subscription.source)
        return 202, []
    result = store_pushed_feed(subscription.source, body, now=now)
    Subscription.objects.filter(pk=subscription.pk).update(
        last_push_at=now, pushes=F("pushes") + 1,
        last_error="" if result.status == "ok" else f"Push: {result.error}"[:2000],
    )
    return 202, result.new_article_ids


def renew_subscriptions(now=None):
    """Ask again for leases near their end (or over), failed subscriptions and
    requests never verified; returns how many were asked."""
    now = now or timezone.now()
    due = []
    # One row a pushed source: a small table, read whole.
    for subscription in Subscription.objects.filter(source__is_active=True):
        if subscription.requested_at and now - subscription.requested_at < VERIFY_WITHIN:
            continue  # asked, the hub's answer may still come
        if subscription.state == Subscription.State.ACTIVE:
            lease = timedelta(seconds=subscription.lease_seconds or 0)
            margin = max(lease * RENEW_SHARE, MIN_RENEW_MARGIN)
            if subscription.lease_expires_at - now > margin:
                continue
        due.append(subscription)
    for subscription in due:
        request_subscription(subscription)
    return len(due)


def push_state(subscription):
    """For the admin: how a source's new entries reach us (its Subscription or None)."""
    if subscription is None:
        return "polled"
    if subscription.state == Subscription.State.ACTIVE:
        if subscription.lease_expires_at and subscription.lease_expires_at > timezone.now():
            return f"pushed until {subscription.lease_expires_at:%Y-%m-%d %H:%M}"
        return "lease over, renewing"
    return subscription.get_state_display()
