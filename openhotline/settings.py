"""OpenHotline settings: the only settings module, read from environment variables.

Every variable is listed in README.md ("Configuration"). Bad values fail loudly at start-up
(`openhotline.env.ConfigError`); missing secrets and risky combinations are reported by
system checks (`openhotline.checks`).

One file on purpose, over the ~500 lines other modules keep to: Django reads one settings module.
"""

from datetime import timedelta
from pathlib import Path

from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from openhotline.env import (
    ConfigError,
    database_from_url,
    env_bool,
    env_choice,
    env_host_ports,
    env_int,
    env_list,
    env_networks,
    env_secret,
    env_str,
)

PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(env_str("OPENHOTLINE_VAR_DIR", str(PACKAGE_DIR.parent / "var"))).resolve()

DEBUG = env_bool("OPENHOTLINE_DEBUG", False)

# Missing secrets are reported by check openhotline.E001/E002 rather than crashing here,
# so that `openhotline generate-secrets` and `--help` work on a fresh machine.
SECRET_KEY = env_secret("OPENHOTLINE_SECRET_KEY") or "unset-" + "x" * 50
SECRET_KEY_IS_SET = env_secret("OPENHOTLINE_SECRET_KEY") is not None
MASTER_KEY = env_secret("OPENHOTLINE_MASTER_KEY")
# After a rotation, the key that wrapped older evidence keys until `rotate-master-key` ends.
PREVIOUS_MASTER_KEY = env_secret("OPENHOTLINE_PREVIOUS_MASTER_KEY")
# Names evidence blobs (HMAC): stable across master-key rotations, never revealed.
STORAGE_KEY = env_secret("OPENHOTLINE_STORAGE_KEY")
# Signs feed manifests and intelligence packages (Ed25519: base64 of 32 raw bytes, or PEM);
# its own secret, so a master-key rotation leaves the keys members pinned alone. Unset: the
# keys derived from the master key (check W020). Rollover: the NEXT key is published
# alongside before it signs; the PREVIOUS one stays published for older downloads.
SIGNING_KEY = env_secret("OPENHOTLINE_SIGNING_KEY")
SIGNING_KEY_NEXT = env_secret("OPENHOTLINE_SIGNING_KEY_NEXT")
SIGNING_KEY_PREVIOUS = env_secret("OPENHOTLINE_SIGNING_KEY_PREVIOUS")

SITE_URL = env_str("OPENHOTLINE_SITE_URL", "http://localhost:8000").rstrip("/")
ALLOWED_HOSTS = env_list("OPENHOTLINE_ALLOWED_HOSTS", ["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env_list("OPENHOTLINE_CSRF_TRUSTED_ORIGINS", [SITE_URL])
HOME_COUNTRY = env_str("OPENHOTLINE_HOME_COUNTRY", "GB").upper()
HOTLINE_NAME = env_str("OPENHOTLINE_HOTLINE_NAME", "OpenHotline")

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
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "django_htmx",
    "django_tasks_db",
    "openhotline.accounts",
    "openhotline.audit",
    "openhotline.cases",
    "openhotline.intake",
    "openhotline.evidence",
    "openhotline.signals",
    "openhotline.assessment",
    "openhotline.tracing",
    "openhotline.takedown",
    "openhotline.feeds",
    "openhotline.simnet",
    "openhotline.core",
    "openhotline.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Before anything reads a body (the CSRF check does): limits, no stray files.
    "openhotline.core.body_limits.BodyLimitMiddleware",
    # Last, as django-axes requires.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "openhotline.urls"
WSGI_APPLICATION = "openhotline.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "openhotline.core.context_processors.hotline",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {
        "default": database_from_url(
            DATABASE_URL, conn_max_age=env_int("OPENHOTLINE_DB_CONN_MAX_AGE", 60, minimum=0)
        )
    }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "openhotline.sqlite3",
            "OPTIONS": {
                # IMMEDIATE: a writing transaction takes the write lock at BEGIN, so two
                # writers queue on the busy timeout instead of failing on lock upgrade.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                # FULL: a report acknowledged with 201 survives a power cut, not just a crash.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (throttling counters) --------------------------------------------------------
REDIS_URL = env_str("OPENHOTLINE_REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Background work ------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

# --- Accounts and sign-in -------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
# An expired form says so in the visitor's language, and how to send it again.
CSRF_FAILURE_VIEW = "openhotline.intake.error_pages.csrf_failure"
LOGIN_REDIRECT_URL = "cases:inbox"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("OPENHOTLINE_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("OPENHOTLINE_LOGIN_LOCKOUT_MINUTES", 60, minimum=1))
# Lock an account name after repeated failures from anywhere, and an address after repeated
# failures on any names. The address comes from our proxy-aware helper and stays in axes'
# own tables (staff sign-in attempts only; reporters never sign in).
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "openhotline.core.client_address.client_address"
AXES_VERBOSE = False
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# Attempts keep a real user's name, or a keyed digest of whatever else was typed.
AXES_USERNAME_CALLABLE = "openhotline.accounts.typed_names.axes_username"
OTP_TOTP_ISSUER = HOTLINE_NAME

SESSION_COOKIE_AGE = env_int("OPENHOTLINE_SESSION_HOURS", 10, minimum=1) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "__Host-ohl_session" if not DEBUG else "ohl_session"
CSRF_COOKIE_NAME = "__Host-ohl_csrf" if not DEBUG else "ohl_csrf"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG

# --- HTTP security --------------------------------------------------------------------
SECURE_SSL_REDIRECT = env_bool("OPENHOTLINE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("OPENHOTLINE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("OPENHOTLINE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("OPENHOTLINE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
# Status links carry a secret and case pages show reported URLs: never send either to
# another site. ("no-referrer" would make browsers send `Origin: null`, failing CSRF.)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("OPENHOTLINE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Proxies whose X-Forwarded-For we believe; nobody's by default.
TRUSTED_PROXIES = env_networks("OPENHOTLINE_TRUSTED_PROXIES")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# --- Internationalisation -------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env_str("OPENHOTLINE_TIME_ZONE", "UTC")
USE_TZ = True

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
EVIDENCE_S3_BUCKET = env_str("OPENHOTLINE_EVIDENCE_S3_BUCKET", "")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Sealed blobs only: everything written here is AES-256-GCM ciphertext.
    "evidence": (
        {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": EVIDENCE_S3_BUCKET,
                "endpoint_url": env_str("OPENHOTLINE_EVIDENCE_S3_ENDPOINT", "") or None,
                "region_name": env_str("OPENHOTLINE_EVIDENCE_S3_REGION", "") or None,
                "access_key": env_secret("OPENHOTLINE_EVIDENCE_S3_ACCESS_KEY"),
                "secret_key": env_secret("OPENHOTLINE_EVIDENCE_S3_SECRET_KEY"),
                "default_acl": "private",
                "file_overwrite": False,
            },
        }
        if EVIDENCE_S3_BUCKET
        else {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {
                "location": str(VAR_DIR / "evidence"),
                "directory_permissions_mode": 0o700,
                "file_permissions_mode": 0o600,
            },
        }
    ),
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- API ------------------------------------------------------------------------------
REPORT_RATE = env_str("OPENHOTLINE_REPORT_RATE", "60/hour")
# Requests per signed-in user to the staff API (api.plumbing.StaffThrottle; 429 beyond it).
STAFF_API_RATE = env_str("OPENHOTLINE_STAFF_API_RATE", "10000/hour")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "openhotline.accounts.api_auth.ApiTokenAuthentication",
        "openhotline.accounts.api_auth.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["openhotline.accounts.api_auth.IsHotlineStaff"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "DEFAULT_THROTTLE_CLASSES": ["openhotline.api.plumbing.StaffThrottle"],
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_RATES": {
        "report": REPORT_RATE,
        "staff": STAFF_API_RATE,
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "OpenHotline API",
    "DESCRIPTION": (
        "Report suspected child sexual abuse material anonymously; (for hotline staff) read "
        "reports and cases with `Authorization: Bearer oht_…`; (for members) download the "
        "signed feeds and match hashes with `Authorization: Bearer ohk_…`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # JavaScript, passed as is to SwaggerUIBundle({...}): the preset adds our accessibility
    # plugin (openhotline/core/static/openhotline/swagger-a11y.js, loaded by our override of
    # drf_spectacular/swagger_ui.html) to Swagger UI's own; "plugins" stays drf-spectacular's.
    # The "idea" highlighting theme is the one whose colours for JSON and shell text meet
    # WCAG AA contrast (the default "agate" has numbers at 3.45:1).
    "SWAGGER_UI_SETTINGS": (
        "{deepLinking: true,"
        " presets: [SwaggerUIBundle.presets.apis, OpenHotlineSwaggerA11y],"
        ' syntaxHighlight: {activated: true, theme: "idea"}}'
    ),
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"CaseStateEnum": "openhotline.cases.models.CaseState"},
    # The member API (feeds, matching) is plain Django views: this hook describes it.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "openhotline.feeds.openapi.add_member_api",
        "openhotline.feeds.openapi.hoist_branch_defaults",
    ],
}

# --- The platform's view of the network (used from the capture issue on) -----------------
DNS_SERVERS = env_host_ports("OPENHOTLINE_DNS_SERVERS")
FETCH_ALLOW_NETS = env_networks("OPENHOTLINE_FETCH_ALLOW_NETS")

# --- Newsgroups (issue 17): the news server articles are read from -----------------------
# Connections go through the same address policy as captures. A password is sent only over
# TLS unless NNTP_PLAINTEXT_AUTH allows it.
NNTP_SERVER = env_str("OPENHOTLINE_NNTP_SERVER", "")
NNTP_TLS = env_bool("OPENHOTLINE_NNTP_TLS", True)
NNTP_PORT = env_int("OPENHOTLINE_NNTP_PORT", 563 if NNTP_TLS else 119, minimum=1)
NNTP_TLS_VERIFY = env_bool("OPENHOTLINE_NNTP_TLS_VERIFY", True)
NNTP_CA_FILE = env_str("OPENHOTLINE_NNTP_CA_FILE", "")
NNTP_USER = env_str("OPENHOTLINE_NNTP_USER", "")
NNTP_PASSWORD = env_secret("OPENHOTLINE_NNTP_PASSWORD") or ""
NNTP_PLAINTEXT_AUTH = env_bool("OPENHOTLINE_NNTP_PLAINTEXT_AUTH", False)
NNTP_TIMEOUT = env_int("OPENHOTLINE_NNTP_TIMEOUT", 30, minimum=1)

# --- Fetching and capture -------------------------------------------------------------
FETCH_CONNECT_TIMEOUT = env_int("OPENHOTLINE_FETCH_CONNECT_TIMEOUT", 5, minimum=1)
FETCH_READ_TIMEOUT = env_int("OPENHOTLINE_FETCH_READ_TIMEOUT", 10, minimum=1)
FETCH_TOTAL_TIMEOUT = env_int("OPENHOTLINE_FETCH_TOTAL_TIMEOUT", 30, minimum=1)
FETCH_MAX_REDIRECTS = env_int("OPENHOTLINE_FETCH_MAX_REDIRECTS", 10, minimum=0)
FETCH_MAX_PAGE_BYTES = env_int("OPENHOTLINE_FETCH_MAX_PAGE_BYTES", 5 * 1024 * 1024, minimum=1024)
FETCH_MAX_MEDIA_BYTES = env_int("OPENHOTLINE_FETCH_MAX_MEDIA_BYTES", 50 * 1024 * 1024, minimum=1024)
CAPTURE_MAX_MEDIA = env_int("OPENHOTLINE_CAPTURE_MAX_MEDIA", 200, minimum=1)
CAPTURE_MAX_TOTAL_BYTES = env_int(
    "OPENHOTLINE_CAPTURE_MAX_TOTAL_BYTES", 500 * 1024 * 1024, minimum=1024
)
CAPTURE_USER_AGENT = env_str(
    "OPENHOTLINE_CAPTURE_USER_AGENT",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/140.0 Safari/537.36",
)
CAPTURE_ACCEPT_LANGUAGE = env_str("OPENHOTLINE_CAPTURE_ACCEPT_LANGUAGE", "en-GB,en;q=0.8")
# Seconds to wait before each retry of a failed capture; then the case stays failed.
CAPTURE_RETRY_DELAYS = [
    int(x) for x in env_list("OPENHOTLINE_CAPTURE_RETRY_DELAYS", ["60", "600", "3600", "21600"])
]
# A capture still running this long after it started is presumed dead and re-queued.
CAPTURE_STALL_SECONDS = env_int("OPENHOTLINE_CAPTURE_STALL_SECONDS", 900, minimum=60)
# A run stops fetching more media after this long; must be well below the stall time.
CAPTURE_MAX_SECONDS = env_int("OPENHOTLINE_CAPTURE_MAX_SECONDS", 600, minimum=10)
CAPTURE_MAX_RESTARTS = env_int("OPENHOTLINE_CAPTURE_MAX_RESTARTS", 2, minimum=0)
# Searching a fetched page for media: at most this many characters of its text, and this
# many seconds; past either the search stops with what it found and the capture says so.
EXTRACT_MAX_CHARS = env_int("OPENHOTLINE_EXTRACT_MAX_CHARS", FETCH_MAX_PAGE_BYTES, minimum=1024)
PARSE_SECONDS = env_int("OPENHOTLINE_PARSE_SECONDS", 10, minimum=1)
# Every fetch of an onion capture goes through it, clear-web media included.
ONION_PROXY = env_str("OPENHOTLINE_ONION_PROXY", "")  # e.g. socks5://127.0.0.1:9050
# "min,max" seconds: the first capture of a new case waits a random time in this range,
# so a site cannot tie our visit to a report of a link it gave only one person. Off by
# default: the evidence matters sooner (see docs/threat-model.md).
_first_delay = env_list("OPENHOTLINE_FIRST_CAPTURE_DELAY_SECONDS", ["0", "0"])
FIRST_CAPTURE_DELAY_SECONDS = (
    (int(_first_delay[0]), int(_first_delay[1]))
    if len(_first_delay) == 2 and all(part.isdigit() for part in _first_delay)
    else (-1, -1)
)
if not 0 <= FIRST_CAPTURE_DELAY_SECONDS[0] <= FIRST_CAPTURE_DELAY_SECONDS[1]:
    raise ConfigError(
        f"OPENHOTLINE_FIRST_CAPTURE_DELAY_SECONDS: {','.join(_first_delay)!r}; give "
        "min,max whole seconds with 0 <= min <= max, e.g. 60,900"
    )

# --- Media checks ---------------------------------------------------------------------
MEDIA_MAX_PIXELS = env_int("OPENHOTLINE_MEDIA_MAX_PIXELS", 50_000_000, minimum=1)
MEDIA_MAX_FRAMES = env_int("OPENHOTLINE_MEDIA_MAX_FRAMES", 2_000, minimum=1)
MEDIA_MAX_TOTAL_PIXELS = env_int("OPENHOTLINE_MEDIA_MAX_TOTAL_PIXELS", 400_000_000, minimum=1)
VIDEO_MAX_SECONDS = env_int("OPENHOTLINE_VIDEO_MAX_SECONDS", 3 * 3600, minimum=1)
VIDEO_MAX_DECODED_FRAMES = env_int("OPENHOTLINE_VIDEO_MAX_DECODED_FRAMES", 2_000, minimum=1)
# Decoding captured media (checks, hashes, preview) runs in a worker process killed after
# this many seconds per file, with its address space capped at this many MiB.
DECODE_SECONDS = env_int("OPENHOTLINE_DECODE_SECONDS", 30, minimum=1)
DECODE_MEMORY_MB = env_int("OPENHOTLINE_DECODE_MEMORY_MB", 4096, minimum=512)

# --- Signals (hashes) -----------------------------------------------------------------
# PhotoDNA is proprietary: a licensed implementation is plugged in by dotted path to a
# callable taking image bytes and returning 144 bytes. Absent by default.
PHOTODNA_IMPLEMENTATION = env_str("OPENHOTLINE_PHOTODNA_IMPLEMENTATION", "")
PHOTODNA_MATCH_THRESHOLD = float(env_str("OPENHOTLINE_PHOTODNA_MATCH_THRESHOLD", "1800"))
# "fast": our numpy PDQ (same hashes, several times quicker); "reference": pdqhash (C++).
PDQ_HASHER = env_choice("OPENHOTLINE_PDQ_HASHER", "fast", ("fast", "reference"))
# A PDQ match this close is the same picture: the entry's grade stands without a reveal.
NEAR_EXACT_PDQ_DISTANCE = env_int("OPENHOTLINE_NEAR_EXACT_PDQ_DISTANCE", 8, minimum=0)

# --- Assessment -----------------------------------------------------------------------
# The queue's order: keys from "priority" (self-reports, identified victims, known
# hashes), "reports" (most reported first) and "age" (oldest first).
QUEUE_ORDER = env_list("OPENHOTLINE_QUEUE_ORDER", ["priority", "reports", "age"])
if not QUEUE_ORDER or not set(QUEUE_ORDER) <= {"priority", "reports", "age"}:
    raise ConfigError(
        f"OPENHOTLINE_QUEUE_ORDER: {','.join(QUEUE_ORDER)!r}; use keys from priority, "
        "reports, age, e.g. priority,reports,age"
    )
# A claim not touched for this long lapses and the case goes back to the queue.
CLAIM_MINUTES = env_int("OPENHOTLINE_CLAIM_MINUTES", 30, minimum=1)
# A case an analyst skipped is not offered to them again for this long.
SKIP_HOURS = env_int("OPENHOTLINE_SKIP_HOURS", 24, minimum=0)
# The browser may fetch a revealed original for this long after the reveal.
REVEAL_SECONDS = env_int("OPENHOTLINE_REVEAL_SECONDS", 300, minimum=10)
# Soft limits (per analyst, changeable in their welfare settings) that prompt a break.
REVEALS_PER_HOUR = env_int("OPENHOTLINE_REVEALS_PER_HOUR", 150, minimum=1)
REVEALS_PER_DAY = env_int("OPENHOTLINE_REVEALS_PER_DAY", 600, minimum=1)
# Percent of decisions sampled for a blind QA review (100 for analysts in training).
QA_SHARE_PERCENT = env_int("OPENHOTLINE_QA_SHARE_PERCENT", 10, minimum=0)
# The law decisions are made under by default: uk, interpol or vics.
HOME_MAPPING = env_choice("OPENHOTLINE_HOME_MAPPING", "uk", ("uk", "interpol", "vics"))
# The hotline's own hash list, which confirmed grades of criminal media go into.
OWN_HASH_LIST = env_str("OPENHOTLINE_OWN_HASH_LIST", "own-grading")
# Whether a grade not sampled for QA counts as confirmed when the case is decided; if
# not, only grades a second person reviewed go into the own hash list.
CONFIRM_UNREVIEWED_GRADES = env_bool("OPENHOTLINE_CONFIRM_UNREVIEWED_GRADES", True)

# --- Tracing and takedown ---------------------------------------------------------------
# Offline IP → country/network: a MaxMind-format .mmdb when given, else geoip2fast's data.
GEOIP_DB = env_str("OPENHOTLINE_GEOIP_DB", "")
GEOIP2FAST_DATA = env_str("OPENHOTLINE_GEOIP2FAST_DATA", "geoip2fast-asn-ipv6.dat.gz")
# RDAP bootstrap files (ipv4.json, ipv6.json, dns.json) live under this base URL.
RDAP_BOOTSTRAP = env_str("OPENHOTLINE_RDAP_BOOTSTRAP", "https://data.iana.org/rdap/")
RDAP_TIMEOUT = env_int("OPENHOTLINE_RDAP_TIMEOUT", 10, minimum=1)
RDAP_BOOTSTRAP_TTL = env_int("OPENHOTLINE_RDAP_BOOTSTRAP_TTL", 86400, minimum=60)
CDN_NETWORKS_FILE = env_str("OPENHOTLINE_CDN_NETWORKS_FILE", "")  # "": the bundled file
# Where police notifications, referrals and intelligence packages go when a routing rule
# names no contact of its own.
POLICE_CONTACT = env_str("OPENHOTLINE_POLICE_CONTACT", "")
# Seconds from the first notice sent to each recheck (not from the recheck before), then
# one every RECHECK_DAILY_SECONDS after the last of them.
RECHECK_DELAYS = [
    int(x) for x in env_list("OPENHOTLINE_RECHECK_DELAYS", ["3600", "14400", "86400"])
]
RECHECK_DAILY_SECONDS = env_int("OPENHOTLINE_RECHECK_DAILY_SECONDS", 86400, minimum=1)
# A recheck that finds the content gone is confirmed by another at least this much later,
# whatever asked for it (the schedule or the host's "removed" link).
RECHECK_CONFIRM_SECONDS = env_int("OPENHOTLINE_RECHECK_CONFIRM_SECONDS", 600, minimum=0)
# A confirmed removal is checked once more this much later; content back reopens the case.
REMOVAL_VERIFY_SECONDS = env_int("OPENHOTLINE_REMOVAL_VERIFY_SECONDS", 7 * 86400, minimum=0)
# A mail server that refuses is tried again after these many seconds; then the action fails.
SEND_RETRY_DELAYS = [
    int(x) for x in env_list("OPENHOTLINE_SEND_RETRY_DELAYS", ["60", "600", "3600"])
]
# A send still unfinished this long after it was due is queued again (its worker died).
SEND_STALL_SECONDS = env_int("OPENHOTLINE_SEND_STALL_SECONDS", 300, minimum=1)
# Reporters hear of a notice sent or a removal confirmed this many seconds later, so
# several cases of one report that move together make one mail (decisions go at once).
REPORTER_UPDATE_DELAY_SECONDS = env_int("OPENHOTLINE_REPORTER_UPDATE_DELAY_SECONDS", 60, minimum=0)

# --- Member feeds and the matching API ---------------------------------------------------
# Pre-generated snapshot files (with their signed manifests) of the big feeds.
FEED_EXPORT_DIR = Path(env_str("OPENHOTLINE_FEED_EXPORT_DIR", str(VAR_DIR / "feeds")))
# A feed with at most this many live items is snapshotted on request; a bigger one is
# served from its newest pre-generated file (and a member continues by deltas from it).
FEED_INLINE_SNAPSHOT_LIMIT = env_int("OPENHOTLINE_FEED_INLINE_SNAPSHOT_LIMIT", 50_000, minimum=0)
# A snapshot file older than this, or this many changes behind, is made again.
FEED_EXPORT_MAX_AGE_SECONDS = env_int("OPENHOTLINE_FEED_EXPORT_MAX_AGE_SECONDS", 86400, minimum=60)
FEED_EXPORT_MAX_CHANGES = env_int("OPENHOTLINE_FEED_EXPORT_MAX_CHANGES", 500_000, minimum=1)
# Hashes per matching call, and calls per key per minute (a key may have its own).
MATCH_MAX_HASHES = 1000
MATCH_CALLS_PER_MINUTE = env_int("OPENHOTLINE_MATCH_CALLS_PER_MINUTE", 120, minimum=1)
# An image sent to the matching API is hashed in memory and dropped; never bigger than this.
MATCH_MAX_IMAGE_BYTES = env_int("OPENHOTLINE_MATCH_MAX_IMAGE_BYTES", 20 * 1024 * 1024, minimum=1024)
# Images one organisation may have decoded at once (each up to 50 megapixels in a web
# worker); more get 429. Per process with the local cache, global with Redis.
MATCH_IMAGE_CONCURRENCY = env_int("OPENHOTLINE_MATCH_IMAGE_CONCURRENCY", 2, minimum=1)

# --- Mail -----------------------------------------------------------------------------
# Outcomes to reporters (and, later, notices to hosts) go through Django's mailers:
# SMTP by default; OPENHOTLINE_EMAIL_BACKEND names another (console, filebased, locmem).
_EMAIL_BACKEND = env_str("OPENHOTLINE_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
_EMAIL_OPTIONS: dict[str, object] = {}
if _EMAIL_BACKEND.endswith("smtp.EmailBackend"):
    _EMAIL_OPTIONS = {
        "host": env_str("OPENHOTLINE_EMAIL_HOST", "localhost"),
        "port": env_int("OPENHOTLINE_EMAIL_PORT", 25, minimum=1),
        "username": env_str("OPENHOTLINE_EMAIL_HOST_USER", ""),
        "password": env_secret("OPENHOTLINE_EMAIL_HOST_PASSWORD", "") or "",
        "use_tls": env_bool("OPENHOTLINE_EMAIL_USE_TLS", False),
        "timeout": env_int("OPENHOTLINE_EMAIL_TIMEOUT", 30, minimum=1),
    }
elif _EMAIL_BACKEND.endswith("filebased.EmailBackend"):
    _EMAIL_OPTIONS = {"file_path": str(VAR_DIR / "mail")}
MAILERS = {"default": {"BACKEND": _EMAIL_BACKEND, "OPTIONS": _EMAIL_OPTIONS}}
DEFAULT_FROM_EMAIL = env_str("OPENHOTLINE_FROM_EMAIL", "hotline@localhost")
# The name given in SMTP's HELO and in Message-IDs: the site's host unless set, so sending
# mail never asks the system resolver for this machine's name.
MAIL_HOSTNAME = env_str("OPENHOTLINE_MAIL_HOSTNAME", "") or (
    SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "localhost"
)

# --- Intake limits --------------------------------------------------------------------
MAX_URLS_PER_REPORT = env_int("OPENHOTLINE_MAX_URLS_PER_REPORT", 50, minimum=1)
MAX_URL_LENGTH = env_int("OPENHOTLINE_MAX_URL_LENGTH", 2048, minimum=64)
MAX_DESCRIPTION_LENGTH = 5000
DATA_UPLOAD_MAX_MEMORY_SIZE = 512 * 1024
# Uploads stay in memory (a route that takes files sets its own capped handler); never a
# temporary file. Bodies are limited per route by core.body_limits before any parsing.
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.MemoryFileUploadHandler"]

# --- Logging --------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("OPENHOTLINE_LOG_LEVEL", "INFO")},
    # Never log client addresses or request lines of the public pages (status links carry
    # secrets in the path): gunicorn writes no access log unless asked, and README
    # ("Running in production", access logs) gives a format without them for gunicorn and
    # the proxy.
    "loggers": {
        "django.request": {"level": "ERROR"},
        # httpx logs every request line at INFO: that would put reported URLs in the logs.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
