"""The one HTTP client every outgoing request goes through: feeds and pages.

Bounded in every direction: http(s) only, each redirect hop re-checked, the
address actually connected to checked after DNS (requests-hardened pins the
connection to the checked IP, so DNS rebinding cannot slip past), a total
deadline, a cap on decoded bytes.
"""

import os
import threading
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import requests
from django.conf import settings
from django.core.cache import cache, caches
from django.utils.text import Truncator
from requests.adapters import HTTPAdapter
from requests_hardened.ip_filter import InvalidIPAddress
from requests_hardened.ip_filter_adapter import IPFilterAdapter

HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
MAX_REDIRECTS = 5
# host_slot's waits between looks for a free slot, in seconds.
SLOT_FIRST_PAUSE = 0.02
SLOT_LAST_PAUSE = 0.1
READ_SIZE = 16 * 1024
HTML_TYPES = ("text/html", "application/xhtml+xml")
ROBOTS_MAX_BYTES = 512 * 1024
ROBOTS_TIMEOUT = 10
ROBOTS_CACHE_SECONDS = 3600
ROBOTS_UNREACHABLE_SECONDS = 600
# Kept for a while when robots.txt cannot be read (RFC 9309: assume all is
# disallowed); the comment tells it from a site's own "Disallow: /".
ROBOTS_DISALLOW_ALL = "User-agent: *\nDisallow: /\n# robots.txt unreachable"
ROBOTS_PARSED_SECONDS = 60
ROBOTS_PARSED_ENTRIES = 500
# origin -> (expiry on the monotonic clock, parsed rules): this process's copy.
_parsed_robots = {}
# A batch's fetching threads start together: one asks for an origin's rules,
# the others wait for them instead of each requesting robots.txt. An origin
# takes one of a fixed set of locks (two origins may share one, and wait).
_robots_locks = [threading.Lock() for _ in range(32)]
_parsed_robots_changing = threading.Lock()


class FetchError(Exception):
    """A fetch that did not give a usable body; `reason` is for people."""

    def __init__(self, reason, status=None, retry_after=None, transient=None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        # May pass if asked again later: no answer, a server error or 429.
        self.transient = (status is not None and (status >= 500 or status == 429)) or bool(
            transient
        )


class HostBusy(FetchError):
    """Every fetch slot of the host stayed taken: nothing was asked of it."""


@dataclass
class FetchResult:
    url: str
    status: int
    content: bytes = b""
    headers: dict = field(default_factory=dict)

    @property
    def not_modified(self):
        return self.status == 304

    @property
    def etag(self):
        return self.headers.get("etag", "")[:500]

    @property
    def last_modified(self):
        return self.headers.get("last-modified", "")[:100]

    @property
    def content_type(self):
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def charset(self):
        """The Content-Type's charset parameter, or ""."""
        for parameter in self.headers.get("content-type", "").split(";")[1:]:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "charset":
                return value.strip().strip("\"'")[:40]
        return ""


_local = threading.local()
# A forked worker (django-q2, gunicorn) must not share its parent's sockets.
os.register_at_fork(after_in_child=lambda: _local.__dict__.clear())


def session_for_thread():
    """One session per thread, so that articles from one site reuse its
    connection (and TLS session) instead of connecting for every page.

    A pooled connection stays bound to the address that was checked when it
    was opened; requests' pools are bounded (10 hosts, 10 connections each).
    A new allowlist (tests change it) gets a new session.
    """
    allowlist = tuple(settings.FETCH_PRIVATE_ALLOWLIST)
    session = getattr(_local, "session", None)
    if session is None or _local.allowlist != allowlist:
        session = _local.session = make_session(allowlist)
        _local.allowlist = allowlist
    return session


def make_session(allowlist=()):
    """requests-hardened's IP filter for every URL but the exact allowlisted
    host:port pairs (tests, the demo), which get a plain adapter: requests
    picks the adapter mounted at the longest matching prefix."""
    session = requests.Session()
    session.mount("http://", IPFilterAdapter(is_https_proto=False))
    session.mount("https://", IPFilterAdapter(is_https_proto=True))
    for pair in allowlist:
        host, _, port = pair.rpartition(":")
        prefixes = [f"http://{pair}/", f"https://{pair}/"]
        prefixes += {"80": [f"http://{host}/"], "443": [f"https://{host}/"]}.get(port, [])
        for prefix in prefixes:
            session.mount(prefix, HTTPAdapter())
    # Never let the environment route requests through a proxy that would
    # then see private addresses on the fetcher's behalf.
    session.trust_env = False
    return session


def check_url(url):
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"Refused: only http and https URLs are fetched, not {parts.scheme!r}.")
    if not parts.hostname:
        raise FetchError("Refused: the URL has no host name.")


def fetch(
    url,
    *,
    etag="",
    last_modified="",
    accept="*/*",
    require_html=False,
    max_bytes=None,
    timeout=None,
    respect_robots=False,
    take_slot=True,
):
    """GET `url`, following at most five checked redirects, within one deadline.

    Raises FetchError with a reason for people on every failure. take_slot=False
    skips the per-host limit: robots.txt, requested about once an hour per
    origin, may be needed by a fetch that holds the host's last slot (a
    redirect to another origin on the same host).
    """
    max_bytes = max_bytes or settings.FETCH_MAX_BYTES
    timeout = timeout or settings.FETCH_TIMEOUT
    check_url(url)
    if respect_robots and not robots_allow(url):
        if robots_unreachable(url):
            raise FetchError("The site's robots.txt could not be read.", transient=True)
        raise FetchError("Disallowed by the site's robots.txt.")
    with host_slot(urlsplit(url).hostname, timeout) if take_slot else nullcontext():
        return fetch_within(
            url, etag, last_modified, accept, require_html, max_bytes, timeout, respect_robots
        )


def fetch_within(
    url, etag, last_modified, accept, require_html, max_bytes, timeout, respect_robots
):
    deadline = time.monotonic() + timeout
    session = session_for_thread()
    headers = {
        "User-Agent": settings.FETCH_USER_AGENT,
        "Accept": accept,
        "Accept-Encoding": "gzip, deflate",
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified

    current = url
    for hop in range(MAX_REDIRECTS + 1):
        check_url(current)
        if hop and respect_robots and not robots_allow(current):
            raise FetchError("Redirected to a page the site's robots.txt disallows.")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError(f"Timed out after {timeout:g} s.", transient=True)
        try:
            response = session.get(
                current,
                headers=headers,
                allow_redirects=False,
                stream=True,
                timeout=(min(remaining, 10), min(remaining, 10)),
            )
        except InvalidIPAddress as exc:
            raise FetchError(
                f"Refused: {urlsplit(current).hostname} resolves to a non-public address ({exc})."
            ) from exc
        except requests.Timeout as exc:
            raise FetchError(
                f"Timed out connecting to {urlsplit(current).hostname}.", transient=True
            ) from exc
        except requests.RequestException as exc:
            raise FetchError(
                f"Connection failed: {describe_exception(exc)}", transient=True
            ) from exc

        with response:
            if response.is_redirect:
                location = response.headers.get("location", "")
                current = urljoin(current, location)
                continue
            result = FetchResult(
                url=current,
                status=response.status_code,
                headers={key.lower(): value for key, value in response.headers.items()},
            )
            if response.status_code == 304:
                return result
            if response.status_code >= 400:
                raise FetchError(
                    f"HTTP {response.status_code} {response.reason or ''}".strip(),
                    status=response.status_code,
                    retry_after=response.headers.get("retry-after"),
                )
            if require_html and result.content_type not in HTML_TYPES:
                raise FetchError(
                    f"Not an HTML page (Content-Type {result.content_type or 'missing'}).",
                    status=response.status_code,
                )
            result.content = read_body(response, max_bytes, deadline, timeout)
            if not result.content:
                raise FetchError("Empty response body.", status=response.status_code)
            return result
    raise FetchError(f"Too many redirects (more than {MAX_REDIRECTS}).")


def post_form(url, data, *, timeout=None, max_bytes=64 * 1024):
    """POST a form to `url` (a WebSub hub) through the same guards as fetch.

    The address checks, the per-host slot and the deadline hold; a redirect
    is not followed (a form is not posted again elsewhere). Returns the
    FetchResult; raises FetchError for an error status or a refused address.
    """
    timeout = timeout or settings.FETCH_TIMEOUT
    check_url(url)
    with host_slot(urlsplit(url).hostname, timeout):
        deadline = time.monotonic() + timeout
        try:
            response = session_for_thread().post(
                url,
                data=data,
                headers={"User-Agent": settings.FETCH_USER_AGENT},
                allow_redirects=False,
                stream=True,
                timeout=(min(timeout, 10), min(timeout, 10)),
            )
        except InvalidIPAddress as exc:
            raise FetchError(
                f"Refused: {urlsplit(url).hostname} resolves to a non-public address ({exc})."
            ) from exc
        except requests.RequestException as exc:
            raise FetchError(
                f"Connection failed: {describe_exception(exc)}", transient=True
            ) from exc
        with response:
            result = FetchResult(
                url=url,
                status=response.status_code,
                headers={key.lower(): value for key, value in response.headers.items()},
            )
            body = read_body(response, max_bytes, deadline, timeout)
            if response.status_code >= 300:
                reason = body.decode("utf-8", "replace").strip()[:200]
                raise FetchError(
                    f"HTTP {response.status_code} {response.reason or ''}".strip()
                    + (f": {reason}" if reason else ""),
                    status=response.status_code,
                )
            result.content = body
            return result


def read_body(response, max_bytes, deadline, timeout):
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes and "content-encoding" not in {
        key.lower() for key in response.headers
    }:
        raise FetchError(f"Response too large ({int(declared):,} bytes declared).")
    chunks = []
    size = 0
    try:
        while True:
            # read1 returns as soon as some bytes arrive, so a server that
            # drips one byte at a time still meets the deadline check.
            chunk = response.raw.read1(READ_SIZE, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(f"Response too large (over {max_bytes:,} bytes decoded).")
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise FetchError(
                    f"Timed out after {timeout:g} s while reading the body.", transient=True
                )
    except FetchError:
        raise
    except Exception as exc:  # urllib3 raises several kinds on broken streams.
        raise FetchError(
            f"Reading the body failed: {describe_exception(exc)}", transient=True
        ) from exc
    return b"".join(chunks)


@contextmanager
def host_slot(host, timeout):
    """At most FETCH_PER_HOST fetches to one host at once, across all workers.

    A slot expires on its own, so a worker killed mid-fetch frees it. A
    fetch that finds none free looks again after 20 ms, then less and less
    often, at least every 100 ms: a slot usually frees within a page's
    time, and slower looks left it idle for much of that
    (bench/NOTES-ingest.md, "sixth look").
    """
    locks = caches["locks"]
    keys = [f"fetch-slot:{host}:{n}" for n in range(settings.FETCH_PER_HOST)]
    give_up = time.monotonic() + timeout
    pause = SLOT_FIRST_PAUSE
    while True:
        taken = next((key for key in keys if locks.add(key, 1, timeout=int(timeout) + 5)), None)
        if taken:
            break
        if time.monotonic() > give_up:
            raise HostBusy(f"Too many fetches to {host} at once; will try again later.")
        time.sleep(pause)
        pause = min(pause * 2, SLOT_LAST_PAUSE)
    try:
        yield
    finally:
        locks.delete(taken)


def robots_allow(url):
    """Whether robots.txt lets us fetch `url` (RFC 9309 on errors).

    The rules are shared through the cache for an hour; each process also
    keeps them parsed for a minute, since a site's robots.txt can run to
    thousands of lines and every page of a feed asks again.
    """
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return parsed_robots(origin).can_fetch(settings.FETCH_USER_AGENT, url)


def robots_unreachable(url):
    parts = urlsplit(url)
    return cache.get(f"robots:{parts.scheme}://{parts.netloc}") == ROBOTS_DISALLOW_ALL


def parsed_robots(origin):
    """This process's parsed rules for the origin, read again after a minute."""
    parser = fresh_robots(origin)
    if parser is None:
        with _robots_locks[hash(origin) % len(_robots_locks)]:
            parser = fresh_robots(origin) or read_robots(origin)  # another thread's, perhaps
    return parser


def fresh_robots(origin):
    entry = _parsed_robots.get(origin)
    return entry[1] if entry is not None and entry[0] >= time.monotonic() else None


def read_robots(origin):
    parser = RobotFileParser()
    parser.parse(robots_rules(origin).splitlines())
    with _parsed_robots_changing:  # other origins' threads change it too
        _parsed_robots.pop(origin, None)  # renewed entries go to the end, as the newest
        if len(_parsed_robots) >= ROBOTS_PARSED_ENTRIES:
            _parsed_robots.pop(next(iter(_parsed_robots)))  # the oldest
        _parsed_robots[origin] = (time.monotonic() + ROBOTS_PARSED_SECONDS, parser)
    return parser


def robots_rules(origin):
    """The text of the origin's robots.txt, through the shared cache."""
    key = f"robots:{origin}"
    rules = cache.get(key)
    if rules is not None:
        return rules
    try:
        response = fetch(
            origin + "/robots.txt", accept="text/plain", max_bytes=ROBOTS_MAX_BYTES,
            timeout=ROBOTS_TIMEOUT, take_slot=False,
        )
        rules = response.content.decode("utf-8", "replace")
    except FetchError as exc:
        if exc.reason.startswith("Refused"):
            raise  # the page itself would be refused for the same reason
        if exc.status is not None and exc.status < 500:
            rules = ""  # missing or empty: everything is allowed
        else:
            # Unreachable or a server error: assume all is disallowed, but
            # not for long.
            cache.set(key, ROBOTS_DISALLOW_ALL, ROBOTS_UNREACHABLE_SECONDS)
            return ROBOTS_DISALLOW_ALL
    cache.set(key, rules, ROBOTS_CACHE_SECONDS)
    return rules


def describe_exception(exc):
    return Truncator(str(exc) or exc.__class__.__name__).chars(300)

