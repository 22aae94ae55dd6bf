"""Django settings, derived entirely from the typed PassgateSettings (see env.py)."""

from __future__ import annotations

import dj_database_url

from passgate.config.env import load

PASSGATE = load()

SECRET_KEY = PASSGATE.secret_key
DEBUG = PASSGATE.debug
ALLOWED_HOSTS = [*PASSGATE.allowed_hosts, "testserver"] if DEBUG else PASSGATE.allowed_hosts
CSRF_TRUSTED_ORIGINS = list(PASSGATE.origins)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "passgate.audit",
    "passgate.freshness",
    "passgate.directory",
    "passgate.credentials",
    "passgate.trust_store",
    "passgate.apps",
    "passgate.access",
    "passgate.devices",
    "passgate.device_config",
    "passgate.web",
    "rest_framework",
]

# The Graph API (passgate.graph_api.registry.GraphView) sets its authentication (Bearer token, then session with
# CSRF), permissions, parser, renderer and exception handler itself; these defaults keep any other DRF view JSON-only,
# closed by default and in Graph's error envelope.
REST_FRAMEWORK = {
    "EXCEPTION_HANDLER": "passgate.graph_api.errors.graph_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["passgate.graph_api.parsers.StrictJSONParser"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": None,
}

MIDDLEWARE = [
    "passgate.config.request_log.RequestLogMiddleware",  # the request's id, and its JSON log line
    "passgate.freshness.memo.RequestMemoMiddleware",  # what several layers read, read once per request
    "passgate.config.proxy.TrustedProxyMiddleware",  # first: the scheme a trusted proxy reports (is_secure)
    "django.middleware.security.SecurityMiddleware",
    "passgate.web.security_headers.SecurityHeadersMiddleware",  # before WhiteNoise: static files too
    # /healthz, /readyz, /metrics: before sessions, CSRF, Host validation and the session checks; Graph counts
    "passgate.web.ops.OpsEndpointsMiddleware",
    # JSON, never an HTML page, for every error on the APIs (passgate.core.api_paths), whoever made the response
    "passgate.graph_api.api_errors.ApiErrorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "passgate.web.input_guard.UnusableTextMiddleware",
    "passgate.web.middleware.SessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "passgate.config.urls"
WSGI_APPLICATION = "passgate.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "passgate.web.context_processors.person",
            ],
        },
    },
]

DATABASES = {"default": dj_database_url.parse(PASSGATE.database_url, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout so several worker processes can share the embedded database.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Kept open across requests, as on PostgreSQL: a new SQLite connection re-reads the schema and the WAL index and
    # runs the PRAGMAs above; reopening per request cost a third of a passkey sign-in's throughput (issue 11).
    # Tests use a file too (not :memory:), so live-server threads and parallel workers really share it.
    DATABASES["default"]["TEST"] = {"NAME": str(PASSGATE.data_dir / "test-passgate.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "directory.User"
AUTHENTICATION_BACKENDS = ["passgate.directory.backends.DirectoryBackend"]
AUTH_PASSWORD_VALIDATORS: list[dict[str, str]] = []
LOGIN_URL = "/signin"

# Sessions: server-side rows, so sign-out invalidates them. Idle and absolute limits are enforced by
# SessionLifetimeMiddleware; the cookie itself lives at most the absolute lifetime.
SESSION_ENGINE = "passgate.web.session_store"  # the database, written once per request
SESSION_COOKIE_NAME = f"{PASSGATE.cookie_prefix}passgate_session"  # __Host- on https (env.py)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PASSGATE.secure_cookies
SESSION_COOKIE_AGE = PASSGATE.session_max_hours * 3600
CSRF_COOKIE_NAME = f"{PASSGATE.cookie_prefix}passgate_csrf"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = PASSGATE.secure_cookies
CSRF_FAILURE_VIEW = "passgate.web.views.errors.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"  # other origins (apps after a redirect) get no Referer
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Response headers (passgate.web.security_headers; docs/architecture.md, "Response headers"). Pages: nothing inline,
# everything from this origin; form-action also gets the app origins a page's forms really end at.
PASSGATE_CSP_PAGE = {
    "default-src": ["'none'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'"],
    "connect-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
    "require-trusted-types-for": ["'script'"],  # DOM sinks (innerHTML, ...) refuse strings: no DOM XSS
    "trusted-types": ["'none'"],
}
PASSGATE_CSP_OTHER = {"default-src": ["'none'"], "frame-ancestors": ["'none'"]}  # JSON, Graph, text, static
# Sent when PASSGATE_ORIGIN is https. includeSubDomains covers names under Passgate's own host only (it belongs on
# a host of its own, e.g. id.example.com); no preload: that list is the domain owner's commitment, not Passgate's.
PASSGATE_HSTS = "max-age=31536000; includeSubDomains"
PASSGATE_PERMISSIONS_POLICY = ("publickey-credentials-create=(self), publickey-credentials-get=(self), camera=(), "
                               "microphone=(), geolocation=(), payment=(), usb=()")
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024

if PASSGATE.redis_url:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": PASSGATE.redis_url}}

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = None  # served from the package by WhiteNoise (finders); no collectstatic step
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
                   "json": {"()": "passgate.audit.logs.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"},
                 "events": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    # Authlib logs issued tokens at DEBUG: never let that level through, whatever the root level becomes.
    # passgate.events: one JSON line per request and per security event (passgate.audit.logs).
    "loggers": {"passgate": {"level": "INFO"}, "authlib": {"level": "WARNING"},
                "passgate.events": {"handlers": ["events"], "level": "INFO", "propagate": False}},
}

# The FIDO Metadata Service root (a DER or PEM file); empty: GlobalSign Root CA - R3, shipped with Passgate.
PASSGATE_MDS_ROOT = str(PASSGATE.mds_root or "")
