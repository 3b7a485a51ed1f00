"""Settings for the Coalition Contributions Portal, read from the environment (12-factor).

With nothing set the portal runs on a bare machine: SQLite, DEBUG on, Celery tasks in-process and
email on the console. Production sets DATABASE_URL, REDIS_URL, SECRET_KEY, ALLOWED_HOSTS, SITE_URL
and EMAIL_URL; with DEBUG off and no SECRET_KEY the process refuses to start.
"""

import re
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_int, env_list, env_networks, env_str, parse_email_url
from reports.schedules import ZonedCrontab

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=True)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off the portal needs a secret: set SECRET_KEY to a long "
            "random string (python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "csp",
    "django_prometheus",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "coalition",
    "meetings",
    "contributions",
    "reports",
    "feed",
    "demo",
]

MIDDLEWARE = [
    # django-prometheus times every request between its two middlewares: first and last.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "config.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A repeated conditional GET of an API list, answered from the cache before sessions and auth.
    "coalition.api.conditional.RevalidationMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "config.middleware.RefuseNulCharactersMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.signin.SessionLifetimeMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "config.middleware.LoginRequiredMiddleware",
    "config.signin.SecondFactorRequiredMiddleware",
    "config.db_router.ReplicaReadMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "coalition.context_processors.navigation",
            ],
        },
    },
]

# DATABASE_POOLER=transaction says a pooler in transaction mode (PgBouncer's pool_mode=transaction)
# stands between the portal and PostgreSQL: each transaction may run on another server connection, so
# nothing may outlive one. Server-side cursors (Django's WITH HOLD cursors for .iterator()) and
# prepared statements (psycopg's, after 5 runs of a query) would, so both are off. The portal keeps no
# other session state: its locks are row locks and transaction-scoped (tests/scale/test_pgbouncer.py).
DATABASE_POOLER = env_str("DATABASE_POOLER").strip().lower()
if DATABASE_POOLER not in {"", "session", "transaction"}:
    raise ImproperlyConfigured(
        f"DATABASE_POOLER is {DATABASE_POOLER!r}: leave it unset, or say 'transaction' (or 'session') for the "
        "pool mode of the pooler in front of PostgreSQL."
    )


def _database(url):
    database = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    database["ATOMIC_REQUESTS"] = False
    if DATABASE_POOLER == "transaction" and database["ENGINE"] == "django.db.backends.postgresql":
        database["DISABLE_SERVER_SIDE_CURSORS"] = True
        database.setdefault("OPTIONS", {})["prepare_threshold"] = None
    return database


DATABASES = {"default": _database(env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))}
# A read replica (a streaming standby of the primary), optional: API lists, the summary, exports and
# dashboards read from it, unless the client wrote within DATABASE_REPLICA_PIN_SECONDS; writes, tasks,
# commands and migrations use the primary only (config.db_router). Tests read the primary's database.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {**_database(DATABASE_REPLICA_URL), "TEST": {"MIRROR": "default"}}
DATABASE_ROUTERS = ["config.db_router.PrimaryReplicaRouter"]
DATABASE_REPLICA_PIN_SECONDS = env_int("DATABASE_REPLICA_PIN_SECONDS", 15, minimum=1)
#: The views (by URL name) whose safe requests read from the replica.
DATABASE_REPLICA_VIEWS = [
    r"^api:[\w-]+-list$",
    r"^api:summary$",
    r"^reports:dashboard(_export)?$",
    r"^(pledges|priorities):export$",
]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("uk", _("Ukrainian"))]
# One date format per language, everywhere: 31 May 2024, 31 травня 2024 (config/formats/).
FORMAT_MODULE_PATH = ["config.formats"]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Kyiv")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
#: Seconds a cached dashboard figure or summary is kept; a write changes its key long before.
FIGURES_CACHE_TIMEOUT = env_int("FIGURES_CACHE_TIMEOUT", 24 * 3600, minimum=1)
# Seconds an API list's ETag is kept for answering a repeated conditional GET from the cache
# (coalition.api.conditional.RevalidationMiddleware); 0 turns it off. On by default only with Redis:
# a local-memory cache is each process's own, and one process would not learn of another's writes.
API_REVALIDATION_TIMEOUT = env_int("API_REVALIDATION_TIMEOUT", 3600 if REDIS_URL else 0)
#: Where uploaded and generated files go (pledge exports made by a task): shared by web and workers.
MEDIA_ROOT = env_str("MEDIA_ROOT") or str(BASE_DIR / "media")
#: A pledge export of more rows than this is written by a Celery task and offered on /pledges/exports/.
EXPORTS_MAX_SYNC_ROWS = env_int("EXPORTS_MAX_SYNC_ROWS", 50_000)

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Security: cookies and headers per Django's deployment checklist. Served over https (SITE_URL) with
# DEBUG off: secure cookies, HSTS and the redirect to https, each adjustable from the environment.
HTTPS = not DEBUG and SITE_URL.startswith("https://")
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=HTTPS)
# Load balancers probe /health/ over plain http inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
# Only a proxy that sets X-Forwarded-Proto (and appends the client to X-Forwarded-For) may be believed:
# BEHIND_PROXY=1 says one does. Without it, a client could claim https, or any address, itself.
BEHIND_PROXY = env_bool("BEHIND_PROXY", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None

# Email: EMAIL_URL such as smtp://127.0.0.1:1025, console: by default.
_email = parse_email_url(env_str("EMAIL_URL", "console:"))
EMAIL_BACKEND = _email.pop("EMAIL_BACKEND")
globals().update(_email)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Coalition Portal <portal@coalition.invalid>")

# Celery: Redis broker when REDIS_URL is set; otherwise tasks run in-process (make run). The in-process
# broker names a host: kombu warns "No hostname was supplied" for a bare memory:// each time it is read.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
# A worker killed mid-task must not lose or duplicate the message: acknowledge after the task,
# give it back when the worker dies, take one at a time, and make the visibility timeout longer than
# the longest retry chain (the delivery ledger makes the redelivered run a no-op if it did send).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A dead worker's unacknowledged messages return after the visibility timeout, found by a sweep that runs
# every restore interval x throttle seconds (kombu's defaults: 10 x 10); tests shorten all three.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3 * 3600, minimum=1),
    "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_INTERVAL", 10, minimum=1),
    "unacked_restore_throttle": env_int("CELERY_UNACKED_RESTORE_THROTTLE", 10),
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# Weekly digest: default Monday 08:00 Europe/Kyiv.
REPORTS_DIGEST_DAY_OF_WEEK = env_str("REPORTS_DIGEST_DAY_OF_WEEK", "mon")
REPORTS_DIGEST_HOUR = env_int("REPORTS_DIGEST_HOUR", 8, maximum=23)
REPORTS_DIGEST_MINUTE = env_int("REPORTS_DIGEST_MINUTE", 0, maximum=59)
REPORTS_DIGEST_TIME_ZONE = env_str("REPORTS_DIGEST_TIME_ZONE", "Europe/Kyiv")
# Report emails that fail on SMTP are retried REPORTS_MAX_RETRIES times, waiting a random time up to
# REPORTS_RETRY_BACKOFF x 2^retry seconds (at most REPORTS_RETRY_BACKOFF_MAX); the visibility timeout
# must outlast the longest wait, or Redis would hand a waiting retry to a second worker as well.
REPORTS_MAX_RETRIES = env_int("REPORTS_MAX_RETRIES", 5)
REPORTS_RETRY_BACKOFF = env_int("REPORTS_RETRY_BACKOFF", 60, minimum=1)
REPORTS_RETRY_BACKOFF_MAX = env_int("REPORTS_RETRY_BACKOFF_MAX", 1800, minimum=1)
if CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] <= REPORTS_RETRY_BACKOFF_MAX:
    raise ImproperlyConfigured(
        f"CELERY_VISIBILITY_TIMEOUT ({CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout']} s) must be longer "
        f"than REPORTS_RETRY_BACKOFF_MAX ({REPORTS_RETRY_BACKOFF_MAX} s), or a waiting retry could run twice."
    )
# Who sends a delivery is a lease on its ledger row, not a database session (a pooler in transaction
# mode keeps none): REPORTS_SEND_LEASE seconds, longer than the slowest single send (each SMTP step
# times out after EMAIL_URL's timeout).
REPORTS_SEND_LEASE = env_int("REPORTS_SEND_LEASE", 120, minimum=1)
# The broker can drop a task (a worker killed between taking a message and recording it, Redis
# restarted without its data, a publish refused while it was down): every REPORTS_REQUEUE_EVERY
# seconds, deliveries pending REPORTS_REQUEUE_GRACE seconds past their due attempt, or whose sender's
# lease ran out that long ago, get a new task. The ledger makes a duplicate task harmless.
REPORTS_REQUEUE_EVERY = env_int("REPORTS_REQUEUE_EVERY", 30, minimum=1)
REPORTS_REQUEUE_GRACE = env_int("REPORTS_REQUEUE_GRACE", 60, minimum=1)
# A database error inside a delivery (a restart, a failover) is tried again, up to this many times.
REPORTS_DB_RETRIES = env_int("REPORTS_DB_RETRIES", 100, minimum=1)
# The digest lists at most this many lines per section, with a link to the rest on the portal.
REPORTS_DIGEST_MAX_LINES = env_int("REPORTS_DIGEST_MAX_LINES", 25, minimum=1)

# The outbox (coalition.outbox): tasks asked for by a write are rows of its transaction, handed to the
# broker after the commit and, by beat every OUTBOX_SWEEP_EVERY seconds, again while they have not
# run: OUTBOX_RESEND_AFTER seconds after a hand-over the broker may have lost.
OUTBOX_SWEEP_EVERY = env_int("OUTBOX_SWEEP_EVERY", 15, minimum=1)
OUTBOX_RESEND_AFTER = env_int("OUTBOX_RESEND_AFTER", 900, minimum=1)
OUTBOX_SWEEP_BATCH = env_int("OUTBOX_SWEEP_BATCH", 500, minimum=1)

# Webhooks (feed.outbound): deliveries go only to public addresses unless WEBHOOKS_ALLOWED_NETWORKS
# (comma-separated CIDRs, e.g. 127.0.0.0/8 for tests) lists the address; no redirect is followed and
# every request times out after WEBHOOKS_TIMEOUT seconds. A failing delivery is retried
# WEBHOOKS_MAX_RETRIES times, waiting a random time up to WEBHOOKS_RETRY_BACKOFF x 2^retry seconds (at
# most WEBHOOKS_RETRY_BACKOFF_MAX); an endpoint whose last WEBHOOKS_DISABLE_AFTER deliveries all failed
# is disabled and its owner told. A rotated secret keeps signing for WEBHOOKS_SECRET_OVERLAP seconds.
WEBHOOKS_ALLOWED_NETWORKS = env_networks("WEBHOOKS_ALLOWED_NETWORKS")
WEBHOOKS_TIMEOUT = env_int("WEBHOOKS_TIMEOUT", 10, minimum=1, maximum=60)
WEBHOOKS_MAX_RETRIES = env_int("WEBHOOKS_MAX_RETRIES", 5)
WEBHOOKS_RETRY_BACKOFF = env_int("WEBHOOKS_RETRY_BACKOFF", 30, minimum=0)
WEBHOOKS_RETRY_BACKOFF_MAX = env_int("WEBHOOKS_RETRY_BACKOFF_MAX", 3600, minimum=0)
WEBHOOKS_DISABLE_AFTER = env_int("WEBHOOKS_DISABLE_AFTER", 5, minimum=1)
WEBHOOKS_SECRET_OVERLAP = env_int("WEBHOOKS_SECRET_OVERLAP", 24 * 3600, minimum=0)
if CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] <= WEBHOOKS_RETRY_BACKOFF_MAX:
    raise ImproperlyConfigured(
        f"CELERY_VISIBILITY_TIMEOUT ({CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout']} s) must be longer "
        f"than WEBHOOKS_RETRY_BACKOFF_MAX ({WEBHOOKS_RETRY_BACKOFF_MAX} s), or a waiting retry could run twice."
    )

# One queue per kind of work, so a large import never delays an email: run workers with
# --queues=celery,reports,imports,webhooks (make worker does), or one Deployment per queue (deploy/).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    # The ledger's sweep must not wait behind the batch it rescues (an exact name beats the pattern).
    "reports.tasks.requeue_stalled_deliveries": {"queue": CELERY_TASK_DEFAULT_QUEUE},
    "reports.tasks.*": {"queue": "reports"},
    "contributions.pledge_import": {"queue": "imports"},
    "webhooks.*": {"queue": "webhooks"},
}
# Beat leads only while it holds a lock in Redis (config.beat): a second beat waits instead of
# queueing the digest twice. It wakes at least every CELERY_BEAT_MAX_INTERVAL seconds, well inside
# the lock's lifetime.
CELERY_BEAT_SCHEDULER = "config.beat.LeaderScheduler"
CELERY_BEAT_MAX_INTERVAL = 15
BEAT_LOCK_TIMEOUT = env_int("BEAT_LOCK_TIMEOUT", 60, minimum=CELERY_BEAT_MAX_INTERVAL * 2)
CELERY_BEAT_SCHEDULE = {
    "reports-weekly-digest": {
        "task": "reports.tasks.send_digests",
        "schedule": ZonedCrontab(
            day_of_week=REPORTS_DIGEST_DAY_OF_WEEK,
            hour=REPORTS_DIGEST_HOUR,
            minute=REPORTS_DIGEST_MINUTE,
            zone=REPORTS_DIGEST_TIME_ZONE,
        ),
    },
    # A sweep that waited in its queue past the next one's time is dropped (expires): behind a batch of
    # 500 emails they piled up and then ran back to back, each queueing the same rows again.
    "reports-requeue-stalled": {
        "task": "reports.tasks.requeue_stalled_deliveries",
        "schedule": REPORTS_REQUEUE_EVERY,
        "options": {"expires": REPORTS_REQUEUE_EVERY},
    },
    "webhooks-fanout": {
        "task": "webhooks.fanout",
        "schedule": env_int("WEBHOOKS_FANOUT_EVERY", 60, minimum=1),
    },
    "outbox-sweep": {
        "task": "coalition.tasks.outbox_sweep",
        "schedule": OUTBOX_SWEEP_EVERY,
        "options": {"expires": OUTBOX_SWEEP_EVERY},
    },
    "imports-interrupted": {
        "task": "contributions.tasks.interrupted_imports",
        "schedule": 60,
    },
    "coalition-security-log-purge": {
        "task": "coalition.tasks.security_log_purge",
        "schedule": 24 * 3600,
    },
}

# django-filter's empty choice reads "---------"; the filter forms say what it means.
FILTERS_EMPTY_CHOICE_LABEL = _("Any")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "coalition.api.authentication.APIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Ordering is the FilterSets' own ``ordering`` parameter (shared with the HTML lists).
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": [
        "coalition.api.renderers.JSONRenderer",
        "coalition.api.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "coalition.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "coalition.api.throttling.KeyRateThrottle",
        "coalition.api.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "key": env_str("API_THROTTLE_KEY", "2000/hour"),
        "anon": env_str("API_THROTTLE_ANON", "60/hour"),
    },
    "EXCEPTION_HANDLER": "coalition.api.exceptions.exception_handler",
    # The anonymous allowance is per address: X-Forwarded-For only from the proxy BEHIND_PROXY names.
    "NUM_PROXIES": 1 if BEHIND_PROXY else 0,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "COERCE_DECIMAL_TO_STRING": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Coalition Contributions Portal API",
    "DESCRIPTION": "Pledges, disbursements, priority purchases and meetings of donor coalitions.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    # The docs page's script comes from its own address (SpectacularSwaggerSplitView): no inline script.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "coalition.api.schema.agree_with_server",
    ],
    # Several models have a "status", "kind" or "role": each choice set gets its own readable name.
    "ENUM_NAME_OVERRIDES": {
        "PledgeStatusEnum": "contributions.models.Pledge.Status",
        "PledgeKindEnum": "contributions.models.Pledge.Kind",
        "PriorityStatusEnum": "contributions.models.PriorityPurchase.Status",
        "MeetingStatusEnum": "meetings.models.Meeting.Status",
        "MeetingKindEnum": "meetings.models.Meeting.Kind",
        "AttendanceStatusEnum": "meetings.models.Attendance.Status",
        "AttendanceRoleEnum": "meetings.models.Attendance.Role",
        "ActionItemStatusEnum": "meetings.models.ActionItem.Status",
        "DecisionKindEnum": "meetings.models.Decision.Kind",
        "MemberKindEnum": "coalition.models.Member.Kind",
        "MembershipRoleEnum": "coalition.models.Membership.Role",
    },
}

# Prometheus metrics at /metrics (config.metrics): off unless a token or networks are set; with both,
# a scrape needs the token and an address in the networks.
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_ALLOWED_NETWORKS = env_networks("METRICS_ALLOWED_NETWORKS")
PROMETHEUS_EXPORT_MIGRATIONS = False

# Logs: LOG_FORMAT=text (default: the message alone, as make run shows it) or json (one JSON object
# a line by python-json-logger: time, level, logger, request_id, message and any extra fields), for a
# log collector. Every record carries the request id (coalition.requestid); LOG_REQUESTS (default: on
# with json) adds one line per web request. The Celery worker and beat use the same configuration.
LOG_FORMAT = env_str("LOG_FORMAT", "text").strip().lower()
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}.")
LOG_REQUESTS = env_bool("LOG_REQUESTS", default=LOG_FORMAT == "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "coalition.requestid.Filter"}},
    "formatters": {
        "text": {"format": "%(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": LOG_FORMAT},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# --- Sign-in: second factor, failed-attempt limits, session lifetime, security log, CSP ----------------
# django-allauth signs people in (its account app, with its failed-attempt limits) and gives the
# second factor (its mfa app: TOTP with recovery codes, WebAuthn passkeys). config/signin.py holds the
# portal's side: who must enrol, the session lifetime, the adapter.
ACCOUNT_ADAPTER = "config.signin.AccountAdapter"
MFA_ADAPTER = "allauth.mfa.adapter.DefaultMFAAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PASSWORD_MIN_LENGTH = None  # the AUTH_PASSWORD_VALIDATORS decide
#: A person whose seat is secretariat anywhere, and staff, must enrol a second factor before using
#: the portal (on by default in production, off in make run so the demo logins work as printed).
MFA_REQUIRED_FOR_PRIVILEGED = env_bool("MFA_REQUIRED_FOR_PRIVILEGED", default=not DEBUG)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = env_str("MFA_TOTP_ISSUER", "Coalition Portal")
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
MFA_RECOVERY_CODE_COUNT = 10
#: Failed sign-ins: SIGNIN_FAILURES_PER_ACCOUNT attempts per account and SIGNIN_FAILURES_PER_ADDRESS
#: per client address within SIGNIN_LOCKOUT_MINUTES; the next one is refused until the window passes
#: or the secretariat unlocks the account (manage.py unlock_signin, or the admin's user action).
SIGNIN_FAILURES_PER_ACCOUNT = env_int("SIGNIN_FAILURES_PER_ACCOUNT", 5, minimum=1)
SIGNIN_FAILURES_PER_ADDRESS = env_int("SIGNIN_FAILURES_PER_ADDRESS", 30, minimum=1)
SIGNIN_LOCKOUT_MINUTES = env_int("SIGNIN_LOCKOUT_MINUTES", 15, minimum=1)
ACCOUNT_RATE_LIMITS = {
    "login_failed": (
        f"{SIGNIN_FAILURES_PER_ADDRESS}/{SIGNIN_LOCKOUT_MINUTES * 60}s/ip,"
        f"{SIGNIN_FAILURES_PER_ACCOUNT}/{SIGNIN_LOCKOUT_MINUTES * 60}s/key"
    ),
}
ALLAUTH_TRUSTED_PROXY_COUNT = 1 if BEHIND_PROXY else 0
#: A session ends after SESSION_IDLE_MINUTES without a request, and SESSION_MAX_HOURS after sign-in.
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30, minimum=1)
SESSION_MAX_HOURS = env_int("SESSION_MAX_HOURS", 12, minimum=1)
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600
#: Security events (sign-ins, lockouts, second-factor, key and seat changes) are kept this many days.
SECURITY_LOG_RETENTION_DAYS = env_int("SECURITY_LOG_RETENTION_DAYS", 365, minimum=1)

# Content-Security-Policy (django-csp): nothing inline, no other origin. Templates that need an
# inline block give it the request's nonce (the Swagger UI page's style).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- IATI export (reports/iati.py) -------------------------------------------------------------------
#: The identifier the coalition's secretariat publishes under in IATI (e.g. XM-DAC-..., GB-COH-...);
#: unset, the export names a placeholder built from the coalition's slug. (The same pattern as
#: coalition.models.IATI_ORG_IDENTIFIER: settings are read before any app is imported.)
IATI_REPORTING_ORG_REF = env_str("IATI_REPORTING_ORG_REF", "").strip()
if IATI_REPORTING_ORG_REF and not re.fullmatch(r"[A-Z]{2}-[A-Z0-9]{2,}-[^\s/&|?]+", IATI_REPORTING_ORG_REF):
    raise ImproperlyConfigured(
        "IATI_REPORTING_ORG_REF must be an IATI organisation identifier such as XM-DAC-41114 or GB-COH-123456."
    )
