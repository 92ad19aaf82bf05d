"""Production settings as a deployment sets them: only SECRET_KEY and ALLOWED_HOSTS."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent


def test_check_deploy_passes_at_warning_level(tmp_path):
    env = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="news.example.org",
        VAR_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_web_process_keeps_what_start_up_built_out_of_the_collector(tmp_path):
    """gunicorn's workers load aggregator.wsgi: what it built is frozen, so a
    full collection no longer walks it (a 60 ms pause on a search worker)."""
    env = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
    env.update(DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="news.example.org",
               VAR_DIR=str(tmp_path))
    script = "import gc, aggregator.wsgi; print(gc.get_freeze_count(), len(gc.get_objects()))"
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    frozen, tracked = map(int, result.stdout.split())
    assert frozen > 50_000 and tracked < frozen / 10, result.stdout


@pytest.mark.django_db
def test_every_page_has_a_strict_content_security_policy(client):
    response = client.get(reverse("articles:list"))
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "object-src 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_admin_login_locks_after_repeated_failures(client, django_user_model):
    django_user_model.objects.create_superuser("editor", "e@example.org", "right-password-123")
    url = reverse("admin:login")
    for _ in range(5):
        client.post(url, {"username": "editor", "password": "wrong"})
    locked = client.post(url, {"username": "editor", "password": "right-password-123"})
    assert locked.status_code == 429
    assert client.get(reverse("admin:index")).status_code == 302  # still not signed in


def test_static_files_are_hashed_compressed_and_cached_for_a_year(tmp_path):
    """whitenoise under gunicorn with the production settings, as docker-compose runs it."""
    import json
    import socket
    import time
    import urllib.request

    env = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
    env.update(
        DEBUG="0", HTTPS="0", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="127.0.0.1",
        VAR_DIR=str(tmp_path), STATIC_ROOT=str(tmp_path / "static"),
    )
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
                   cwd=ROOT, env=env, check=True)
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())["paths"]
    hashed = manifest["css/site.css"]
    assert hashed != "css/site.css"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "aggregator.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--log-level", "warning"], cwd=ROOT, env=env,
    )
    try:
        url = f"http://127.0.0.1:{port}/static/{hashed}"
        request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip, br"})
        for _ in range(100):
            try:
                response = urllib.request.urlopen(request, timeout=5)
                break
            except OSError:
                time.sleep(0.1)
        assert response.headers["Content-Encoding"] in ("gzip", "br")
        cache_control = response.headers["Cache-Control"]
        assert "immutable" in cache_control and "max-age=315360000" in cache_control
        plain = urllib.request.urlopen(f"http://127.0.0.1:{port}/static/css/site.css", timeout=5)
        assert "immutable" not in plain.headers["Cache-Control"]
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.mark.django_db
@pytest.mark.postgresql(reason="JIT is PostgreSQL's")
def test_the_site_connects_to_postgresql_without_jit():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
