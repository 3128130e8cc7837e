"""Settings are read from the environment; production mistakes fail at start-up."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _key_file(tmp_path, monkeypatch):
    """Started with debug on, a settings process makes its key file here, not in the repository's var/."""
    path = tmp_path / "installation" / "secret_key"
    monkeypatch.setenv("DJANGO_SECRET_KEY_FILE", str(path))
    return path


def _environment(env_overrides, drop=()):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in drop and (not k.startswith("DJANGO_") or k == "DJANGO_SECRET_KEY_FILE")
    }
    env.update(env_overrides)
    env.setdefault("DATABASE_URL", f"sqlite:///{ROOT}/var/settings-check.sqlite3")
    return env


def run_manage(*args, env_overrides, drop=()):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=_environment(env_overrides, drop),
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_python(code, *, env_overrides):
    """``code`` in a fresh interpreter with labelhub's settings configured from ``env_overrides``."""
    env = _environment({"DJANGO_SETTINGS_MODULE": "labelhub.settings", **env_overrides})
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


PRINT_SECRET_KEY = "from django.conf import settings; print(settings.SECRET_KEY)"


def env_example_value(name):
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.startswith(f"{name}="):
            return line.split("=", 1)[1]
    raise AssertionError(f"{name} is not in .env.example")


def test_missing_secret_key_fails_fast_when_debug_is_off():
    result = run_manage("check", env_overrides={"DJANGO_DEBUG": "0"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_debug_runs_without_a_secret_key():
    result = run_manage("check", env_overrides={"DJANGO_DEBUG": "1"})
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "key",
    [pytest.param(None, id="the-env-example-placeholder"), "django-insecure-labelhub-development-only"],
)
def test_a_published_placeholder_key_is_refused_when_debug_is_off(key):
    key = key or env_example_value("DJANGO_SECRET_KEY")
    result = run_manage("check", env_overrides={"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": key})
    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY is a published placeholder" in result.stderr


def test_debug_without_a_key_makes_a_private_random_key_once_and_then_reads_it(_key_file):
    assert not _key_file.parent.exists()
    first = run_python(PRINT_SECRET_KEY, env_overrides={"DJANGO_DEBUG": "1"})
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert len(key) >= 50 and key not in ("django-insecure-labelhub-development-only", "")
    assert _key_file.read_text().strip() == key
    assert _key_file.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in _key_file.parent.iterdir()) == ["secret_key"]  # no temporary file left

    again = run_python(PRINT_SECRET_KEY, env_overrides={"DJANGO_DEBUG": "1"})
    assert again.stdout.strip() == key


def test_each_installation_gets_its_own_development_key(tmp_path):
    keys = {
        run_python(
            PRINT_SECRET_KEY,
            env_overrides={
                "DJANGO_DEBUG": "1",
                "DJANGO_SECRET_KEY_FILE": str(tmp_path / name / "secret_key"),
            },
        ).stdout.strip()
        for name in ("one", "two")
    }
    assert len(keys) == 2 and "" not in keys


def test_processes_starting_together_end_with_one_development_key(_key_file):
    env = _environment({"DJANGO_DEBUG": "1", "DJANGO_SETTINGS_MODULE": "labelhub.settings"})
    processes = [
        subprocess.Popen([sys.executable, "-c", PRINT_SECRET_KEY], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    keys = {process.communicate(timeout=120)[0].strip() for process in processes}
    assert keys == {_key_file.read_text().strip()}


def test_debug_with_the_placeholder_key_uses_the_installation_key_instead(_key_file):
    result = run_python(
        PRINT_SECRET_KEY,
        env_overrides={
            "DJANGO_DEBUG": "1",
            "DJANGO_SECRET_KEY": env_example_value("DJANGO_SECRET_KEY"),
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == _key_file.read_text().strip()


def test_an_empty_key_file_is_refused_with_a_clear_message(_key_file):
    _key_file.parent.mkdir()
    _key_file.write_text("\n")
    result = run_python(PRINT_SECRET_KEY, env_overrides={"DJANGO_DEBUG": "1"})
    assert result.returncode != 0
    assert f"{_key_file} holds no usable secret key" in result.stderr


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
            "DJANGO_SECURE_PROXY_SSL_HEADER": "1",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_azure_storage_without_connection_string_fails_fast():
    result = run_manage(
        "check",
        env_overrides={"DJANGO_DEBUG": "1", "STORAGE_BACKEND": "azure"},
        drop=("AZURE_STORAGE_CONNECTION_STRING",),
    )
    assert result.returncode != 0
    assert "AZURE_STORAGE_CONNECTION_STRING" in result.stderr


KEYLESS = {
    "DJANGO_DEBUG": "1",
    "STORAGE_BACKEND": "azure",
    "AZURE_STORAGE_ACCOUNT_URL": "https://acct.blob.core.windows.net",
}


def test_azure_storage_by_account_url_alone_starts_keyless():
    result = run_manage("check", env_overrides=KEYLESS, drop=("AZURE_STORAGE_CONNECTION_STRING",))
    assert result.returncode == 0, result.stderr


def test_azure_storage_with_both_a_connection_string_and_an_account_url_fails_fast():
    result = run_manage(
        "check",
        env_overrides={
            **KEYLESS,
            "AZURE_STORAGE_CONNECTION_STRING": "AccountName=a;AccountKey=eA==;BlobEndpoint=https://x",
        },
    )
    assert result.returncode != 0
    assert "not both" in result.stderr


@pytest.mark.parametrize(
    "overrides",
    [
        {"IMAGE_READ_TOKEN_VALID_DAYS": "8"},
        {"IMAGESET_UPLOAD_TOKEN_VALID_DAYS": "30"},
        {"AZURE_STORAGE_CREDENTIAL": "x"},
    ],
)
def test_keyless_storage_refuses_urls_longer_than_a_week_and_unknown_credentials(overrides):
    result = run_manage("check", env_overrides={**KEYLESS, **overrides}, drop=("AZURE_STORAGE_CONNECTION_STRING",))
    assert result.returncode != 0
    assert next(iter(overrides)) in result.stderr


def test_postgres_url_selects_psycopg(settings):
    import environ

    config = environ.Env.db_url_config("postgres://u:p@db.example:5432/labelhub")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["NAME"]) == ("db.example", "labelhub")


@pytest.mark.django_db
def test_plain_http_is_served_with_debug_off_unless_ssl_redirect_is_asked_for(client):
    assert client.get("/healthz").status_code == 200


IS_FORWARDED_HTTPS_SECURE = (
    "import django; django.setup(); from django.test import RequestFactory; "
    "print(RequestFactory().get('/healthz', HTTP_X_FORWARDED_PROTO='https').is_secure())"
)


def test_a_clients_forwarded_proto_is_not_trusted_without_a_configured_proxy():
    result = run_python(IS_FORWARDED_HTTPS_SECURE, env_overrides={"DJANGO_DEBUG": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_forwarded_proto_is_honoured_behind_a_configured_proxy():
    result = run_python(
        IS_FORWARDED_HTTPS_SECURE, env_overrides={"DJANGO_DEBUG": "1", "DJANGO_SECURE_PROXY_SSL_HEADER": "1"}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def log_variables():
    """The LOG_* variables of the environment running the suite (a LOG_LEVEL there could hide a line)."""
    return [name for name in os.environ if name.startswith("LOG_")]


def test_log_format_json_switches_every_log_line_to_json():
    result = run_manage(
        "shell",
        "-c",
        "import logging; logging.getLogger('labelhub.probe').warning('hello %s', 'world')",
        env_overrides={"DJANGO_DEBUG": "1", "LOG_FORMAT": "json"},
        drop=log_variables(),
    )
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stderr.splitlines() if "labelhub.probe" in line]
    entry = json.loads(line)
    assert entry["message"] == "hello world" and entry["level"] == "WARNING"


def test_an_unknown_log_format_fails_at_start_up():
    result = run_manage("check", env_overrides={"DJANGO_DEBUG": "1", "LOG_FORMAT": "xml"}, drop=log_variables())
    assert result.returncode != 0
    assert "LOG_FORMAT" in result.stderr


PRINT_THROTTLING = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.API_AUTH_FAILURES_PER_ADDRESS, settings.API_AUTH_FAILURES_PER_KEY, "
    "settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1])"
)


def test_auth_failure_limits_are_count_and_window_and_empty_turns_one_off():
    result = run_python(
        PRINT_THROTTLING,
        env_overrides={"DJANGO_DEBUG": "1", "API_AUTH_FAILURES_PER_ADDRESS": "20/10m", "API_AUTH_FAILURES_PER_KEY": ""},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(20, 600) None FileBasedCache"


def test_the_throttle_counters_are_in_redis_when_there_is_one():
    result = run_python(PRINT_THROTTLING, env_overrides={"DJANGO_DEBUG": "1", "REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(30, 300) (10, 300) RedisCache"


@pytest.mark.parametrize("value", ["ten/5m", "10/5", "0/5m", "10/0m", "10 per minute"])
def test_a_malformed_auth_failure_limit_fails_at_start_up(value):
    result = run_manage("check", env_overrides={"DJANGO_DEBUG": "1", "API_AUTH_FAILURES_PER_KEY": value})
    assert result.returncode != 0
    assert "API_AUTH_FAILURES_PER_KEY must be count/window" in result.stderr


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
