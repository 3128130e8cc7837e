"""Settings are read from the environment; production mistakes fail at start-up."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, env_overrides, drop=()):
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("DJANGO_")}
    env.update(env_overrides)
    env.setdefault("DATABASE_URL", f"sqlite:///{ROOT}/var/settings-check.sqlite3")
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_missing_secret_key_fails_fast_when_debug_is_off():
    result = run_manage("check", env_overrides={"DJANGO_DEBUG": "0"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_debug_runs_without_a_secret_key():
    result = run_manage("check", env_overrides={"DJANGO_DEBUG": "1"})
    assert result.returncode == 0, result.stderr


def test_deploy_check_is_clean_with_the_documented_production_variables():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_overrides={
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "k" * 20 + "Zq7$#x!2mN9@pLr4&vB8*cT1^hY6" + "w" * 10,
            "DJANGO_SECURE_SSL_REDIRECT": "1",
            "DJANGO_SECURE_HSTS_SECONDS": "31536000",
            "DJANGO_SESSION_COOKIE_SECURE": "1",
            "DJANGO_CSRF_COOKIE_SECURE": "1",
            "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
            "DJANGO_SECURE_HSTS_PRELOAD": "1",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_azure_storage_without_connection_string_fails_fast():
    result = run_manage(
        "check", env_overrides={"DJANGO_DEBUG": "1", "STORAGE_BACKEND": "azure"},
        drop=("AZURE_STORAGE_CONNECTION_STRING",),
    )
    assert result.returncode != 0
    assert "AZURE_STORAGE_CONNECTION_STRING" in result.stderr


def test_postgres_url_selects_psycopg(settings):
    import environ

    config = environ.Env.db_url_config("postgres://u:p@db.example:5432/labelhub")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["NAME"]) == ("db.example", "labelhub")


@pytest.mark.django_db
def test_plain_http_is_served_with_debug_off_unless_ssl_redirect_is_asked_for(client):
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_forwarded_proto_is_honoured_for_secure_requests(rf, settings):
    request = rf.get("/healthz", HTTP_X_FORWARDED_PROTO="https")
    assert request.is_secure()


@pytest.mark.django_db
def test_swagger_ui_assets_are_served_with_debug_off(client, settings):
    settings.DEBUG = False
    page = client.get("/api/v1/ui")
    assert page.status_code == 200
    script = next(
        line.split('src="')[1].split('"')[0]
        for line in page.content.decode().splitlines()
        if "swagger-ui-bundle" in line and 'src="' in line
    )
    asset = client.get(script)
    assert asset.status_code == 200
    assert b"".join(asset.streaming_content if asset.streaming else [asset.content])
