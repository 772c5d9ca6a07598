"""Rightbrain settings.

One module for every environment. Every knob comes from the environment and every
knob has a default, so `manage.py runserver` works with no environment at all:
SQLite in the project folder, Celery running tasks in-process, e-mail printed to the
console and the offline demo model.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

# litellm downloads a model price map when first imported unless told not to. It
# reads this variable at import time, so set it before anything can import litellm.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def env(name: str, default: str = "") -> str:
    """The variable's value; unset and empty both mean the default."""
    return os.environ.get(name) or default


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be a whole number, not {value!r}."
        ) from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def database_from_url(url: str) -> dict:
    """Translate `sqlite:///path` or `postgres://user:pass@host:port/name?opt=v`."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        # sqlite:///relative.db is relative to the project; sqlite:////abs.db is not.
        name = path[1:]
        if not Path(name).is_absolute():
            name = str(BASE_DIR / name)
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": name}
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        options: dict = dict(parse_qsl(parts.query))
        # psycopg 3's connection pool keeps connections warm across requests; it
        # replaces CONN_MAX_AGE, which must stay 0 when the pool is on.
        pool = options.pop("pool", "true").lower() != "false"
        if pool:
            options["pool"] = {
                "min_size": env_int("DB_POOL_MIN_SIZE", 1),
                "max_size": env_int("DB_POOL_MAX_SIZE", 10),
                "timeout": env_int("DB_POOL_TIMEOUT", 10),
            }
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "OPTIONS": options,
            "CONN_HEALTH_CHECKS": not pool,
            "TEST": {"NAME": env("DB_TEST_NAME") or None},
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL must start with sqlite:// or postgres://, not {parts.scheme!r}."
    )


def file_storage() -> dict:
    """Where run files live: an S3-compatible bucket when RB_S3_BUCKET is set,
    else local disk under MEDIA_ROOT.

    Processes that share files (web and worker, several web replicas) need the
    bucket. Its objects are private: users never get a bucket address; the app
    serves the bytes itself or through a signed link on RB_FILES_ORIGIN after
    its own access checks, so the storage never signs URLs of its own."""
    bucket = env("RB_S3_BUCKET")
    if not bucket:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    from botocore.config import Config

    endpoint_url = env("RB_S3_ENDPOINT_URL") or None
    # Path-style addresses (endpoint/bucket/key) work on every S3-compatible
    # server without a wildcard DNS name; AWS itself prefers virtual hosts.
    addressing_style = env("RB_S3_ADDRESSING_STYLE", "path" if endpoint_url else "auto")
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url,
            "region_name": env("RB_S3_REGION") or None,
            # Empty: boto3's own chain (an instance role, AWS_* variables).
            "access_key": env("RB_S3_ACCESS_KEY_ID") or None,
            "secret_key": env("RB_S3_SECRET_ACCESS_KEY") or None,
            "location": env("RB_S3_PREFIX").strip("/"),
            "default_acl": "private",
            "querystring_auth": False,
            # Keys are time-ordered UUIDs: no name is ever reused, so the HEAD
            # request that looks for a free name would only add a round trip.
            "file_overwrite": True,
            "client_config": Config(
                s3={"addressing_style": addressing_style},
                signature_version="s3v4",
                # A store that does not answer fails the request in seconds
                # instead of holding a web worker for minutes.
                connect_timeout=env_int("RB_S3_CONNECT_TIMEOUT", 5),
                read_timeout=env_int("RB_S3_READ_TIMEOUT", 30),
                retries={"max_attempts": 3, "mode": "standard"},
            ),
        },
    }


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off. Set it to a long random "
            'string, for example: python -c "import secrets; '
            'print(secrets.token_urlsafe(50))"'
        )
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
if DEBUG:
    ALLOWED_HOSTS += ["testserver"]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# The public address of this instance: share links and API examples are built on it.
SITE_ROOT = env("SITE_ROOT", "http://127.0.0.1:8000").rstrip("/")
SITE_NAME = env("SITE_NAME", "Rightbrain")

INSTALLED_APPS = [
    "whitenoise.runserver_nostatic",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",
    "allauth",
    "allauth.account",
    "rightbrain.orgs",
    # After orgs: its token models point at our OAuth client model.
    "oauth2_provider",
    "tasks_app",
    "runs_app",
    "sharing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "runs_app.files_origin.files_origin_only",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads a cookie, a form or a body: NUL bytes, unpaired
    # surrogates and absurdly deep JSON are refused here, for every page.
    "rightbrain.malformed_input.malformed_input_middleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "rightbrain.urls"
WSGI_APPLICATION = "rightbrain.wsgi.application"
ASGI_APPLICATION = "rightbrain.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "rightbrain.orgs.context_processors.workspace",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(env("DATABASE_URL", "sqlite:///db.sqlite3")),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis (when configured) backs the cache shared by every web process: rate limits
# and circuit breakers must agree across processes. Without it, a per-process cache.
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's Redis cache that skips an unreachable Redis (reads miss,
            # writes are dropped, rate limits fail open); the timeouts keep a
            # hung Redis from holding a request for long.
            "BACKEND": "rightbrain.cache_safe.DegradingRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# After a failed cache call, how long each process leaves the cache alone (reads
# miss, writes are skipped) before trying again; see rightbrain/cache_safe.py.
RB_CACHE_RETRY_SECONDS = env_int("RB_CACHE_RETRY_SECONDS", 5)

AUTH_USER_MODEL = "orgs.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

# django-allauth: e-mail addresses are the login; there are no usernames.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", "optional")
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PRESERVE_USERNAME_CASING = False
ACCOUNT_ADAPTER = "rightbrain.orgs.adapters.AccountAdapter"
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}

# OAuth 2.0 (django-oauth-toolkit, api.md §12.3). OAuth clients are our own model
# (rightbrain/orgs/models.py: OAuthClient); the validator and server class in
# rightbrain/orgs/oauth.py add the rules DOT leaves open: grant types as a list,
# PKCE for public clients and S256 only, refresh tokens only for `offline_access`.
OAUTH2_PROVIDER_APPLICATION_MODEL = "orgs.OAuthClient"
# Authorization codes are stored as SHA-256 digests (orgs.OAuthGrant).
OAUTH2_PROVIDER_GRANT_MODEL = "orgs.OAuthGrant"
# The legacy implicit grant can be stored on a client but is refused at the
# authorize endpoint unless this is on.
OAUTH_ALLOW_IMPLICIT = env_bool("OAUTH_ALLOW_IMPLICIT", False)
OAUTH2_PROVIDER = {
    "OAUTH2_VALIDATOR_CLASS": "rightbrain.orgs.oauth.Validator",
    "OAUTH2_SERVER_CLASS": "rightbrain.orgs.oauth.Server",
    "ACCESS_TOKEN_GENERATOR": "rightbrain.orgs.oauth.access_token_generator",
    "REFRESH_TOKEN_GENERATOR": "rightbrain.orgs.oauth.refresh_token_generator",
    "APPLICATION_ADMIN_CLASS": "rightbrain.orgs.admin.OAuthClientAdmin",
    "SCOPES": {"offline_access": "Stay signed in: refresh access without asking again"},
    # No scope unless asked for: a refresh token needs `offline_access` explicitly.
    "DEFAULT_SCOPES": [],
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ROTATE_REFRESH_TOKEN": True,
    # Replaying a rotated refresh token revokes its whole family.
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # The validator narrows this to public clients; confidential clients may add PKCE.
    "PKCE_REQUIRED": True,
    # Clients register https, loopback http and custom-scheme URIs; each client
    # allows the schemes it registered (OAuthClient.get_allowed_schemes).
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    "OIDC_ISS_ENDPOINT": SITE_ROOT,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": not OAUTH_ALLOW_IMPLICIT,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    # Tokens are stored as SHA-256 digests only.
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
}

# E-mail: printed to the console unless a backend is configured. SMTP options apply
# only to the SMTP backend (other backends refuse options they do not know).
EMAIL_BACKEND_PATH = env(
    "EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
MAILERS: dict[str, dict] = {"default": {"BACKEND": EMAIL_BACKEND_PATH}}
if EMAIL_BACKEND_PATH == "django.core.mail.backends.smtp.EmailBackend":
    MAILERS["default"]["OPTIONS"] = {
        "host": env("EMAIL_HOST", "localhost"),
        "port": env_int("EMAIL_PORT", 25),
        "username": env("EMAIL_HOST_USER"),
        "password": env("EMAIL_HOST_PASSWORD"),
        "use_tls": env_bool("EMAIL_USE_TLS", False),
        "timeout": env_int("EMAIL_TIMEOUT", 10),
    }
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Rightbrain <noreply@localhost>")

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "rightbrain.staticfinders.PlotlyFinder",
]
STORAGES = {
    "default": file_storage(),
    # Hashed, compressed files need `collectstatic` first: the production image
    # runs it at build time; development serves the source files directly.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))

# Content Security Policy: scripts only from our own origin or with the request's
# nonce, never eval. Styles allow inline attributes because plotly.js writes them.
SECURE_CSP: dict[str, list[str]] = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Behind a TLS-terminating proxy, trust its X-Forwarded-Proto header.
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)

# Celery: with no broker configured, tasks run eagerly inside the web process, so
# the embedded default needs no Redis. Results are never stored: callers read the
# database, which the tasks write.
CELERY_BROKER_URL = env("CELERY_BROKER_URL") or REDIS_URL
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
# A task's message is acknowledged only when the task has ended, so a worker that
# dies mid-task does not lose it: a pool process killed under a running worker
# hands the message back at once (reject on worker lost); a whole worker that
# vanishes leaves it with Redis, which gives it to another worker after the
# visibility timeout. That timeout must be longer than any run may take
# (RB_STUCK_RUN_SECONDS), or a slow run still in progress would be delivered a
# second time. Redelivery is safe: a queued run is taken once (queued → running);
# a message handed back after its worker died fails the run that worker had
# started instead of running it again (no crash loop), and the sweeper
# (runs-fail-stuck, in the beat schedule) fails whatever is left unfinished.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict = {
    "heartbeat": {
        "task": "rightbrain.heartbeat",
        "schedule": float(env_int("RB_HEARTBEAT_SECONDS", 300)),
    },
    # DOT's cleartokens (expired tokens and codes), then the used codes whose
    # tokens are all gone.
    "oauth-tokens-clear": {
        "task": "rightbrain.oauth_tokens_clear",
        "schedule": float(env_int("RB_OAUTH_CLEANUP_SECONDS", 3600)),
    },
    # Queued and running runs older than RB_STUCK_RUN_SECONDS end as failed.
    "runs-fail-stuck": {
        "task": "runs_app.fail_stuck_runs",
        "schedule": float(env_int("RB_STUCK_RUN_SWEEP_SECONDS", 60)),
    },
}

# Outbound requests (URL fetching, webhooks) refuse private and loopback addresses
# unless this is on: tests and fully local setups turn it on deliberately.
RB_ALLOW_PRIVATE_URLS = env_bool(
    "RB_ALLOW_PRIVATE_URLS", env_bool("URL_FETCH_ALLOW_PRIVATE", False)
)
# Input processors. url_fetcher: the timeout when a revision sets none, and the
# most bytes read from a page. Documents: the most text taken from one file, and
# the most an Office file may unpack to (a small zip can hold gigabytes).
RB_URL_FETCH_TIMEOUT = float(env("RB_URL_FETCH_TIMEOUT", "30"))
RB_URL_FETCH_MAX_BYTES = env_int("RB_URL_FETCH_MAX_BYTES", 5_000_000)
RB_DOCUMENT_MAX_CHARS = env_int("RB_DOCUMENT_MAX_CHARS", 200_000)
RB_DOCUMENT_MAX_UNPACKED_BYTES = env_int("RB_DOCUMENT_MAX_UNPACKED_BYTES", 200_000_000)
# perplexity_search: the provider (`perplexity`, or `mock` for offline demos) and
# its instance-wide key; revisions save without one, their runs fail clearly.
RB_SEARCH_PROVIDER = env("RB_SEARCH_PROVIDER", env("SEARCH_PROVIDER", "perplexity"))
RB_SEARCH_API_KEY = env("RB_SEARCH_API_KEY", env("PERPLEXITY_API_KEY"))
RB_SEARCH_API_BASE = env("RB_SEARCH_API_BASE", "https://api.perplexity.ai")
RB_SEARCH_TIMEOUT = float(env("RB_SEARCH_TIMEOUT", "30"))
# Where PDF output finds the DejaVu fonts it embeds for text beyond Latin-1
# (Debian's fonts-dejavu-core; the image installs it).
RB_PDF_FONT_DIR = env("RB_PDF_FONT_DIR", "/usr/share/fonts/truetype/dejavu")
# Key for secrets stored encrypted (task access tokens, signing keys); derived from
# SECRET_KEY when unset.
RB_ENCRYPTION_KEY = env("RB_ENCRYPTION_KEY")
# The run engine: calls per model before moving on, the pause before a retry
# (doubling each time), the provider timeout, the circuit breaker, credits.
RB_LLM_ATTEMPTS = env_int("RB_LLM_ATTEMPTS", 4)
RB_LLM_RETRY_BACKOFF = float(env("RB_LLM_RETRY_BACKOFF", "0.5"))
RB_LLM_TIMEOUT = float(env("RB_LLM_TIMEOUT", "60"))
# How long a queued or running run may last, counted from its submission, before
# the sweeper fails it ("did not finish in time"). By default: every attempt on
# the primary and the fallback model timing out, plus ten minutes for the queue
# and the input processors.
RB_STUCK_RUN_SECONDS = env_int(
    "RB_STUCK_RUN_SECONDS", int(RB_LLM_TIMEOUT * RB_LLM_ATTEMPTS * 2) + 600
)
# Longer than any run may last (see CELERY_TASK_ACKS_LATE above), or Redis would
# give a run still in progress to a second worker.
RB_BROKER_VISIBILITY_SECONDS = env_int(
    "RB_BROKER_VISIBILITY_SECONDS", max(3600, 2 * RB_STUCK_RUN_SECONDS)
)
if RB_BROKER_VISIBILITY_SECONDS <= RB_STUCK_RUN_SECONDS:
    raise ImproperlyConfigured(
        f"RB_BROKER_VISIBILITY_SECONDS ({RB_BROKER_VISIBILITY_SECONDS}) must be "
        f"longer than RB_STUCK_RUN_SECONDS ({RB_STUCK_RUN_SECONDS}), the most a "
        "run may last."
    )
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": RB_BROKER_VISIBILITY_SECONDS}
RB_CIRCUIT_FAILURES = env_int("RB_CIRCUIT_FAILURES", 4)
RB_FALLBACK_COOLDOWN_SECONDS = env_int("RB_FALLBACK_COOLDOWN_SECONDS", 300)
RB_USD_PER_CREDIT = float(env("RB_USD_PER_CREDIT", "0.001"))
# The model the task-writing assistant asks: a catalogue model's id or name
# (spec name ASSISTANT_LLM_MODEL_ID). Unset: the offline demo model.
RB_ASSISTANT_MODEL = env("RB_ASSISTANT_MODEL", env("ASSISTANT_LLM_MODEL_ID"))
RB_ASSISTANT_TIMEOUT = float(env("RB_ASSISTANT_TIMEOUT", "45"))
# Files sent with runs: the largest one accepted, and the longest side images are
# shrunk to when a revision optimises them. Request bodies may carry a file
# base64-encoded (a third larger) plus the rest of the JSON.
RB_MAX_FILE_BYTES = env_int("RB_MAX_FILE_BYTES", 20_000_000)
RB_IMAGE_MAX_SIDE = env_int("RB_IMAGE_MAX_SIDE", 2048)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("RB_MAX_REQUEST_BYTES", 30_000_000)
# At most this many files with one run, adding up to at most this many bytes;
# and all runs through one share link store at most this much (its visitors'
# files and what their runs produce). Checked before anything is stored.
RB_MAX_FILES_PER_RUN = env_int("RB_MAX_FILES_PER_RUN", 10)
RB_MAX_RUN_UPLOAD_BYTES = env_int("RB_MAX_RUN_UPLOAD_BYTES", 30_000_000)
RB_SHARE_STORAGE_QUOTA_BYTES = env_int("RB_SHARE_STORAGE_QUOTA_BYTES", 200_000_000)
# Run files can be served from an origin of their own (say
# https://files.example-usercontent.com, on a domain apart from the app's):
# download links then point there, signed and valid for RB_FILES_URL_MAX_AGE
# seconds, and the app's own address no longer serves file bytes. Unset, files
# are downloaded from the app, always as attachments with a sandboxing CSP.
RB_FILES_ORIGIN = env("RB_FILES_ORIGIN", "").rstrip("/")
RB_FILES_URL_MAX_AGE = env_int("RB_FILES_URL_MAX_AGE", 900)
if RB_FILES_ORIGIN:
    ALLOWED_HOSTS += [urlsplit(RB_FILES_ORIGIN).hostname or ""]
    # The share page shows generated images from there.
    SECURE_CSP["img-src"].append(RB_FILES_ORIGIN)
# Share links: runs from one visitor address per minute, across all links
# (api.md §13.2); the cache counts them, so with Redis every process agrees.
RB_SHARE_RUNS_PER_MINUTE = env_int("RB_SHARE_RUNS_PER_MINUTE", 10)
# API rate limits per minute (0: no limit), counted in the cache: per credential
# (an API key, an OAuth client, a task's access token; an API key may have its
# own values) and per project across its credentials (a project may have its own).
RB_API_REQUESTS_PER_MINUTE = env_int("RB_API_REQUESTS_PER_MINUTE", 600)
RB_API_RUNS_PER_MINUTE = env_int("RB_API_RUNS_PER_MINUTE", 120)
RB_PROJECT_REQUESTS_PER_MINUTE = env_int("RB_PROJECT_REQUESTS_PER_MINUTE", 1200)
RB_PROJECT_RUNS_PER_MINUTE = env_int("RB_PROJECT_RUNS_PER_MINUTE", 300)
# Invitations to an organisation stay valid this many days.
RB_INVITATION_DAYS = env_int("RB_INVITATION_DAYS", 7)
# Task forwarders: seconds to wait for a destination's answer, and the base of
# the pause before each retry (×1, ×6, ×30: 10 s, 60 s, 300 s by default).
RB_FORWARDER_TIMEOUT = float(env("RB_FORWARDER_TIMEOUT", "10"))

# Threads for the database sections of async API views served by the API's
# own handler (rightbrain/api_handler.py), so concurrent runs do not queue
# behind one thread. Keep it below DB_POOL_MAX_SIZE. SQLite allows one writer
# at a time, so there the sections share Django's one thread (0).
RB_DB_THREADS = env_int(
    "RB_DB_THREADS",
    0 if DATABASES["default"]["ENGINE"].endswith("sqlite3") else 8,
)
RB_FORWARDER_RETRY_BACKOFF = float(env("RB_FORWARDER_RETRY_BACKOFF", "10"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # fpdf2 subsets fonts for every PDF run and fontTools logs each step.
        "fontTools": {"level": "WARNING"},
    },
}
