import ipaddress
import json
import os
import runpy
import socket
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.localserver import LocalServer


def pytest_configure(config):
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("sqlite"):
        return  # the embedded default's leg of `make test`
    if not url.startswith("postgres"):
        pytest.exit(
            "make test runs on PostgreSQL (and the embedded default's tests on SQLite): "
            f"set DATABASE_URL=postgres://... or sqlite:///... (got {url or 'nothing'}).",
            returncode=2,
        )
    import psycopg

    try:
        psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        pytest.exit(
            f"PostgreSQL is not reachable at {url.rsplit('/', 1)[0]}: {exc}\n"
            "Start it (e.g. `pg_ctlcluster --skip-systemctl-redirect 15 main start`) "
            "or point DATABASE_URL at a running server.",
            returncode=2,
        )


def pytest_collection_modifyitems(config, items):
    """@pytest.mark.postgresql(reason=...) tests are skipped, with their reason, on SQLite."""
    if not os.environ.get("DATABASE_URL", "").startswith("sqlite"):
        return
    for item in items:
        marker = item.get_closest_marker("postgresql")
        if marker is not None:
            reason = marker.kwargs.get("reason", "")
            item.add_marker(pytest.mark.skip(reason=f"PostgreSQL only: {reason}"))


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    """Any connection outside the loopback range fails before a packet leaves."""
    original = socket.socket.connect

    def guarded(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            try:
                loopback = ipaddress.ip_address(host.split("%")[0]).is_loopback
            except ValueError:
                loopback = host == "localhost"
            if not loopback:
                raise ConnectionRefusedError(f"Tests never leave 127.0.0.1 (tried {host}).")
        return original(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
def local_server(settings):
    server = LocalServer()
    settings.FETCH_PRIVATE_ALLOWLIST = [*settings.FETCH_PRIVATE_ALLOWLIST, f"127.0.0.1:{server.port}"]
    yield server
    server.close()


@pytest.fixture
def sync_tasks(monkeypatch):
    """django-q2 runs async_task inline, as the cluster would, one after another."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture(autouse=True)
def empty_cache():
    """The page cache must not carry one test's pages into the next."""
    from django.core.cache import cache

    from articles import menus
    from articles.fetch import _parsed_robots
    from articles.page_cache import local_version, shared_state

    cache.clear()
    shared_state["down_until"] = 0.0
    _parsed_robots.clear()
    menus.forget()  # a rolled-back test's categories and sources with it
    # One process: bumps update the local copy, so it never needs re-reading
    # from the shared cache (whose database queries would blur query counts).
    local_version.update(value=1, read_at=float("inf"))


@pytest.fixture(autouse=True)
def relating_thread_stopped():
    """A test that related in the pipeline's thread leaves no connection open."""
    yield
    from articles.pipeline import stop_pipeline_threads

    stop_pipeline_threads()


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    """Hashed static names need collectstatic; tests render without it."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def settings_from_environment(settings, monkeypatch):
    """configure(**environment): aggregator/settings.py evaluated under `environment`,
    as a deployment sets it, and its media store and CSP applied."""

    def configure(**environment):
        # Only the settings' own names reach boto3, as in a container.
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
            monkeypatch.delenv(key, raising=False)
        for key, value in environment.items():
            monkeypatch.setenv(key, value)
        configured = runpy.run_path(str(Path(settings.BASE_DIR) / "aggregator" / "settings.py"))
        for name in ("MEDIA_S3_BUCKET", "MEDIA_ORIGINS", "CONTENT_SECURITY_POLICY"):
            setattr(settings, name, configured[name])
        # Static files stay as plain_static_storage sets them (no collectstatic).
        settings.STORAGES = {**settings.STORAGES, "default": configured["STORAGES"]["default"]}

    return configure


@pytest.fixture
def s3_store(settings_from_environment):
    """A real S3-compatible server (moto's) on 127.0.0.1 with an empty bucket that
    anyone may read, as the README asks; configure(**environment) names it in the settings."""
    import boto3
    import requests
    from moto.server import ThreadedMotoServer

    bucket = "lede-media"
    keys = {"aws_access_key_id": "lede", "aws_secret_access_key": "lede-secret", "region_name": "eu-west-1"}
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # moto keeps its stores in the process: each test starts from none.
    requests.post(f"{endpoint}/moto-api/reset", timeout=5).raise_for_status()
    client = boto3.client("s3", endpoint_url=endpoint, **keys)
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": keys["region_name"]})
    anyone_reads = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    client.put_bucket_policy(
        Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [anyone_reads]})
    )

    def configure(**environment):
        settings_from_environment(
            MEDIA_S3_BUCKET=bucket,
            MEDIA_S3_ACCESS_KEY=keys["aws_access_key_id"],
            MEDIA_S3_SECRET_KEY=keys["aws_secret_access_key"],
            MEDIA_S3_REGION=keys["region_name"],
            **environment,
        )

    yield SimpleNamespace(endpoint=endpoint, bucket=bucket, client=client, configure=configure)
    server.stop()


CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (`make test` installs it)."""
    if not Path(CHROMIUM).exists():
        message = f"chromium not found at {CHROMIUM}: run `make browser` (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread; Django's ORM
    # calls from the same thread are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()
