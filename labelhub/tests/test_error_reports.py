"""Error reports (core/error_reports.py) sent to a local stand-in for Sentry: what arrives, and no secret."""

from __future__ import annotations

import gzip
import json
import logging
import os
import secrets
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import sentry_sdk
from django.conf import settings
from django.urls import path
from django.utils import timezone
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from campaigns.models import CampaignJob
from campaigns.tests.export_data import make_exportable_campaign
from core import error_reports, jobs
from imagesets.models import ImageSetJob
from imagesets.tests import samples
from imagesets.tests.conftest import finish_and_run, new_imageset
from integrations.storage import StorageError

pytestmark = pytest.mark.django_db

BASE_DIR = settings.BASE_DIR


# --- the receiver standing in for Sentry -------------------------------------------------------


class Receiver:
    """An HTTP server on 127.0.0.1 keeping every envelope sentry-sdk posts, decompressed."""

    def __init__(self):
        self.envelopes: list[bytes] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding:
                    raise AssertionError(f"unexpected Content-Encoding {encoding}")
                if self.path == "/api/1/envelope/":
                    receiver.envelopes.append(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.dsn = f"http://public@127.0.0.1:{self.server.server_port}/1"

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def raw(self) -> bytes:
        sentry_sdk.flush(timeout=5)
        return b"\n".join(self.envelopes)

    def events(self) -> list[dict]:
        sentry_sdk.flush(timeout=5)
        return [json.loads(payload) for body in self.envelopes for kind, payload in _items(body) if kind == "event"]


def _items(envelope: bytes) -> list[tuple[str, bytes]]:
    """(type, payload) of each item: a header line, then each item's header line and its payload."""
    _, _, rest = envelope.partition(b"\n")
    items = []
    while rest.strip():
        header_line, _, rest = rest.partition(b"\n")
        header = json.loads(header_line)
        if "length" in header:
            payload, rest = rest[: header["length"]], rest[header["length"] + 1 :]
        else:
            payload, _, rest = rest.partition(b"\n")
        items.append((header["type"], payload))
    return items


# Secrets configured the way settings hands them to error_reports_init.
METRICS_TOKEN = "metrics-" + secrets.token_hex(12)


@pytest.fixture
def sentry(monkeypatch):
    """Reporting on, to a local receiver, as settings turns it on; off again afterwards (sentry-sdk is global)."""
    receiver = Receiver()
    monkeypatch.setattr(error_reports, "_enabled", False)
    monkeypatch.setattr(error_reports, "_known_secrets", ())
    with sentry_sdk.isolation_scope():
        error_reports.error_reports_init(
            dsn=receiver.dsn,
            environment="test-namespace",
            release="0123abcd",
            server_name="test-host",
            secrets=[settings.SECRET_KEY, METRICS_TOKEN],
        )
        yield receiver
        sentry_sdk.flush(timeout=5)
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)
    receiver.close()


def assert_absent(raw: bytes, secret_values: list[str]) -> None:
    leaked = [value for value in secret_values if value.encode() in raw]
    assert not leaked, f"sent to Sentry: {leaked}"


# --- an unhandled exception in a request -------------------------------------------------------


def _sign(payload: str, key: str) -> str:
    raise RuntimeError(f"cannot sign {payload}")


class UploadView(APIView):
    """Fails the way a bug would, with secrets in its request, its locals and its error message."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def post(self, request):
        body = request.data
        logging.getLogger("integrations.storage").warning("upload to %s refused, retrying", body["upload_url"])
        try:
            # The key under a name that says nothing: absent only because locals are not sent.
            _sign(body["upload_url"], key=request.headers["Authentication-Secret"][::-1])
        except RuntimeError as exc:
            raise RuntimeError(
                f"upload to {body['upload_url']} with {body['connection']} failed; "
                f"webhook {body['webhook']['secret']}, settings key {settings.SECRET_KEY}"
            ) from exc


urlpatterns = [path("api/v1/upload", UploadView.as_view())]
handler500 = "labelhub.views.server_error"


@pytest.mark.urls(__name__)
def test_an_exception_in_a_view_is_reported_with_its_request_and_without_a_secret(sentry, live_server):
    api_key, api_secret = secrets.token_hex(16), secrets.token_hex(16)
    query_sig, url_sig = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    account_key, db_password = secrets.token_hex(32), secrets.token_hex(10)
    session_id, csrf_token = secrets.token_hex(16), secrets.token_hex(16)
    webhook_secret, other_webhook_secret = "whsec_" + secrets.token_hex(20), "whsec_" + secrets.token_hex(20)
    connection = f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={account_key};EndpointSuffix=x.net"
    body = {
        "upload_url": f"https://acct.blob.core.windows.net/images/a.png?sv=2025-01-05&sr=b&sig={url_sig}",
        "connection": connection,
        "webhook": {"url": "https://hooks.example.com/labelhub", "secret": webhook_secret},
        "note": f"rotate {other_webhook_secret}, move postgres://labelhub:{db_password}@db:5432/labelhub",
    }

    # Through the WSGI application, as gunicorn serves it.
    response = requests.post(
        f"{live_server.url}/api/v1/upload?sv=2025-01-05&sig={query_sig}",
        json=body,
        headers={
            "Authentication-Key": api_key,
            "Authentication-Secret": api_secret,
            "Authorization": f"Bearer {METRICS_TOKEN}",
            "Cookie": f"sessionid={session_id}; csrftoken={csrf_token}",
        },
        timeout=10,
    )

    assert response.status_code == 500
    [event] = sentry.events()
    [cause, error] = event["exception"]["values"]
    assert (cause["type"], error["type"]) == ("RuntimeError", "RuntimeError")
    assert "upload to https://acct.blob.core.windows.net/images/a.png?sv=2025-01-05&sr=b&sig=" in error["value"]
    assert event["request"]["url"] == f"{live_server.url}/api/v1/upload"
    assert event["request"]["method"] == "POST"
    assert "sv=2025-01-05" in event["request"]["query_string"]
    # Headers and the body are sent (the key too): what is missing was scrubbed.
    assert event["request"]["headers"]["Authentication-Key"] == api_key
    assert event["request"]["data"]["webhook"]["url"] == "https://hooks.example.com/labelhub"
    # The log line before the error is a breadcrumb, scrubbed too, its time still a time.
    [retry] = [crumb for crumb in event["breadcrumbs"]["values"] if crumb.get("category") == "integrations.storage"]
    assert retry["message"].startswith("upload to https://acct.blob.core.windows.net/images/a.png?sv=2025-01-05")
    assert datetime.fromisoformat(retry["timestamp"].replace("Z", "+00:00")) <= datetime.now(UTC)
    assert (event["environment"], event["release"], event["server_name"]) == ("test-namespace", "0123abcd", "test-host")
    assert_absent(
        sentry.raw(),
        [
            api_secret,
            api_secret[::-1],
            query_sig,
            url_sig,
            account_key,
            connection,
            webhook_secret,
            other_webhook_secret,
            db_password,
            session_id,
            csrf_token,
            METRICS_TOKEN,
            settings.SECRET_KEY,
        ],
    )
    assert all("vars" not in frame for frame in error["stacktrace"]["frames"])


# --- failed jobs -------------------------------------------------------------------------------


def dead_pid() -> int:
    """The pid of a process of this host that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_failing_job_is_reported_once_tagged_with_its_kind_and_id_and_without_a_secret(
    sentry, local_storage, admin_user, monkeypatch, django_capture_on_commit_callbacks
):
    sig, account_key = secrets.token_urlsafe(24), secrets.token_hex(32)
    imageset = new_imageset(admin_user, files={"a.png": samples.png()}, storage=local_storage)

    def broken_copy(source, destination):
        raise StorageError(
            f"copy from https://acct.blob.core.windows.net/dropbox/a.png?sv=2025-01-05&sig={sig} refused "
            f"(DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={account_key})"
        )

    monkeypatch.setattr(local_storage, "copy", broken_copy)
    # Through the queue, as the API starts it: the task runs on commit (sync mode) and fails.
    finish_and_run(imageset, django_capture_on_commit_callbacks)

    job = ImageSetJob.objects.get(imageset=imageset)
    assert job.status == "failed"
    # One event: the job's log line and the re-raise reach sentry-sdk too, as duplicates.
    [event] = sentry.events()
    assert event["exception"]["values"][-1]["type"] == "StorageError"
    assert event["tags"] == {"job_kind": "imageset_finish", "job_id": str(job.pk), "imageset_id": str(imageset.pk)}
    assert event["contexts"]["job"]["attempts"] == 1
    assert_absent(sentry.raw(), [sig, account_key])


def test_a_job_given_up_after_losing_its_worker_is_reported(sentry, local_storage, settings):
    settings.JOBS_MAX_ATTEMPTS = 2
    campaign, _ = make_exportable_campaign()
    job = CampaignJob.objects.create(
        campaign=campaign,
        status="running",
        attempts=2,
        heartbeat_at=timezone.now(),
        date_started=timezone.now(),
        worker=f"{os.uname().nodename}:{dead_pid()}",
    )

    assert jobs.job_sweep()["failed"] == 1

    [event] = sentry.events()
    assert event["level"] == "error"
    assert event["message"].startswith(f"campaign_export job {job.pk} failed: Gave up after 2 attempts")
    assert event["tags"] == {"job_kind": "campaign_export", "job_id": str(job.pk), "campaign_id": str(campaign.pk)}


def test_django_q_failure_line_of_a_job_task_is_not_a_second_report_but_of_another_task_is(sentry):
    # What django-q2's monitor logs when a task raised (the job's own report came from the worker).
    django_q = logging.getLogger("django-q")
    django_q.error("Failed 'imagesets.tasks.imageset_finish_run' (imageset_finish-7) - StorageError: down")
    django_q.error("Failed 'webhooks.tasks.webhook_delivery_send' (oscar-nine) - ValueError: bug")

    [event] = sentry.events()
    assert "webhook_delivery_send" in event["logentry"]["message"]


def test_without_a_revision_or_version_reports_carry_no_release_and_the_host_name(sentry):
    # sentry-sdk would guess a release (SENTRY_RELEASE, this checkout's git commit): a wrong one is worse than none.
    error_reports.error_reports_init(dsn=sentry.dsn, environment="production", release=None, server_name=None)
    sentry_sdk.capture_message("something to report")

    [event] = sentry.events()
    assert "release" not in event
    assert event["server_name"] == socket.gethostname()


# --- off without SENTRY_DSN; settings wires the deployment's names -----------------------------

_REPORT = """
import json, sys
from django.conf import settings
settings.SECRET_KEY  # settings are read: with SENTRY_DSN, reporting starts here
if FULL_START:
    import django
    django.setup()
    import core.jobs, labelhub.urls
loaded = "sentry_sdk" in sys.modules
client = sys.modules["sentry_sdk"].get_client() if loaded else None
options = client.options if client is not None and client.is_active() else None
if options is not None:
    options = {
        **{key: options[key] for key in ("dsn", "environment", "release", "server_name")},
        "user_info": options["data_collection"]["user_info"],
        "locals": options["data_collection"]["stack_frame_variables"],
    }
print(json.dumps({"imported": loaded, "options": options}))
"""


def _start(*, full: bool = False, **environment: str) -> subprocess.Popen:
    """A new process reading settings with ``environment`` (SENTRY_* and LABELHUB_* only from it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "LABELHUB_"))}
    env.update(environment, DJANGO_SETTINGS_MODULE="labelhub.settings")
    script = f"FULL_START = {full}\n{_REPORT}"
    return subprocess.Popen(
        [sys.executable, "-c", script], cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _report(process: subprocess.Popen) -> dict:
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    return json.loads(stdout.strip().splitlines()[-1])


def test_without_sentry_dsn_sentry_sdk_is_not_even_imported():
    assert _report(_start(full=True)) == {"imported": False, "options": None}


def test_with_sentry_dsn_reports_carry_the_deployments_revision_namespace_and_server():
    dsn = "http://public@127.0.0.1:9/1"
    # Side by side: each process spends its time starting up.
    deployed = _start(
        SENTRY_DSN=dsn,
        LABELHUB_REVISION="9f8e7d6c",
        LABELHUB_VERSION="1.4.0",
        SENTRY_ENVIRONMENT="labelhub-staging",
        SENTRY_SERVER_NAME="web-7f9c",
    )
    defaults = _start(SENTRY_DSN=dsn, LABELHUB_VERSION="1.4.0")

    assert _report(deployed)["options"] == {
        "dsn": dsn,
        "environment": "labelhub-staging",
        "release": "9f8e7d6c",
        "server_name": "web-7f9c",
        "user_info": False,
        "locals": False,
    }
    options = _report(defaults)["options"]
    assert (options["environment"], options["release"], options["server_name"]) == (
        "production",
        "1.4.0",
        socket.gethostname(),
    )
