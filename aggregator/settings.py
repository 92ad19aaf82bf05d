"""Settings, all from the environment, with defaults safe for a laptop.

DATABASE_URL  default: SQLite (WAL) under var/
REDIS_URL     when set: Redis is django-q2's broker and the cache
SECRET_KEY    default: a random key kept in var/secret_key
DEBUG         default: off
ALLOWED_HOSTS default: 127.0.0.1,localhost
PORT          port `manage.py serve` listens on (default 8000)
HTTPS         secure cookies, HSTS and the SSL redirect; default: on when
              SECRET_KEY is given and DEBUG is off (a deployment), off otherwise
FETCH_PRIVATE_ALLOWLIST  host:port pairs the fetcher may reach in private
              address space (tests and the demo only)
"""

import secrets
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()
BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def read_or_create_secret_key():
    # A fresh checkout must run without configuration, yet never on a key
    # that is public in the repository.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="") or read_or_create_secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
PORT = env.int("PORT", default=8000)
SITE_NAME = env.str("SITE_NAME", default="Lede")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "django_q",
    "axes",
    "articles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "articles.methods.RejectTraceMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before anything reads a form or query value into a query.
    "articles.middleware.RefuseBadInputMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Below the headers middleware, so cached pages still get their headers;
    # ETags come from the (cached) content, and a repeat visit gets a 304.
    "django.middleware.http.ConditionalGetMiddleware",
    "articles.page_cache.AnonymousPageCacheMiddleware",
    # Last, as django-axes asks: it reads the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Five wrong passwords for one username from one address lock it for an hour.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 1
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

ROOT_URLCONF = "aggregator.urls"
WSGI_APPLICATION = "aggregator.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "articles.context_processors.site",
            ],
        },
    },
]

DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = 60
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the queue workers write at once: WAL lets readers
    # run beside a writer, IMMEDIATE takes the write lock up front so that
    # two writers wait for each other instead of failing with "locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Tests run on a file too, in WAL mode, as `make run` does (not in memory).
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-embedded.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A database that does not answer fails a request in seconds (a 503),
    # instead of holding it until the web server's timeout.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    # No JIT compilation: the site's statements run in milliseconds, and a
    # plan whose rows PostgreSQL cannot estimate (a search's month-keyed
    # lookup, articles/search.py) crossed jit_above_cost and spent 187 ms
    # compiling a 10 ms statement (bench/NOTES-pages.md).
    #
    # The pages' hand-written reads (articles/rows.py) run as prepared
    # statements once a connection has run one `prepare_threshold` times, and
    # with one plan for all their values (plan_cache_mode): each is written
    # so that its plan does not hang on them. Planning had taken 2 of an
    # uncached article page's 3 ms in PostgreSQL (bench/NOTES-pages.md).
    # Django's own queries bind client-side and are never prepared. Behind a
    # pooler in transaction mode, this needs pgbouncer 1.21+ with
    # max_prepared_statements set, or prepare_threshold None.
    DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off -c plan_cache_mode=force_generic_plan")
    DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 5)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
FORMS_URLFIELD_ASSUME_HTTPS = True

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # django-redis keeps one client and connection pool per server.
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            # A Redis that does not answer is down: pages go on without it
            # (articles/page_cache.py) rather than wait.
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 2},
        }
    }
    CACHES["locks"] = CACHES["default"]
    # Each process keeps the pages it served in front of Redis: a hit then
    # costs no round trip (articles/page_cache.py).
    CACHES["pages"] = {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "pages",
        "OPTIONS": {"MAX_ENTRIES": 1000},
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        # Shared by every process (web and queue workers), unlike locmem:
        # per-host fetch slots must be counted across workers.
        "locks": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "fetch_locks",
        },
    }

# django-q2 (https://django-q2.readthedocs.io/en/master/configure.html).
# timeout < retry: a task still running at `timeout` is killed before the
# broker hands it out again at `retry`, so one task never runs twice at once.
# The ORM broker deletes a task only when a worker acknowledges it, so a task
# whose worker was killed is handed out again after `retry`; the article's own
# claim lease (EXTRACTION_LEASE, renewed while its batch runs) keeps that
# redelivery from racing a live run. catch_up off: after downtime the poll runs once, not
# once per missed minute. save_limit keeps the latest successful results for
# the admin; the per-article tasks are enqueued with save=False, since pruning
# to save_limit on every result kept the monitor busy.
Q_CLUSTER = {
    "name": "aggregator",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=120),
    "retry": env.int("Q_RETRY", default=180),
    "max_attempts": 3,
    "save_limit": 1000,
    "catch_up": False,
    "ack_failures": True,
    "label": "Tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 1

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"

# Password reset mails: printed to the console unless an SMTP host is set.
EMAIL_HOST = env.str("EMAIL_HOST", default="")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env.int("EMAIL_PORT", default=587)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="news@localhost")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# Lead images, resized once (articles/images.py): on local disk and served by
# the site with far-future caching, or in an S3-compatible bucket when
# MEDIA_S3_BUCKET names one (django-storages and boto3).
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
MEDIA_S3_BUCKET = env.str("MEDIA_S3_BUCKET", default="")
# The store's API, e.g. https://s3.eu-west-1.amazonaws.com or http://minio:9000.
MEDIA_S3_ENDPOINT = env.str("MEDIA_S3_ENDPOINT", default="")
# The host, and optionally a path, readers fetch the images from over https
# (a CDN, or a path of this site that a reverse proxy passes to the bucket).
MEDIA_S3_DOMAIN = env.str("MEDIA_S3_DOMAIN", default="").strip("/")
# Unset, boto3 looks further: AWS_ACCESS_KEY_ID and the like, its config
# files, an instance role.
MEDIA_S3_ACCESS_KEY = env.str("MEDIA_S3_ACCESS_KEY", default="")
MEDIA_S3_SECRET_KEY = env.str("MEDIA_S3_SECRET_KEY", default="")
MEDIA_S3_REGION = env.str("MEDIA_S3_REGION", default="")
IMAGE_MAX_BYTES = env.int("IMAGE_MAX_BYTES", default=5 * 1024 * 1024)
MEDIA_ORIGINS = []  # other origins the pages' images come from (the CSP's img-src)
if MEDIA_S3_BUCKET:
    if not (MEDIA_S3_ENDPOINT or MEDIA_S3_DOMAIN):
        # Without either, the images' origin depends on the bucket's region
        # and the addressing style, and the CSP could not name it exactly.
        raise ImproperlyConfigured(
            "MEDIA_S3_BUCKET needs MEDIA_S3_ENDPOINT (e.g. https://s3.eu-west-1.amazonaws.com) "
            "or MEDIA_S3_DOMAIN (the host readers fetch the images from)."
        )
    if MEDIA_S3_DOMAIN:
        MEDIA_ORIGINS = [f"https://{MEDIA_S3_DOMAIN.split('/')[0]}"]
    else:
        endpoint = urlsplit(MEDIA_S3_ENDPOINT)
        MEDIA_ORIGINS = [f"{endpoint.scheme}://{endpoint.netloc}"]
    MEDIA_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": MEDIA_S3_BUCKET,
            "endpoint_url": MEDIA_S3_ENDPOINT or None,
            "access_key": MEDIA_S3_ACCESS_KEY or None,
            "secret_key": MEDIA_S3_SECRET_KEY or None,
            "region_name": MEDIA_S3_REGION or None,
            # endpoint/bucket/name, on the endpoint's own origin, which the CSP
            # names: botocore's choice for an endpoint today, stated so it stays.
            "addressing_style": "path" if MEDIA_S3_ENDPOINT else None,
            "custom_domain": MEDIA_S3_DOMAIN or None,
            # Plain URLs, the same on every page: the bucket (or the CDN in
            # front of it) lets anyone read the images, as the site would.
            "querystring_auth": False,
            "file_overwrite": False,
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }
else:
    MEDIA_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
HTTPS = env.bool("HTTPS", default=bool(env.str("SECRET_KEY", default="")) and not DEBUG)
if HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# No inline script, no eval anywhere: a sanitizer miss still cannot run.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Images come from this site only (articles/images.py), or from the
        # one origin its bucket's images are served from.
        "img-src": ["'self'", "data:", *MEDIA_ORIGINS],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "manifest-src": ["'self'"],
        "worker-src": ["'self'"],
    }
}

# Outgoing HTTP (articles/fetch.py).
FETCH_USER_AGENT = env.str(
    "FETCH_USER_AGENT", default=f"{SITE_NAME}/1.0 (self-hosted news aggregator)"
)
FETCH_TIMEOUT = env.float("FETCH_TIMEOUT", default=20.0)
FETCH_MAX_BYTES = env.int("FETCH_MAX_BYTES", default=8 * 1024 * 1024)
# Exact host:port pairs allowed to resolve to private addresses (tests, demo).
FETCH_PRIVATE_ALLOWLIST = env.list("FETCH_PRIVATE_ALLOWLIST", default=[])
FETCH_PER_HOST = env.int("FETCH_PER_HOST", default=2)
# Pages an extraction batch has on their way at once, the one being extracted
# included (articles/pipeline.py); 1: one at a time.
FETCH_PER_BATCH = env.int("FETCH_PER_BATCH", default=3)
# Short, so that a killed worker's articles are soon taken again (the
# sweeper runs every minute); a running batch renews the leases it holds
# every third of this (articles/pipeline/claim.py).
EXTRACTION_LEASE = env.int("EXTRACTION_LEASE", default=30)
# Articles per extraction task (articles/tasks.py), and the time after which a
# batch leaves its unstarted articles to a new task: with the fetches already
# on their way (FETCH_TIMEOUT each, at once) and their extraction, still well
# inside the task timeout.
EXTRACT_BATCH = env.int("EXTRACT_BATCH", default=10)
EXTRACT_BATCH_SECONDS = Q_CLUSTER["timeout"] / 4
# WebSub (articles/websub.py): this site's public address, e.g.
# https://news.example.org, for the callback hubs push to; unset: sources are
# polled only. The lease asked for (the hub decides); while pushed, a source
# is still polled at its max_interval, as a safety net.
SITE_URL = env.str("SITE_URL", default="").rstrip("/")
WEBSUB_LEASE_SECONDS = env.int("WEBSUB_LEASE_SECONDS", default=10 * 24 * 3600)
# Articles older than this many days that nobody saved, commented on or
# featured are removed (articles/retention.py); unset: everything is kept.
RETENTION_DAYS = env.int("RETENTION_DAYS", default=None)
# How much of an article new sources show: "full" (the text), "excerpt" or
# "headline" (each with a link to the original). Editors set it per source;
# a page's own robots directives always win (articles/terms.py).
DISPLAY_POLICY_DEFAULT = env.str("DISPLAY_POLICY_DEFAULT", default="full")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"trafilatura": {"level": "ERROR"}, "htmldate": {"level": "ERROR"}},
}
