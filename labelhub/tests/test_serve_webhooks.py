"""Slow webhook receivers do not stall the jobs: deliveries run on a django-q2 cluster of their own.

The repro of the audit, against ``manage.py serve`` as docs/configuration.md starts it:
an agency registers ten endpoints at a receiver that answers 200 only after
nine seconds, then labels its campaign's last image (``campaign.completed``,
ten deliveries). While those are being attempted, staff finish a one-image
set. When deliveries shared the job workers the finish job waited behind
them (45.5 s measured); now it runs at once, and each endpoint gets one
attempt at a time.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from accounts.services import apikey_issue
from accounts.tests.factories import UserFactory
from campaigns.models import Campaign
from campaigns.tests.factories import make_campaign, objects_body
from imagesets.models import ImageSetJob
from imagesets.tests import samples
from imagesets.tests.conftest import new_imageset
from labelhub.tests.test_serve import REDIS_URL, admin_headers, is_postgres, serve, server_env, wait_until
from webhooks.models import WebhookDelivery
from webhooks.services import webhook_create

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ENDPOINTS = 10
ANSWER_AFTER = 9.0  # seconds: under WEBHOOKS_TIMEOUT (10 s), so each attempt "succeeds"


class SlowReceiver:
    """Answers 200 after ``ANSWER_AFTER`` seconds; counts requests and how many were in flight at once."""

    def __init__(self):
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.in_flight = 0
        self.most_in_flight = 0
        self.paths: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.paths.append(self.path)
                    receiver.in_flight += 1
                    receiver.most_in_flight = max(receiver.most_in_flight, receiver.in_flight)
                receiver.stop.wait(ANSWER_AFTER)
                with receiver.lock:
                    receiver.in_flight -= 1
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slow_receiver(settings):
    receiver = SlowReceiver()
    # The endpoints are registered from this process: the same rules as the server's.
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    settings.WEBHOOKS_ALLOW_HTTP = True
    settings.WEBHOOKS_ALLOWED_PORTS = [receiver.port]
    settings.WEBHOOKS_MAX_PER_OWNER = ENDPOINTS
    yield receiver
    receiver.close()


def test_ten_slow_agency_endpoints_do_not_delay_a_finish_job(local_storage, settings, tmp_path, slow_receiver):
    redis_url = REDIS_URL if is_postgres() else None
    env = server_env(settings.MEDIA_ROOT, tmp_path, redis_url=redis_url) | {
        "WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "1",
        "WEBHOOKS_ALLOW_HTTP": "1",
        "WEBHOOKS_ALLOWED_PORTS": str(slow_receiver.port),
        "WEBHOOKS_MAX_PER_OWNER": str(ENDPOINTS),
        "WEBHOOKS_WORKERS": "2",
    }
    staff = admin_headers()
    agency = UserFactory(email="slow-agency@example.com")
    issued = apikey_issue(user=agency)
    agency_headers = {"Authentication-Key": issued.apikey, "Authentication-Secret": issued.secret}
    campaign = make_campaign(images=1, status=Campaign.Status.ACTIVE, labeler=agency)
    for n in range(ENDPOINTS):
        webhook_create(
            url=f"http://127.0.0.1:{slow_receiver.port}/hook-{n}", events=["campaign.completed"], owner=agency
        )
    imageset = new_imageset(UserFactory(is_staff=True), files={"only.png": samples.png(16, 12)}, storage=local_storage)

    with serve(env, tmp_path / "serve.log") as base, requests.Session() as http:
        api = f"{base}/api/v1"
        image_id = campaign.campaign_images.get().image_id
        response = http.put(
            f"{api}/campaigns/{campaign.pk}/objects", json=objects_body([image_id]), headers=agency_headers
        )
        assert response.status_code == 200, response.text
        assert WebhookDelivery.objects.filter(event__type="campaign.completed").count() == ENDPOINTS
        wait_until(lambda: slow_receiver.in_flight >= 2, timeout=20, message="the slow deliveries never started")

        started = time.monotonic()
        response = http.put(f"{api}/image_sets/{imageset.pk}", json={"new_status": "finished"}, headers=staff)
        assert (response.status_code, response.json()) == (200, "ok")
        job = wait_until(
            lambda: ImageSetJob.objects.filter(imageset=imageset, status__in=["succeeded", "failed"]).first(),
            timeout=60,
            interval=0.02,
            message="the finish job never ended",
        )
        elapsed = time.monotonic() - started
        in_flight_meanwhile = slow_receiver.in_flight

    print(f"finish job of a 1-image set while {ENDPOINTS} slow endpoints were called: {elapsed:.2f} s")
    assert job.status == "succeeded", job.error
    # With the deliveries in line before it, the job waited for them (9 s each, two at a time).
    assert elapsed < 3.0, f"the finish job took {elapsed:.1f} s"
    assert in_flight_meanwhile >= 1, "the slow deliveries were still being attempted"
    # Two webhook workers, one attempt per endpoint at a time: never more than two in flight.
    assert slow_receiver.most_in_flight <= 2
