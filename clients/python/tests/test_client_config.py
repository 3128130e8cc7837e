"""The client's configuration: the environment, the config file (mode 0600) and which wins."""

from __future__ import annotations

import json
import os
import stat

import pytest

from labelhub_client import Client, Config, ConfigError
from labelhub_client import config as config_file

SECRET = "f" * 40


@pytest.fixture(autouse=True)
def environment(monkeypatch, tmp_path):
    """No LABELHUB_* variable from outside, and a home of the test's own."""
    for name in (config_file.ENV_URL, config_file.ENV_KEY, config_file.ENV_SECRET, config_file.ENV_CONFIG):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def test_save_writes_the_file_readable_by_its_owner_only(tmp_path):
    old = os.umask(0)  # the most permissive umask: the mode must not depend on it
    try:
        path = config_file.save(Config("https://labelhub.example.com", "k" * 32, SECRET))
    finally:
        os.umask(old)

    assert path == tmp_path / "home" / ".config" / "labelhub" / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert json.loads(path.read_text()) == {"url": "https://labelhub.example.com", "key": "k" * 32, "secret": SECRET}
    assert [p.name for p in path.parent.iterdir()] == ["config.json"]  # no temporary file left


def test_save_replaces_a_file_that_was_readable_by_others_with_a_private_one(tmp_path):
    path = tmp_path / "config.json"
    path.write_text("{}")
    path.chmod(0o644)

    config_file.save(Config("https://a.example", "k", SECRET), path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert config_file.load(path) == Config("https://a.example", "k", SECRET)


def test_load_reads_the_environment_first_and_the_file_for_the_rest(monkeypatch, tmp_path):
    path = config_file.save(Config("https://file.example", "file-key", SECRET), tmp_path / "c.json")
    monkeypatch.setenv(config_file.ENV_CONFIG, str(path))
    monkeypatch.setenv(config_file.ENV_URL, "https://env.example")

    assert config_file.load() == Config("https://env.example", "file-key", SECRET)


def test_load_needs_no_file_when_the_environment_has_everything(monkeypatch):
    monkeypatch.setenv(config_file.ENV_URL, "https://env.example")
    monkeypatch.setenv(config_file.ENV_KEY, "env-key")
    monkeypatch.setenv(config_file.ENV_SECRET, SECRET)
    monkeypatch.setenv(config_file.ENV_CONFIG, "/nonexistent/config.json")

    client = Client.from_env()

    assert client.url == "https://env.example/api/v1" and client.key == "env-key"
    client.close()


def test_load_names_what_is_missing(monkeypatch):
    monkeypatch.setenv(config_file.ENV_URL, "https://env.example")

    with pytest.raises(ConfigError, match="LABELHUB_KEY, LABELHUB_SECRET"):
        config_file.load()


def test_a_named_config_file_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        config_file.load(tmp_path / "missing.json")


@pytest.mark.parametrize("content", ["not json", "[1, 2]"])
def test_an_unreadable_config_file_is_a_config_error(tmp_path, content):
    path = tmp_path / "c.json"
    path.write_text(content)

    with pytest.raises(ConfigError, match=str(path)):
        config_file.load(path)


def test_the_secret_is_not_in_the_configs_repr():
    assert SECRET not in repr(Config("https://a.example", "k", SECRET))
