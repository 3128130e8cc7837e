import pytest

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


@pytest.mark.urls("labelhub.urls")
def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/does-not-exist")
    assert response.status_code == 404
    assert response.json()["detail"] == "Not found"


def test_unexpected_error_on_api_path_is_a_json_500_without_internals(db):
    from django.test import Client

    response = Client(raise_request_exception=False).get("/api/v1/crash")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error", "status": 500}


@pytest.mark.urls("labelhub.urls")
def test_unknown_admin_path_stays_an_html_404(client):
    response = client.get("/not-an-api-path")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.urls("labelhub.urls")
def test_unknown_api_path_is_json_even_with_debug_on(client, settings):
    settings.DEBUG = True
    response = client.get("/api/v2/anything")
    assert response.status_code == 404
    assert response.json()["detail"] == "Not found"
