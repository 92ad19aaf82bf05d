"""docker-compose.yml cannot run here (no Docker engine), so it is read and checked."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

# Its checks write settings' files under var/compose-check: one worker.
pytestmark = pytest.mark.xdist_group("compose")

ROOT = Path(__file__).resolve().parent.parent


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def settings_under(environment):
    """The settings module as the container would load it with `environment`."""
    env = {
        key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}
    }
    env.update({key: str(value) for key, value in environment.items()})
    env["DJANGO_SETTINGS_MODULE"] = "aggregator.settings"
    env["VAR_DIR"] = str(ROOT / "var" / "compose-check")
    code = (
        "import json, django; django.setup(); from django.conf import settings as s;"
        "print(json.dumps({'db': s.DATABASES['default'], 'cache': s.CACHES['default'],"
        "'q': s.Q_CLUSTER, 'debug': s.DEBUG, 'hosts': s.ALLOWED_HOSTS, 'key': s.SECRET_KEY,"
        "'batch_seconds': s.EXTRACT_BATCH_SECONDS, 'fetch_timeout': s.FETCH_TIMEOUT,"
        "'media': s.STORAGES['default'], 'img_src': s.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def interpolated(environment, shell):
    """The environment as compose passes it, given the shell's (or .env's) variables."""

    def value(match):
        name, default = match.group(1), match.group(3) or ""
        if match.group(2) == ":?":
            return shell[name]
        return shell.get(name) or default

    return {
        key: re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", value, str(raw))
        for key, raw in environment.items()
    }


def test_services_and_commands():
    services = compose()["services"]
    assert set(services) == {"db", "redis", "web", "worker"}
    assert services["db"]["image"] == "postgres:15"
    assert services["redis"]["image"].startswith("redis")
    assert "gunicorn aggregator.wsgi" in services["web"]["command"]
    assert "migrate" in services["web"]["command"]
    assert services["worker"]["command"] == ["python", "manage.py", "qcluster"]
    assert (ROOT / "Dockerfile").exists()
    # whitenoise serves static files inside gunicorn: no separate static server.
    from django.conf import settings

    assert "whitenoise.middleware.WhiteNoiseMiddleware" in settings.MIDDLEWARE


def test_app_environment_matches_settings():
    """The env that web and worker get selects PostgreSQL, and Redis as broker and cache."""
    services = compose()["services"]
    assert services["web"]["environment"] == services["worker"]["environment"]
    env = interpolated(services["web"]["environment"], {"SECRET_KEY": "compose-check-key"})
    db = services["db"]["environment"]
    loaded = settings_under(env)
    assert loaded["db"]["ENGINE"] == "django.db.backends.postgresql"
    assert loaded["db"]["HOST"] == "db" and loaded["db"]["NAME"] == db["POSTGRES_DB"]
    assert loaded["db"]["USER"] == db["POSTGRES_USER"]
    assert loaded["db"]["PASSWORD"] == db["POSTGRES_PASSWORD"]
    assert loaded["cache"]["BACKEND"] == "django_redis.cache.RedisCache"
    assert loaded["cache"]["LOCATION"] == "redis://redis:6379/0"
    assert loaded["q"]["redis"] == "redis://redis:6379/0" and "orm" not in loaded["q"]
    assert loaded["debug"] is False
    assert loaded["key"] == "compose-check-key"
    assert loaded["q"]["timeout"] < loaded["q"]["retry"]
    # A batch claims no article after batch_seconds; the pages of those it
    # claimed are already on their way, at once, and each may take robots.txt,
    # the page, robots.txt again for a redirect to another site, then its
    # extraction (given a fetch timeout): the task still ends before django-q2
    # kills it.
    from articles.fetch import ROBOTS_TIMEOUT

    page = ROBOTS_TIMEOUT + loaded["fetch_timeout"] + ROBOTS_TIMEOUT + loaded["fetch_timeout"]
    assert loaded["batch_seconds"] + page < loaded["q"]["timeout"]


def test_every_env_var_in_compose_is_read_by_settings():
    source = (ROOT / "aggregator" / "settings.py").read_text()
    for name in compose()["services"]["web"]["environment"]:
        assert f'"{name}"' in source, f"{name} is set in compose but never read"


def test_images_are_shared_by_web_and_worker_on_a_volume_or_in_a_bucket():
    """The worker stores the images the web containers serve: one volume, or the bucket the shell names."""
    services = compose()["services"]
    assert "WORKDIR /app" in (ROOT / "Dockerfile").read_text()
    for name in ("web", "worker"):
        assert "media:/app/var/media" in services[name]["volumes"]  # MEDIA_ROOT's default there
    assert "media" in compose()["volumes"]
    on_disk = settings_under(interpolated(services["web"]["environment"], {"SECRET_KEY": "k"}))
    assert on_disk["media"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    shell = {
        "SECRET_KEY": "k",
        "MEDIA_S3_BUCKET": "lede-media",
        "MEDIA_S3_ENDPOINT": "https://minio.example.org",
        "MEDIA_S3_ACCESS_KEY": "lede",
        "MEDIA_S3_SECRET_KEY": "secret",
        "MEDIA_S3_REGION": "us-east-1",
    }
    in_bucket = settings_under(interpolated(services["web"]["environment"], shell))
    assert in_bucket["media"]["BACKEND"] == "storages.backends.s3.S3Storage"
    options = in_bucket["media"]["OPTIONS"]
    assert (options["bucket_name"], options["endpoint_url"]) == ("lede-media", "https://minio.example.org")
    keys = (options["access_key"], options["secret_key"], options["region_name"])
    assert keys == ("lede", "secret", "us-east-1")
    assert options["custom_domain"] is None
    assert in_bucket["img_src"] == ["'self'", "data:", "https://minio.example.org"]
