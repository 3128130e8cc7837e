"""labelhub/views.py: liveness and readiness, who may read /metrics, and the API's JSON 404 and 500 pages."""

from __future__ import annotations

import os
import time

import pytest
from django.db import connection
from django.db.utils import OperationalError
from django.test import Client
from django_q.conf import Conf

from labelhub.tests.conftest import METRICS_TOKEN
from testing.azurite import connection_string, free_port

pytestmark = pytest.mark.django_db


# --- /healthz and /readyz ----------------------------------------------------------------


def test_healthz_stays_a_cheap_liveness_answer(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_is_ok_when_database_storage_and_broker_answer(client, local_storage):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "storage": "ok", "broker": "ok"}}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.azurite
def test_readyz_is_ok_on_azure_storage_that_answers(client, azure_storage):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"]["storage"] == "ok"


def test_readyz_names_the_storage_when_azure_does_not_answer(client, settings):
    settings.STORAGE_BACKEND = "azure"
    settings.AZURE_STORAGE_CONNECTION_STRING = connection_string("127.0.0.1", free_port())
    started = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - started < 3, "a refused connection is not retried with backoff"
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == 503 and "storage" in body["detail"]
    assert body["checks"] == {"database": "ok", "storage": "down", "broker": "ok"}


def test_readyz_names_the_storage_when_media_root_cannot_be_written(client, settings, tmp_path):
    # A MEDIA_ROOT below a file can never be created or written (root or not).
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings.MEDIA_ROOT = str(blocker / "media")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "storage": "down", "broker": "ok"}


def test_readyz_names_the_broker_when_redis_does_not_answer(client, local_storage, monkeypatch):
    # Q_CLUSTER is read once, at import: the broker is built from django-q2's Conf, so change that.
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", f"redis://127.0.0.1:{free_port()}/0")
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert "broker" in body["detail"]
    assert body["checks"] == {"database": "ok", "storage": "ok", "broker": "down"}


def test_readyz_is_ok_with_the_redis_broker_up(client, local_storage, monkeypatch):
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/0"))
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"]["broker"] == "ok"


def test_readyz_names_the_database_and_the_orm_broker_when_the_database_fails(client, local_storage, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    # The ORM broker is a table of that database: it is down with it.
    assert response.json()["checks"] == {"database": "down", "storage": "ok", "broker": "down"}


def test_readyz_refuses_other_methods_with_json(client):
    response = client.post("/readyz")
    assert response.status_code == 405
    assert response.json()["status"] == 405


# --- /metrics: only for the token ------------------------------------------------------


def test_metrics_are_off_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found", "status": 404}


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        f"Basic {METRICS_TOKEN}",
        "Bearer",
        "Bearer wrong-token",
        f"Bearer {METRICS_TOKEN}x",
        f"bearer {METRICS_TOKEN[:-1]}",
        "Bearer é",
    ],
)
def test_metrics_refuse_a_missing_or_wrong_bearer_token(client, metrics_token, header):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    response = client.get("/metrics", **extra)
    assert response.status_code == 401
    assert response.json()["status"] == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"labelhub_" not in response.content


# --- the API's 404 and 500 pages ------------------------------------------------------------


def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/does-not-exist")
    assert response.status_code == 404
    assert response.json()["detail"] == "Not found"


@pytest.mark.urls("labelhub.tests.urls")  # it has an endpoint that crashes
def test_unexpected_error_on_api_path_is_a_json_500_without_internals():
    response = Client(raise_request_exception=False).get("/api/v1/crash")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error", "status": 500}


def test_unknown_admin_path_stays_an_html_404(client):
    response = client.get("/not-an-api-path")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_unknown_api_path_is_json_even_with_debug_on(client, settings):
    settings.DEBUG = True
    response = client.get("/api/v2/anything")
    assert response.status_code == 404
    assert response.json()["detail"] == "Not found"


@pytest.mark.parametrize("method", ["put", "post", "patch", "delete"])
@pytest.mark.parametrize(
    "path",
    ["/api/v1/campaigns/null,null", "/api/v1/image_sets/-1/images", "/api/v1/campaigns/1.5/objects", "/api/v1/nowhere"],
)
def test_an_unsafe_method_on_an_unknown_api_path_is_a_json_404_not_a_csrf_403(admin_client, method, path):
    # Found by the fuzz (labelhub/tests/test_fuzz.py). The catch-all of unknown API paths is a
    # plain Django view: CSRF protection answered its PUTs and POSTs (an API client has no CSRF
    # cookie) with an HTML 403.
    admin_client.handler.enforce_csrf_checks = True

    response = getattr(admin_client, method)(path, {"new_status": "active"}, format="json")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found", "status": 404}


def test_the_admin_login_form_still_requires_its_csrf_token():
    # Exempting the API's 404 page from CSRF (the fuzz finding above) must not loosen it anywhere else.
    response = Client(enforce_csrf_checks=True).post("/admin/login/", {"username": "x", "password": "y"})

    assert response.status_code == 403
