import pytest
from django.core.exceptions import RequestDataTooBig

from core.exceptions import exception_handler

pytestmark = [pytest.mark.django_db, pytest.mark.urls("labelhub.tests.urls")]


@pytest.mark.parametrize(
    "path, status, detail",
    [
        ("/api/v1/not-found", 404, "Unknown image provided"),
        ("/api/v1/conflict", 409, "Title already exists"),
        ("/api/v1/invalid-name", 422, "Invalid name"),
        ("/api/v1/django-validation", 400, "bad value"),
        ("/api/v1/storage-down", 503, "Storage is unavailable, please try again later"),
    ],
)
def test_errors_become_contract_bodies(api_client, path, status, detail):
    response = api_client.get(path)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": detail, "status": status}


def test_malformed_json_is_a_400_with_detail(api_client):
    response = api_client.post("/api/v1/echo", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_wrong_content_type_is_a_415_with_detail(api_client):
    response = api_client.post("/api/v1/echo", data="title=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.json()["detail"]


def test_field_errors_are_a_400_naming_the_fields(api_client):
    response = api_client.post("/api/v1/echo", data={"count": 0}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert "title" in body["detail"] and "count" in body["detail"]
    assert set(body["errors"]) == {"title", "count"}


def test_wrong_method_is_a_405_with_detail(api_client):
    response = api_client.delete("/api/v1/echo")
    assert response.status_code == 405
    assert response.json()["detail"] == 'Method "DELETE" not allowed.'


def test_djangos_own_size_refusal_is_a_json_413_too():
    response = exception_handler(RequestDataTooBig("too big"), {})

    assert response.status_code == 413
    assert response.data["status"] == 413 and "too large" in response.data["detail"]
