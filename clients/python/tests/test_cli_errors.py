"""Exit statuses and error messages of the ``labelhub`` command line, and the secret that is never printed.

0 success; 1 the server refused (4xx: the ``detail`` on stderr) or a bad file or setting;
2 usage; 3 the server failed (5xx) or cannot be reached. A scripted fake server
(``server`` fixture) answers what a live labelhub would not; the console script itself runs
once as a subprocess. The secret in use appears in no output, not in ``--json``, not in an
error, not even when the server echoes it.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from accounts.services import apikey_issue
from accounts.tests.factories import UserFactory
from campaigns.models import Campaign
from campaigns.tests.factories import make_campaign
from labelhub_client.cli import main

SECRET = "S3CRET-do-not-print-0123456789abcdef"
LABELHUB = Path(sys.executable).with_name("labelhub")


def invoke(args, env, *, input=None, secrets=(SECRET,)):
    result = CliRunner().invoke(main, [str(a) for a in args], env=env, input=input)
    for secret in secrets:
        assert secret not in result.stdout and secret not in result.stderr, (args, result.stdout, result.stderr)
    return result


def env_for(url, tmp_path, *, key="k" * 32, secret=SECRET):
    return {
        "LABELHUB_URL": url,
        "LABELHUB_KEY": key,
        "LABELHUB_SECRET": secret,
        "LABELHUB_CONFIG": str(tmp_path / "no-config.json"),
    }


# --- against a scripted server -----------------------------------------------------------


@pytest.mark.parametrize("json_mode", [False, True])
@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [(400, 1, "refused"), (404, 1, "refused"), (409, 1, "refused"), (422, 1, "refused"), (500, 3, "the server failed")],
)
def test_an_error_answer_is_exit_1_for_4xx_and_3_for_5xx_with_the_servers_detail(
    server, tmp_path, status, code, kind, json_mode
):
    server.respond = lambda received: server.error(status, f"Campaign 7 says no; key {SECRET}")
    args = ["--json"] * json_mode + ["--retries", "0", "rejections", "7"]
    result = invoke(args, env_for(server.url, tmp_path))
    assert result.exit_code == code
    assert result.stdout == ""
    message = f"{kind} (HTTP {status}): Campaign 7 says no; key ********"
    if json_mode:
        assert json.loads(result.stderr) == {"error": {"message": message, "exit_code": code, "status": status}}
    else:
        assert result.stderr == f"Error: {message}\n"
    assert server.received[0].headers["authentication-secret"] == SECRET  # sent to the API, and only there


def test_503_is_retried_then_exit_3(server, tmp_path):
    server.respond = lambda received: server.error(503, "down for maintenance", {"Retry-After": "0"})
    result = invoke(["--retries", "2", "campaigns"], env_for(server.url, tmp_path))
    assert (result.exit_code, result.stderr) == (3, "Error: the server failed (HTTP 503): down for maintenance\n")
    assert len(server.received) == 3


def test_an_unreachable_server_is_exit_3(unused_port, tmp_path):
    result = invoke(["--retries", "0", "campaigns"], env_for(f"http://127.0.0.1:{unused_port}", tmp_path))
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: cannot reach the server: ConnectError")


def test_push_reports_each_refused_chunk_and_stores_the_others(server, tmp_path):
    def respond(received):
        ids = [item["image_id"] for item in received.json()]
        if 3 in ids:
            return server.error(422, "Image 3, object 0: the bounding box lies outside the image (200x100)")
        return server.Answer(200, "ok")

    server.respond = respond
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps([{"image_id": i, "objects": []} for i in range(1, 6)]))
    result = invoke(["--json", "push", "9", labels, "--chunk-size", "2"], env_for(server.url, tmp_path))
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["stored"] == [1, 2, 5]
    assert [(f["image_ids"], f["status"]) for f in report["failed"]] == [([3, 4], 422)]
    assert report["failed"][0]["detail"] == "Image 3, object 0: the bounding box lies outside the image (200x100)"
    assert "2 of 5 image(s) not stored" in json.loads(result.stderr)["error"]["message"]
    human = invoke(["push", "9", labels, "--chunk-size", "2"], env_for(server.url, tmp_path))
    assert "Stored: 3 image(s) in campaign 9" in human.stdout
    assert "Failed: images 3, 4: refused (HTTP 422): Image 3, object 0: the bounding box" in human.stdout


def test_push_to_a_failing_server_is_exit_3(server, tmp_path):
    server.respond = lambda received: server.error(500, "Internal error")
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps([{"image_id": 1, "objects": []}]))
    result = invoke(["--retries", "0", "push", "9", labels], env_for(server.url, tmp_path))
    assert result.exit_code == 3 and "the server failed (HTTP 500): Internal error" in result.stderr


def test_not_configured_is_exit_1_with_what_to_do(tmp_path, monkeypatch):
    for name in ("LABELHUB_URL", "LABELHUB_KEY", "LABELHUB_SECRET"):
        monkeypatch.delenv(name, raising=False)
    result = invoke(["campaigns"], {"LABELHUB_CONFIG": str(tmp_path / "missing.json")})
    assert result.exit_code == 1
    assert "not configured" in result.stderr and "labelhub configure" in result.stderr


# --- against a live labelhub ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_refusals_of_a_live_labelhub_are_exit_1_with_its_detail(live_server, tmp_path):
    admin = UserFactory(is_staff=True)
    staff_key = apikey_issue(user=admin)
    agency_user = UserFactory(email="agency@example.com")
    agency_key = apikey_issue(user=agency_user)
    own = make_campaign(images=1, status=Campaign.Status.ACTIVE, labeler=agency_user)
    other = make_campaign(images=1, status=Campaign.Status.ACTIVE)
    staff_env = env_for(live_server.url, tmp_path, key=staff_key.apikey, secret=staff_key.secret)
    agency_env = env_for(live_server.url, tmp_path, key=agency_key.apikey, secret=agency_key.secret)
    secrets = (staff_key.secret, agency_key.secret)

    result = invoke(["campaigns", "activate", 999999], staff_env, secrets=secrets)
    assert (result.exit_code, result.stderr) == (1, "Error: refused (HTTP 404): Campaign 999999 not found\n")
    result = invoke(["--json", "pull", other.pk, tmp_path / "x"], agency_env, secrets=secrets)
    assert result.exit_code == 1 and json.loads(result.stderr)["error"]["status"] == 401
    result = invoke(["imagesets"], agency_env, secrets=secrets)  # staff only
    assert result.exit_code == 1 and result.stderr.startswith("Error: refused (HTTP 401): Unauthorized request")
    result = invoke(["rejections", own.pk], agency_env, secrets=secrets)
    assert (result.exit_code, result.stdout) == (0, f"No rejected images in campaign {own.pk}.\n")

    wrong = "0123456789abcdef0123456789abcdef"  # a wrong secret is a secret in use too
    for args in (["campaigns"], ["--json", "campaigns"], ["--secret", wrong, "--json", "pull", own.pk, tmp_path / "y"]):
        result = invoke(args, {**agency_env, "LABELHUB_SECRET": wrong}, secrets=(*secrets, wrong))
        assert result.exit_code == 1 and "HTTP 401" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_the_secret_in_use_is_never_printed(live_server, tmp_path):
    """Every command, for people and for scripts, successful or failing: the key's secret is nowhere."""
    admin = UserFactory(is_staff=True)
    staff_key = apikey_issue(user=admin)
    env = env_for(live_server.url, tmp_path, key=staff_key.apikey, secret=staff_key.secret)
    secrets = (staff_key.secret,)
    folder = tmp_path / "images"
    folder.mkdir()
    from imagesets.tests import samples

    (folder / "a.png").write_bytes(samples.png(20, 10))
    outputs = []
    for json_mode in (["--json"], []):
        title = f"set-{len(json_mode)}"
        steps = [
            ["imagesets", "create", title],
            ["imagesets"],
            ["campaigns"],
            ["campaigns", "create", f"campaign-{len(json_mode)}", "--labeler", f"a{len(json_mode)}@example.com"],
            ["campaigns", "activate", 123456],
            ["export", 123456, tmp_path / "export"],
            ["--secret", staff_key.secret, "imagesets"],
        ]
        for step in steps:
            result = invoke([*json_mode, *step], env, secrets=secrets)
            outputs.append((step, result.exit_code, result.stdout, result.stderr))
        if json_mode:
            set_id = json.loads(outputs[0][2])["imageset_id"]
            result = invoke(["--json", "imagesets", "upload", set_id, folder], env, secrets=secrets)
            assert result.exit_code == 0, result.stderr
            result = invoke(["imagesets", "finish", set_id, "--wait", "--poll", "0.1"], env, secrets=secrets)
            assert result.exit_code == 0, result.stderr
    assert [code for _, code, _, _ in outputs] == [0, 0, 0, 0, 1, 1, 0] * 2
    created = json.loads(outputs[3][2])["access_token"]
    assert created["apisecret"] and created["apisecret"] in outputs[3][2]  # the new agency's secret, shown once
    human = outputs[10][2]
    assert "Agency key:" in human and "Agency secret:" in human
    # --help does not show a default taken from the environment either.
    result = invoke(["--help"], env, secrets=secrets)
    assert result.exit_code == 0


def test_configure_writes_a_0600_file_and_never_echoes_the_secret(server, tmp_path):
    server.respond = lambda received: server.Answer(200, {"campaigns": [], "pagination": {"next": None}})
    path = tmp_path / "conf" / "config.json"
    result = invoke(
        ["--config", path, "configure", "--url", server.url, "--key", "k" * 32, "--check"],
        {"LABELHUB_CONFIG": str(tmp_path / "other.json")},
        input=SECRET + "\n",
    )
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text()) == {"url": server.url, "key": "k" * 32, "secret": SECRET}
    assert f"Saved {path} (mode 600) after checking the key" in result.stdout
    assert server.received[0].headers["authentication-secret"] == SECRET
    # The saved file is what later commands use.
    env = {"LABELHUB_CONFIG": str(path), "LABELHUB_URL": "", "LABELHUB_KEY": "", "LABELHUB_SECRET": ""}
    result = invoke(["--json", "campaigns"], env)
    assert (result.exit_code, json.loads(result.stdout)) == (0, {"campaigns": []})


def test_configure_check_refused_saves_nothing(server, tmp_path):
    server.respond = lambda received: server.error(401, "Unauthorized request")
    path = tmp_path / "config.json"
    result = invoke(
        ["--config", path, "configure", "--url", server.url, "--key", "k" * 32, "--check"], {}, input=SECRET + "\n"
    )
    assert result.exit_code == 1 and not path.exists()
    assert result.stderr.endswith("Error: refused (HTTP 401): Unauthorized request\n")


# --- the installed console script ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_console_script_exit_statuses(live_server, unused_port, tmp_path):
    agency_user = UserFactory(email="agency@example.com")
    issued = apikey_issue(user=agency_user)
    campaign = make_campaign(images=2, status=Campaign.Status.ACTIVE, labeler=agency_user)

    def run(*args, url=live_server.url):
        env = {**os.environ, **env_for(url, tmp_path, key=issued.apikey, secret=issued.secret)}
        done = subprocess.run([str(LABELHUB), *map(str, args)], env=env, capture_output=True, text=True, timeout=60)
        assert issued.secret not in done.stdout + done.stderr
        return done

    done = run("--json", "campaigns")
    assert done.returncode == 0, done.stderr
    assert [c["campaign_id"] for c in json.loads(done.stdout)["campaigns"]] == [campaign.pk]
    assert [c["progress"] for c in json.loads(done.stdout)["campaigns"]] == [{"done": 0, "total": 2}]
    done = run("--retries", "0", "campaigns", url=f"http://127.0.0.1:{unused_port}")
    assert done.returncode == 3 and done.stderr.startswith("Error: cannot reach the server")
    done = run("rejections", campaign.pk + 1)
    assert done.returncode == 1 and "HTTP 401" in done.stderr
    done = run("push", campaign.pk)
    assert done.returncode == 2 and "Missing argument 'FILE'" in done.stderr
