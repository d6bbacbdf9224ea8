"""Settings of the site, all read from environment variables.

Every variable is listed, with its default, in the README ("Réglages"). The
defaults are safe for a developer's machine: a SQLite file in the project,
DEBUG off unless asked for, no secret key outside DEBUG.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from corsheaders.defaults import default_headers
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "oui"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY est obligatoire quand DEBUG est désactivé "
            "(exportez SECRET_KEY, ou DEBUG=1 pour un poste de développement)."
        )
    SECRET_KEY = "insecure-development-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # SimpleAdminConfig: no admin autodiscovery, because django-leaflet's own
    # admin module needs GDAL and this project has no GeoDjango. Our admin
    # modules are imported in mediation/urls.py.
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",  # only for migration 0019, which hashed its tokens
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "leaflet",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "territories",
    "mediation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outside WhiteNoise, so that static files get them too.
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "mediation.headers.CrossOriginResourcePolicyMiddleware",
    # Before anything that may answer: CORS headers on every /api/ response.
    "corsheaders.middleware.CorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Idle timeout and "Cache-Control: private, no-store" for logged-in people.
    "mediation.sessions.SessionSecurityMiddleware",
    # A code from the phone before anything else, for those who need one.
    "mediation.second_factor.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last: stops brute force on every login form (site and admin).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mediation.urls"
WSGI_APPLICATION = "mediation.wsgi.application"

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
                "mediation.context_processors.site",
            ],
        },
    },
]

# SQLite by default; PostgreSQL (production, CI) through DATABASE_URL.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # An unreachable server answers 503 in seconds (mediation/errors.py), not after
    # the system's TCP timeout.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL: pages keep reading while an import writes; a second writer waits up
    # to 20 s for the first instead of failing at once with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", "timeout": 20}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One shared cache for every app server when REDIS_URL is set; a per-process
# cache otherwise (enough for one machine). When Redis does not answer, the site
# goes on with a per-process cache (mediation/cache.py); short timeouts keep an
# unreachable server from holding requests.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "mediation.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            # Several sites (or test runs) sharing one Redis keep apart by prefix.
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", ""),
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "mediation.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Accounts (mediators' space). Logging in is by e-mail; django-axes locks a
# given e-mail from a given IP address after 5 failed attempts, and the account
# from every address after 20 (mediation/lockout.py), for 30 minutes from the
# last failure; a new password through the e-mailed link unlocks at once.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
ACCOUNT_FAILURE_LIMIT = int(os.environ.get("ACCOUNT_FAILURE_LIMIT", "20"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username"]  # order used by the handler
AXES_HANDLER = "mediation.lockout.LockoutHandler"
AXES_USERNAME_CALLABLE = "mediation.lockout.username"  # one count whatever the capitals
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # a stranger cannot stretch a lock
AXES_USERNAME_FORM_FIELD = "username"  # the e-mail, in Django's AuthenticationForm
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "mediation.client_ip.client_ip"  # behind proxies too

# Second factor (mediation/second_factor.py): the name authenticator apps show.
OTP_TOTP_ISSUER = "Médiation numérique CVL"
OTP_TOTP_THROTTLE_FACTOR = 1  # seconds, doubled after each wrong code
OTP_STATIC_THROTTLE_FACTOR = 1
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin lists and removes devices, never shows secrets

# Reverse proxies of the site's own in front of it (nginx, a load balancer):
# the visitor's address is the one the outermost wrote in X-Forwarded-For.
# 0: the connection's address, the header (which anyone can forge) ignored.
TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
LOGIN_URL = "space:login"
LOGIN_REDIRECT_URL = "space:home"
LOGOUT_REDIRECT_URL = "mediation:home"
# A session ends after this long without a request (mediation/sessions.py):
# 2 hours for regional admins and coordinators, who can publish and delete.
SESSION_IDLE_TIMEOUT = timedelta(days=14)
SESSION_IDLE_TIMEOUT_STAFF = timedelta(hours=2)
SESSION_COOKIE_AGE = int(SESSION_IDLE_TIMEOUT.total_seconds())
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24  # a reset link works for 24 hours
INVITATION_MAX_AGE = timedelta(days=14)  # an invitation link works for 14 days
VERIFICATION_MAX_AGE = timedelta(days=365)  # listings older than this are reminded

LANGUAGE_CODE = "fr"
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Where `collectstatic` gathers the files WhiteNoise serves when DEBUG is off.
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Browser libraries installed by npm from the lockfile (see package.json).
    ("vendor/markercluster", BASE_DIR / "node_modules" / "leaflet.markercluster" / "dist"),
]
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

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get(
    "DEFAULT_FROM_EMAIL", "Médiation numérique Centre-Val de Loire <ne-pas-repondre@localhost>"
)

# Production hardening: on whenever DEBUG is off.
# X-Forwarded-Proto says "https" only if our own proxy wrote it; without one, anyone can.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXIES > 0 else None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CROSS_ORIGIN_RESOURCE_POLICY = "same-origin"  # mediation/headers.py
# Browser features: geolocation ("Autour de moi") for the site itself, nothing else.
PERMISSIONS_POLICY = {
    "geolocation": ["self"],
    "accelerometer": [],
    "ambient-light-sensor": [],
    "autoplay": [],
    "bluetooth": [],
    "browsing-topics": [],
    "camera": [],
    "clipboard-read": [],
    "display-capture": [],
    "encrypted-media": [],
    "gyroscope": [],
    "hid": [],
    "idle-detection": [],
    "local-fonts": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "otp-credentials": [],
    "payment": [],
    "publickey-credentials-get": [],
    "screen-wake-lock": [],
    "serial": [],
    "usb": [],
    "xr-spatial-tracking": [],
}

# Map: tiles from OpenStreetMap by default; IGN "Plan IGN v2" is the
# documented alternative (MAP_TILES=ign). Attribution is always shown.
MAP_TILE_PROVIDERS = {
    "osm": (
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        '&copy; <a href="https://www.openstreetmap.org/copyright">'
        "les contributeurs d’OpenStreetMap</a>",
    ),
    "ign": (
        "https://data.geopf.fr/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        "&LAYER=GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2&STYLE=normal&FORMAT=image/png"
        "&TILEMATRIXSET=PM&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}",
        '&copy; <a href="https://www.ign.fr/">IGN</a> – Géoplateforme',
    ),
}
MAP_TILES = os.environ.get("MAP_TILES", "osm")
if MAP_TILES not in MAP_TILE_PROVIDERS:
    raise ImproperlyConfigured(f"MAP_TILES doit valoir l’un de {sorted(MAP_TILE_PROVIDERS)}.")
MAP_TILE_URL, MAP_TILE_ATTRIBUTION = MAP_TILE_PROVIDERS[MAP_TILES]

# Content security policy (django-csp): pages run only this site's own scripts
# and style sheets, never inline code, so an injected <script> or style does
# nothing; images come from here and from the map's tile server. The pages keep
# data for scripts in json_script blocks, which are not executed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "{0.scheme}://{0.netloc}".format(urlsplit(MAP_TILE_URL))],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (47.4, 1.7),
    "DEFAULT_ZOOM": 7,
    "MIN_ZOOM": 6,
    "MAX_ZOOM": 18,
    "TILES": [("Plan", MAP_TILE_URL, {"attribution": MAP_TILE_ATTRIBUTION})],
    "ATTRIBUTION_PREFIX": "Leaflet",
    "RESET_VIEW": False,
}

# Geocoding of full addresses with the Base Adresse Nationale (geopy BANFrance).
# GEOCODER=off keeps every look-up on the commune table (offline machines).
GEOCODER = os.environ.get("GEOCODER", "ban")

# Recompute every commune's distance to help after each committed change of places
# (territories/coverage.py). The tests turn it off but where they check it.
COVERAGE_ON_COMMIT = True
GEOCODER_TIMEOUT = float(os.environ.get("GEOCODER_TIMEOUT", "2"))  # per request to the BAN
# A search waits at most this long for the BAN, then uses the commune table.
GEOCODER_BUDGET = float(os.environ.get("GEOCODER_BUDGET", "2"))
# BAN calls a visitor's searches may cause per minute (cached answers are free).
GEOCODER_VISITOR_LIMIT = int(os.environ.get("GEOCODER_VISITOR_LIMIT", "10"))

# Abuse limits (mediation/abuse.py): what one visitor ("visitor", by IP), one
# account ("account") or one target address ("target") may cause, as
# "count/period" (s, m, h, d). Each can be set by LIMIT_<NAME> in the environment.
_ABUSE_DEFAULTS = {
    "password_reset_visitor": "10/h",
    "password_reset_target": "3/h",
    "proposal_visitor": "20/d",
    "proposal_account": "10/d",
    "join_request_visitor": "20/d",
    "join_request_account": "10/d",
    "invitation_visitor": "100/d",
    "invitation_account": "50/d",
    "invitation_target": "3/d",
    "report_visitor": "5/h",
}
ABUSE_LIMITS = {
    name: os.environ.get(f"LIMIT_{name.upper()}", default)
    for name, default in _ABUSE_DEFAULTS.items()
}

SITE_NAME = "Médiation numérique Centre-Val de Loire"

# The operator's facts on /mentions-legales/ (LCEN, GDPR). A deployment check
# warns while one is missing (mediation/privacy.py).
LEGAL_NOTICE = {
    "publisher": os.environ.get("LEGAL_PUBLISHER", ""),
    "director": os.environ.get("LEGAL_PUBLICATION_DIRECTOR", ""),
    "host": os.environ.get("LEGAL_HOST", ""),
    "dpo": os.environ.get("LEGAL_DPO_CONTACT", ""),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Partners' API (/api/v1/): anonymous read of published data; partners send
# "Authorization: Token …" (people create their own tokens in "Mon espace";
# only digests are stored, mediation/api_tokens.py) for a higher rate.
# Throttling counts in the cache: per process with LocMem, shared with REDIS_URL.
REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["mediation.api_tokens.ApiTokenAuthentication"],
    "DEFAULT_THROTTLE_CLASSES": [
        "mediation.api.throttling.AnonymousThrottle",
        "mediation.api.throttling.PartnerThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_ANON_RATE", "60/min"),
        "partner": os.environ.get("API_PARTNER_RATE", "1200/min"),
    },
    "NUM_PROXIES": TRUSTED_PROXIES,  # see mediation/client_ip.py
    "DEFAULT_PAGINATION_CLASS": "mediation.api.pagination.StructurePagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "API de la médiation numérique en Centre-Val de Loire",
    "DESCRIPTION": (
        "Les lieux de médiation numérique de la région, au format du standard national "
        "des lieux de médiation numérique 1.0.2. Lecture libre ; jeton pour un débit plus élevé."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}
# CORS: any site may read the API from a browser (GET/HEAD/OPTIONS, /api/ only).
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_METHODS = ("GET", "HEAD", "OPTIONS", "PATCH")
# Conditional requests from a browser: revalidation (If-None-Match / If-Modified-Since)
# and PATCH with If-Match; the token goes in Authorization (no cookies).
CORS_ALLOW_HEADERS = (
    *default_headers,
    "if-none-match",
    "if-modified-since",
    "if-match",
)
CORS_EXPOSE_HEADERS = ("ETag", "Last-Modified", "Retry-After", "Content-Disposition")
