"""Production settings of accounts: cookies, e-mail backend, brute-force protection."""

import json

from tests.mediation.test_settings import run_settings

PRODUCTION = {"SECRET_KEY": "a-long-random-secret-key-for-the-deployment-check-0123456789"}

SHOW = (
    "import json; from django.conf import settings as s; print(json.dumps({"
    "'session_secure': s.SESSION_COOKIE_SECURE, 'session_httponly': s.SESSION_COOKIE_HTTPONLY,"
    "'csrf_secure': s.CSRF_COOKIE_SECURE, 'email': s.EMAIL_BACKEND, 'host': s.EMAIL_HOST,"
    "'axes': 'axes.middleware.AxesMiddleware' in s.MIDDLEWARE,"
    "'backend': s.AUTHENTICATION_BACKENDS[0]}))"
)


def test_production_cookies_are_secure_and_http_only():
    result = run_settings(PRODUCTION, SHOW)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["session_secure"] and values["session_httponly"] and values["csrf_secure"]
    assert values["axes"] and values["backend"] == "axes.backends.AxesStandaloneBackend"


def test_e_mail_goes_to_the_console_by_default_and_smtp_when_configured():
    default = json.loads(run_settings(PRODUCTION, SHOW).stdout.strip().splitlines()[-1])
    assert default["email"] == "django.core.mail.backends.console.EmailBackend"
    smtp = run_settings(
        {
            **PRODUCTION,
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "smtp.example.fr",
        },
        SHOW,
    )
    values = json.loads(smtp.stdout.strip().splitlines()[-1])
    assert values["email"] == "django.core.mail.backends.smtp.EmailBackend"
    assert values["host"] == "smtp.example.fr"
