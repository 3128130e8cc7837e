"""labelhub settings: one module, configured through environment variables.

Development defaults (SQLite, local storage, the ORM broker) need nothing set;
with ``DJANGO_DEBUG`` off the production secrets are required and checked at
start-up. Every variable is documented in ``.env.example``.
"""

import os
import re
import secrets
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DJANGO_DEBUG", default=False)

# Keys anyone can read (the placeholder in .env.example, the development
# constant of earlier versions): whoever knows the key can forge read and
# upload links and sessions.
PUBLIC_SECRET_KEYS = frozenset(
    {
        "change-me-to-50-random-characters",
        "django-insecure-labelhub-development-only",
    }
)
# The development key (DJANGO_DEBUG=1 without DJANGO_SECRET_KEY): random, made
# for this installation on first start and read back afterwards.
SECRET_KEY_FILE = Path(env.str("DJANGO_SECRET_KEY_FILE", default="var/secret_key"))
if not SECRET_KEY_FILE.is_absolute():
    SECRET_KEY_FILE = BASE_DIR / SECRET_KEY_FILE


def _installation_secret_key(path: Path) -> str:
    """The key in ``path``; made there first (random, mode 0600) if the file does not exist.

    The new key is written to a private temporary file and linked into place,
    so processes starting together never read a half-written file and all end
    with the key of the first one.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret_key-")  # mode 0600
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(50) + "\n")
            try:
                os.link(temporary, path)  # fails if another process made the key meanwhile: theirs wins
            except FileExistsError:
                pass
        finally:
            os.unlink(temporary)
    key = path.read_text().strip()
    if len(key) < 50:
        raise ImproperlyConfigured(f"{path} holds no usable secret key: delete it and a new one is made.")
    return key


SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not DEBUG and not SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off (set DJANGO_DEBUG=1 for local development)."
    )
if not DEBUG and SECRET_KEY in PUBLIC_SECRET_KEYS:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is a published placeholder: anyone could sign links and sessions with it. "
        "Set a random key of 50 or more characters, e.g. "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'."
    )
if not SECRET_KEY or SECRET_KEY in PUBLIC_SECRET_KEYS:
    # Debug on: a published placeholder is no better than none.
    SECRET_KEY = _installation_secret_key(SECRET_KEY_FILE)

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    # Admin sign-in lockout (the "Throttling" block below).
    "axes",
    "core",
    "labelhub",
    "webhooks",
    "accounts",
    "imagesets",
    "campaigns",
]

MIDDLEWARE = [
    # First: the request id, the request log line and the request metrics cover every answer.
    "labelhub.middleware.RequestMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves the admin's and Swagger UI's static files with DEBUG off too.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out admin sign-in into its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "labelhub.urls"
WSGI_APPLICATION = "labelhub.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------

DATABASES = {"default": env.db_url("DATABASE_URL", default="sqlite:///var/db.sqlite3")}
# django-q2 forks its processes after closing their connections, but a psycopg
# pool keeps its connections open through that close: forked processes would
# share them. The job workers (a few connections each, closed by django-q2
# around every task) therefore connect without a pool.
_RUNNING_QCLUSTER = len(sys.argv) > 1 and sys.argv[1] == "qcluster"
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    if _db["NAME"] and _db["NAME"] != ":memory:" and not Path(_db["NAME"]).is_absolute():
        _db["NAME"] = str(BASE_DIR / _db["NAME"])
        Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # The web server and the django-q2 worker write at the same time: WAL lets
    # readers go on during a write, IMMEDIATE takes the write lock up front so
    # two writers queue on the timeout instead of failing with "locked".
    _db.setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
elif env.bool("DATABASE_POOL", default=True) and not _RUNNING_QCLUSTER:
    # psycopg's connection pool, one per process: the server connections
    # labelhub holds are bounded by configuration (web workers x max_size, plus
    # the job workers), not by traffic. A request that finds the pool busy
    # waits up to DATABASE_POOL_TIMEOUT seconds, then answers 503.
    _db["CONN_MAX_AGE"] = 0  # Django refuses persistent connections with a pool
    _db.setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=4),
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
        "max_idle": 300,
    }
else:
    _db.setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    _db["CONN_HEALTH_CHECKS"] = True
if env.str("DATABASE_TEST_NAME", default=""):
    _db["TEST"] = {"NAME": env.str("DATABASE_TEST_NAME")}
elif _db["ENGINE"] == "django.db.backends.sqlite3" and _db["NAME"] != ":memory:":
    # A file, not memory: tests that start a real worker process share it.
    _db["TEST"] = {"NAME": str(Path(_db["NAME"]).with_suffix("")) + "-test.sqlite3"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "var" / "static"))
# Without `collectstatic` WhiteNoise finds files in the apps directly; a
# deployment that collects them can turn this off.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)

# --- Security (TLS usually ends at a proxy in front of labelhub) ------------

# X-Forwarded-Proto decides whether a request came over HTTPS only behind a
# proxy that sets it (and drops the client's own): otherwise any client could
# claim HTTPS (secure cookies, no SSL redirect). DJANGO_SECURE_PROXY_SSL_HEADER=1 says so.
if env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = env.bool("DJANGO_USE_X_FORWARDED_HOST", default=False)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Signed upload/read URLs of local storage may carry a whole file in a PUT.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)

# --- Input limits of the API (docs/api.md "Input limits") ----------------------
# DATA_UPLOAD_MAX_MEMORY_SIZE above is also the largest JSON body (413 above it).
# JSON nested deeper than this is a 400 (a bare list or object is 1 level).
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=32)
# Images one PUT /campaigns/{id}/objects or POST .../images may list (413 above).
IMAGES_PER_REQUEST_MAX = env.int("IMAGES_PER_REQUEST_MAX", default=10000)
# Objects one image may get in one PUT /campaigns/{id}/objects (422 above, naming the image).
OBJECTS_PER_IMAGE_MAX = env.int("OBJECTS_PER_IMAGE_MAX", default=1000)
# Superseded revisions of an image's objects kept besides the current one; older ones
# are deleted when the image is labeled again.
SUBMISSION_REVISIONS_KEPT = env.int("SUBMISSION_REVISIONS_KEPT", default=20)
# Reason codes a reviewer may give a rejection, besides (or instead of) the free-text reason.
REVIEW_REASON_CODES = env.list(
    "REVIEW_REASON_CODES",
    default=["missing-object", "wrong-label", "loose-box", "false-positive", "duplicate", "other"],
)
# How long a reviewer may take back (undo, U on the review page) their latest decision on an image.
REVIEW_UNDO_SECONDS = env.int("REVIEW_UNDO_SECONDS", default=120)
# Labels one campaign's label schema may list (422 above).
LABEL_SCHEMA_MAX = env.int("LABEL_SCHEMA_MAX", default=1000)
# A predicted box and an agency box overlapping at least this much (intersection over union)
# count as the same box, kept/moved/relabeled, in the export's comparison of the two.
PREDICTIONS_IOU_THRESHOLD = env.float("PREDICTIONS_IOU_THRESHOLD", default=0.5)
# An agency box matches a gold image's reference box (a true positive) with the same label and
# at least this IoU (docs/quality.md).
GOLD_IOU_THRESHOLD = env.float("GOLD_IOU_THRESHOLD", default=0.5)
# Export formats written besides the labels CSV, AutoML, COCO and the images MLTable
# (each a zip in the export folder): any of yolo, voc.
EXPORT_EXTRA_FORMATS = env.list("EXPORT_EXTRA_FORMATS", default=["yolo", "voc"])

# Secrets of API keys are stored as HMAC-SHA256 keyed with this pepper.
API_KEY_PEPPER = env.str("API_KEY_PEPPER", default="") or SECRET_KEY
# ``last_used_at`` is written at most this often per key.
API_KEY_LAST_USED_INTERVAL = env.int("API_KEY_LAST_USED_INTERVAL", default=60)

# --- Storage ----------------------------------------------------------------

STORAGE_BACKEND = env.str("STORAGE_BACKEND", default="local")
if STORAGE_BACKEND not in ("local", "azure"):
    raise ImproperlyConfigured("STORAGE_BACKEND must be 'local' or 'azure'.")
MEDIA_ROOT = env.str("MEDIA_ROOT", default="var/media")
if not Path(MEDIA_ROOT).is_absolute():
    MEDIA_ROOT = str(BASE_DIR / MEDIA_ROOT)
MEDIA_URL = "media/"
AZURE_STORAGE_CONNECTION_STRING = env.str("AZURE_STORAGE_CONNECTION_STRING", default="")
# Keyless instead of a connection string: the blob endpoint (https://<account>.blob.core.windows.net),
# reached with an Entra ID token of the credential below; SAS URLs are user-delegation SAS.
AZURE_STORAGE_ACCOUNT_URL = env.str("AZURE_STORAGE_ACCOUNT_URL", default="")
# The azure-identity credential of a keyless configuration: default (DefaultAzureCredential),
# managed_identity or workload_identity.
AZURE_STORAGE_CREDENTIAL = env.str("AZURE_STORAGE_CREDENTIAL", default="default")
AZURE_STORAGE_IMAGESET_CONTAINER = env.str("AZURE_STORAGE_IMAGESET_CONTAINER", default="images")
AZURE_STORAGE_IMAGESET_FOLDER = env.str("AZURE_STORAGE_IMAGESET_FOLDER", default="uploads")
IMAGE_READ_TOKEN_VALID_DAYS = env.int("IMAGE_READ_TOKEN_VALID_DAYS", default=7)
IMAGESET_UPLOAD_TOKEN_VALID_DAYS = env.int("IMAGESET_UPLOAD_TOKEN_VALID_DAYS", default=7)
# Derived copies (imagesets.derived), made on first request and kept in storage: the longest side
# in pixels of a list's thumbnail and of the review page's display copy, and how many copies one
# process makes at once (other requests for copies wait their turn).
IMAGE_THUMBNAIL_SIZE = env.int("IMAGE_THUMBNAIL_SIZE", default=160)
IMAGE_DISPLAY_SIZE = env.int("IMAGE_DISPLAY_SIZE", default=2048)
IMAGE_DERIVED_WORKERS = env.int("IMAGE_DERIVED_WORKERS", default=2)
if min(IMAGE_THUMBNAIL_SIZE, IMAGE_DISPLAY_SIZE, IMAGE_DERIVED_WORKERS) < 1:
    raise ImproperlyConfigured("IMAGE_THUMBNAIL_SIZE, IMAGE_DISPLAY_SIZE and IMAGE_DERIVED_WORKERS must be positive.")
# Largest single file accepted by the local dropbox.
LOCAL_DROPBOX_MAX_FILE_SIZE = env.int("LOCAL_DROPBOX_MAX_FILE_SIZE", default=200 * 1024 * 1024)
# The finish job identifies a file from its first 64 KiB; a file that starts
# like an image but whose header is longer is read up to this many bytes, never more.
IMAGESET_PROBE_MAX_BYTES = env.int("IMAGESET_PROBE_MAX_BYTES", default=1024 * 1024)
# Threads copying files when an image set is finished.
IMAGESET_COPY_WORKERS = env.int("IMAGESET_COPY_WORKERS", default=16)
# Retries of a failed Azure request (exponential backoff from 1 s).
AZURE_STORAGE_RETRIES = env.int("AZURE_STORAGE_RETRIES", default=3)
# Files per listing request when an image set is finished (Azure allows up to 5000; the SDK
# holds a whole page of parsed entries, about 10 KB each, so larger pages cost memory).
IMAGESET_LIST_PAGE_SIZE = env.int("IMAGESET_LIST_PAGE_SIZE", default=1000)
if STORAGE_BACKEND == "azure":
    if not AZURE_STORAGE_CONNECTION_STRING and not AZURE_STORAGE_ACCOUNT_URL:
        raise ImproperlyConfigured(
            "STORAGE_BACKEND=azure needs AZURE_STORAGE_CONNECTION_STRING (with an account key) "
            "or AZURE_STORAGE_ACCOUNT_URL (keyless, through an Entra ID identity)."
        )
    if AZURE_STORAGE_CONNECTION_STRING and AZURE_STORAGE_ACCOUNT_URL:
        raise ImproperlyConfigured(
            "Set AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCOUNT_URL, not both: "
            "they are two ways to reach storage (with the account key, or keyless)."
        )
    if AZURE_STORAGE_CREDENTIAL not in ("default", "managed_identity", "workload_identity"):
        raise ImproperlyConfigured("AZURE_STORAGE_CREDENTIAL must be default, managed_identity or workload_identity.")
    if AZURE_STORAGE_ACCOUNT_URL and max(IMAGE_READ_TOKEN_VALID_DAYS, IMAGESET_UPLOAD_TOKEN_VALID_DAYS) > 7:
        raise ImproperlyConfigured(
            "Keyless storage signs user-delegation SAS, which Azure limits to 7 days: "
            "IMAGE_READ_TOKEN_VALID_DAYS and IMAGESET_UPLOAD_TOKEN_VALID_DAYS must be at most 7."
        )

# --- Azure ML export ---------------------------------------------------------

AZURE_ML_SUBSCRIPTION_ID = env.str("AZURE_ML_SUBSCRIPTION_ID", default="")
AZURE_ML_RESOURCE_GROUP = env.str("AZURE_ML_RESOURCE_GROUP", default="")
AZURE_ML_WORKSPACE_NAME = env.str("AZURE_ML_WORKSPACE_NAME", default="")
AZURE_ML_DATASTORE = env.str("AZURE_ML_DATASTORE", default="")

# --- Background jobs (django-q2) ---------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
Q_CLUSTER = {
    "name": env.str("DJANGO_Q_NAME", default="labelhub"),
    "workers": env.int("DJANGO_Q_WORKERS", default=2),
    "timeout": env.int("DJANGO_Q_TIMEOUT", default=3600),
    # retry must exceed timeout, or a long job is handed out a second time.
    "retry": env.int("DJANGO_Q_TIMEOUT", default=3600) + 300,
    "max_attempts": 1,
    "save_limit": 0,
    "catch_up": False,
    "label": "Background jobs",
    # Read once when django_q.conf is imported: tests choose it through the
    # environment (pytest.ini), not override_settings.
    "sync": env.bool("DJANGO_Q_SYNC", default=False),
    # How often an idle worker asks the ORM broker for work (Redis blocks instead).
    "poll": env.float("DJANGO_Q_POLL", default=0.2),
    # The guard loop: how soon a killed worker is replaced (and recovers its job).
    "guard_cycle": 0.5,
}
if REDIS_URL:
    # Bounded waits: a broker that does not answer (down, unreachable) must cost a
    # request that queues a job two seconds, not hang it; the job stays queued.
    _redis_timeouts = {"socket_connect_timeout": "2", "socket_timeout": "10", "health_check_interval": "30"}
    _redis_query = "&".join(f"{k}={v}" for k, v in _redis_timeouts.items() if f"{k}=" not in REDIS_URL)
    Q_CLUSTER["redis"] = REDIS_URL + (("&" if "?" in REDIS_URL else "?") + _redis_query if _redis_query else "")
else:
    Q_CLUSTER["orm"] = "default"

# The job lifecycle (core/jobs/). A running job writes a heartbeat every
# JOBS_HEARTBEAT_INTERVAL seconds; one silent for JOBS_STALE_AFTER seconds (or
# whose worker process is gone) is queued again by the sweep, which runs when
# a worker starts and every JOBS_SWEEP_INTERVAL seconds; after
# JOBS_MAX_ATTEMPTS attempts the job is failed and can be retried by staff.
JOBS_HEARTBEAT_INTERVAL = env.float("JOBS_HEARTBEAT_INTERVAL", default=10.0)
JOBS_STALE_AFTER = env.int("JOBS_STALE_AFTER", default=180)
JOBS_SWEEP_INTERVAL = env.float("JOBS_SWEEP_INTERVAL", default=60.0)
JOBS_MAX_ATTEMPTS = env.int("JOBS_MAX_ATTEMPTS", default=3)
if JOBS_HEARTBEAT_INTERVAL * 3 > JOBS_STALE_AFTER:
    raise ImproperlyConfigured("JOBS_STALE_AFTER must be at least three JOBS_HEARTBEAT_INTERVALs.")

# --- Throttling (docs/security.md): failed API keys and admin sign-ins -----------------

# How many proxies in front of labelhub append to X-Forwarded-For; the client is the
# address the outermost one saw (core/addresses.py). 0: REMOTE_ADDR, the header is
# ignored (a client could write anything in it).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)


def _failure_rate(name: str, default: str) -> tuple[int, int] | None:
    """``count/window`` from the environment as (count, seconds): ``20/5m`` is 20 in 5 minutes. Empty: no limit."""
    value = env.str(name, default=default).strip()
    if not value:
        return None
    match = re.fullmatch(r"([1-9][0-9]*)/([1-9][0-9]*)?([smhd])", value)
    if match is None:
        raise ImproperlyConfigured(f"{name} must be count/window, e.g. 20/5m (s, m, h or d), or empty for no limit.")
    return int(match[1]), int(match[2] or 1) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match[3]]


# Failed API-key authentications (unknown key, wrong secret, one header missing, expired or
# revoked key, disabled user) allowed per client address (an IPv6 client per /64) and per
# key id named, in a window that the first failure opens. Once either is used up, requests
# from that address or naming that key answer 429 with Retry-After, even with the right
# secret, until the window ends. Requests that authenticate never count.
API_AUTH_FAILURES_PER_ADDRESS = _failure_rate("API_AUTH_FAILURES_PER_ADDRESS", "30/5m")
API_AUTH_FAILURES_PER_KEY = _failure_rate("API_AUTH_FAILURES_PER_KEY", "10/5m")
# The counters live in the default cache, which every web worker must share. With Redis
# (REDIS_URL, already the job broker) it is Redis, with short timeouts: a cache that does
# not answer lets requests through unthrottled rather than failing them. Without it, files
# under CACHE_DIR, shared by the processes of one host and needing no other service
# (core/cache.py makes its counters atomic across processes). Not the database cache:
# its read would be a second query on every authenticated request
# (accounts/tests/test_authentication.py holds that to one). Several hosts need REDIS_URL.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "labelhub-cache",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.FileBasedCache",
            "LOCATION": str(env.path("CACHE_DIR", default=str(BASE_DIR / "var" / "cache"))),
            # Room for many addresses and keys at once; Django removes a third past it.
            "OPTIONS": {"MAX_ENTRIES": 10000},
        }
    }

# Admin sign-in lockout (django-axes): after ADMIN_LOGIN_FAILURE_LIMIT wrong passwords for
# one e-mail from one address, that e-mail cannot sign in from that address for
# ADMIN_LOGIN_COOLOFF_MINUTES (a page says so); a wrong try meanwhile starts the wait
# again. By e-mail and address together: an attacker cannot lock staff out from
# elsewhere. Attempts are rows in the database (the admin lists them under "Axes";
# deleting one, or `manage.py axes_reset`, unlocks early).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first, as django-axes asks
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("ADMIN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("ADMIN_LOGIN_COOLOFF_MINUTES", default=15))
if AXES_FAILURE_LIMIT < 1 or AXES_COOLOFF_TIME <= timedelta(0):
    # django-axes reads a zero cool-off as "locked until staff unlock it".
    raise ImproperlyConfigured("ADMIN_LOGIN_FAILURE_LIMIT and ADMIN_LOGIN_COOLOFF_MINUTES must be positive.")
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The admin form posts "username" (holding the e-mail), whatever USERNAME_FIELD is.
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.throttling.admin_login_username"
AXES_CLIENT_IP_CALLABLE = "core.addresses.client_address"
AXES_LOCKOUT_CALLABLE = "accounts.throttling.admin_lockout_response"

# --- REST API ----------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.IsImageAdmin"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON only, through labelhub's input layer: size, depth and Unicode checked (parsers.py).
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.ContractPagination",
    # No OPTIONS metadata (405): the OpenAPI document describes the API, and DRF's
    # metadata answered 500 on detail views without a queryset (found by the fuzz).
    "DEFAULT_METADATA_CLASS": None,
    "EXCEPTION_HANDLER": "core.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "labelhub.schema.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%S.%fZ",
}

# The OpenAPI document (/api/v1/schema), Swagger UI (/api/v1/ui) and ReDoc
# (/api/v1/redoc). The UIs' scripts come from drf-spectacular-sidecar's static
# files, never from a CDN. The description, the key scheme and the error
# responses are in labelhub/schema.py.
SPECTACULAR_SETTINGS = {
    "TITLE": "labelhub API",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The documents describe the API to anyone who asks; they hold no data.
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Paths as the contract writes them (/image_sets), under a relative server
    # URL: "Try it out" calls the server the page was loaded from.
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SCHEMA_PATH_PREFIX_TRIM": True,
    "SERVERS": [{"url": "/api/v1", "description": "This labelhub"}],
    "ENUM_NAME_OVERRIDES": {
        "ImageSetStatusEnum": "imagesets.models.ImageSet.Status",
        "CampaignStatusEnum": "campaigns.models.Campaign.Status",
        "JobStatusEnum": "core.jobs.JobStatus",
        "ReviewDecisionEnum": "campaigns.models.Review.Decision",
        "LotDecisionEnum": ["accept", "reject", "discard"],
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "labelhub.schema.postprocess_schema",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {
        # The key and secret entered in "Authorize" live in the page only: a
        # persisted authorization would sit in localStorage, readable by any
        # script on this origin and left behind on a shared browser.
        "persistAuthorization": False,
    },
}

# --- Operations ----------------------------------------------------------------

# /metrics answers only "Authorization: Bearer <METRICS_TOKEN>"; unset, it is off (404).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# The domain gauges of /metrics (images awaiting labeling, labeled images, boxes, ...) cost one
# aggregate query; its answer is kept this long in the default cache (shared by the web
# workers: Redis, or files on one host), so a scrape of every worker every 15 s queries the
# database about once per interval. 0 queries on every scrape.
METRICS_DOMAIN_CACHE_SECONDS = env.int("METRICS_DOMAIN_CACHE_SECONDS", default=15)
if METRICS_DOMAIN_CACHE_SECONDS < 0:
    raise ImproperlyConfigured("METRICS_DOMAIN_CACHE_SECONDS must be 0 or more.")

# LOG_FORMAT=json: every log line (the request lines of labelhub.middleware too)
# is one JSON object, for a log collector; "plain" is for people.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be 'plain' or 'json'.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "core.log.JsonFormatter"},
    },
    "filters": {
        "request_id": {"()": "core.log.RequestIdFilter"},
        "redact_token": {"()": "core.log.RedactTokenFilter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "redact_token"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "azure": {"level": "WARNING"},
        # The request line (labelhub.middleware) already tells every 4xx; Django's own
        # records are kept for 5xx, with their traceback.
        "django.request": {"level": "ERROR"},
    },
}

# --- Webhooks (webhooks/, docs/webhooks.md) --------------------------------

# http:// endpoints are refused unless this is on (default: only with DJANGO_DEBUG).
WEBHOOKS_ALLOW_HTTP = env.bool("WEBHOOKS_ALLOW_HTTP", default=DEBUG)
# Endpoints on loopback, private, link-local, multicast, reserved or unspecified
# addresses are refused (at creation and at every delivery) unless this is on.
WEBHOOKS_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", default=False)
# Seconds one delivery attempt may take, connection and answer included, and of them
# the seconds to establish the connection (a receiver that does not accept is cut early).
WEBHOOKS_TIMEOUT = env.float("WEBHOOKS_TIMEOUT", default=10.0)
WEBHOOKS_CONNECT_TIMEOUT = env.float("WEBHOOKS_CONNECT_TIMEOUT", default=3.0)
# An answer slower than this many seconds counts toward disabling the endpoint like a
# failure (the delivery itself succeeded and is not sent again).
WEBHOOKS_SLOW_AFTER = env.float("WEBHOOKS_SLOW_AFTER", default=5.0)
if not 0 < WEBHOOKS_CONNECT_TIMEOUT <= WEBHOOKS_TIMEOUT or not 0 < WEBHOOKS_SLOW_AFTER <= WEBHOOKS_TIMEOUT:
    raise ImproperlyConfigured("WEBHOOKS_CONNECT_TIMEOUT and WEBHOOKS_SLOW_AFTER must be within WEBHOOKS_TIMEOUT.")
# Deliveries run on a django-q2 cluster of their own (queue "<DJANGO_Q_NAME>-webhooks",
# WEBHOOKS_WORKERS processes; `manage.py serve` starts it), so a slow receiver never
# holds a worker the finish and export jobs need. One attempt at a time per endpoint.
WEBHOOKS_QUEUE = f"{Q_CLUSTER['name']}-webhooks"
WEBHOOKS_WORKERS = env.int("WEBHOOKS_WORKERS", default=2)
_webhook_task_timeout = int(WEBHOOKS_TIMEOUT) + 60  # the attempt, plus resolving and storing it
Q_CLUSTER["ALT_CLUSTERS"] = {
    WEBHOOKS_QUEUE: {
        "workers": WEBHOOKS_WORKERS,
        "timeout": _webhook_task_timeout,
        "retry": _webhook_task_timeout + 60,
        "label": "Webhook deliveries",
        # A delivery's own tables log every attempt; django-q2's task table would only repeat it.
        "save_limit": -1,
    }
}
# Seconds to wait before each retry of a failed delivery (each +-WEBHOOKS_RETRY_JITTER);
# the default spans about 27 hours: 10 s, 1 min, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
WEBHOOKS_RETRY_SCHEDULE = [
    float(seconds)
    for seconds in env.list(
        "WEBHOOKS_RETRY_SCHEDULE", default=["10", "60", "300", "1800", "7200", "18000", "36000", "36000"]
    )
]
WEBHOOKS_RETRY_JITTER = env.float("WEBHOOKS_RETRY_JITTER", default=0.2)
# An endpoint whose attempts failed this many times in a row is disabled (staff see why).
WEBHOOKS_DISABLE_AFTER_FAILURES = env.int("WEBHOOKS_DISABLE_AFTER_FAILURES", default=50)
# Every webhook worker process looks for due deliveries (retries, hand-overs the broker
# lost, deliveries that waited for their endpoint) this often; a delivery handed over
# but not attempted for WEBHOOKS_REQUEUE_AFTER seconds is handed over again.
WEBHOOKS_SWEEP_INTERVAL = env.float("WEBHOOKS_SWEEP_INTERVAL", default=5.0)
WEBHOOKS_REQUEUE_AFTER = env.float("WEBHOOKS_REQUEUE_AFTER", default=300.0)
# Events (with their deliveries and attempts) older than this many days are deleted by
# the sweep once none of their deliveries is pending.
WEBHOOKS_RETENTION_DAYS = env.int("WEBHOOKS_RETENTION_DAYS", default=30)

# --- Webhook endpoint caps (docs/security.md) ---------------------------------------
# Each delivery costs worker time, so one agency (an owner) may have at most this many
# endpoints, disabled ones included; a further create (or an admin handing it one) is a 409.
WEBHOOKS_MAX_PER_OWNER = env.int("WEBHOOKS_MAX_PER_OWNER", default=5)
# Staff endpoints (no owner) are counted together, under their own cap.
WEBHOOKS_MAX_STAFF = env.int("WEBHOOKS_MAX_STAFF", default=20)

# --- Input limits (docs/security.md: webhook ports, label imports) ------------------
# Webhook endpoints may use ports 80 and 443 and these (e.g. 8443); checked when an
# endpoint is saved and again at every attempt.
WEBHOOKS_ALLOWED_PORTS = env.list("WEBHOOKS_ALLOWED_PORTS", default=[])
if not all(port.isascii() and port.isdigit() and 0 < int(port) < 65536 for port in WEBHOOKS_ALLOWED_PORTS):
    raise ImproperlyConfigured("WEBHOOKS_ALLOWED_PORTS must list port numbers from 1 to 65535, comma-separated")
WEBHOOKS_ALLOWED_PORTS = [int(port) for port in WEBHOOKS_ALLOWED_PORTS]
# A label file (COCO or labels CSV) imported in the admin or with manage.py import_labels
# may be at most this many bytes; a larger one is refused before it is read.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=256 * 1024 * 1024)

# --- Error reports (Sentry; core/error_reports.py, docs/configuration.md) -----------
# Last, so every secret above is defined. Unset SENTRY_DSN: nothing reported, sentry-sdk not
# even imported. The release is the deployment's git commit (LABELHUB_REVISION) or version;
# the environment in Kubernetes is the namespace; the server name defaults to the host name.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from urllib.parse import urlsplit

    from core.error_reports import error_reports_init

    error_reports_init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="") or "production",
        release=env.str("LABELHUB_REVISION", default="") or env.str("LABELHUB_VERSION", default="") or None,
        server_name=env.str("SENTRY_SERVER_NAME", default="") or None,
        # Values scrubbed wherever they appear in a report, besides what scrubbing by name and pattern catches.
        secrets=[
            SECRET_KEY,
            API_KEY_PEPPER,
            METRICS_TOKEN,
            AZURE_STORAGE_CONNECTION_STRING,
            DATABASES["default"].get("PASSWORD"),
            urlsplit(REDIS_URL).password,
            env.str("AZURE_CLIENT_SECRET", default=""),
        ],
    )
