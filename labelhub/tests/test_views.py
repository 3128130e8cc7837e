"""API-wide inputs the schemathesis fuzz (labelhub/tests/test_fuzz.py) turned up."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method", ["put", "post", "patch", "delete"])
@pytest.mark.parametrize(
    "path",
    ["/api/v1/campaigns/null,null", "/api/v1/image_sets/-1/images", "/api/v1/campaigns/1.5/objects", "/api/v1/nowhere"],
)
def test_an_unsafe_method_on_an_unknown_api_path_is_a_json_404_not_a_csrf_403(admin_client, method, path):
    # The catch-all of unknown API paths is a plain Django view: CSRF protection answered
    # its PUTs and POSTs (an API client has no CSRF cookie) with an HTML 403.
    admin_client.handler.enforce_csrf_checks = True

    response = getattr(admin_client, method)(path, {"new_status": "active"}, format="json")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found", "status": 404}


@pytest.mark.parametrize("url", ["/api/v1/image_sets", "/api/v1/images", "/api/v1/campaigns"])
def test_options_answers_a_json_405(admin_client, url):
    response = admin_client.options(url)

    assert response.status_code == 405
    assert response.json()["status"] == 405


def test_the_admin_login_form_still_requires_its_csrf_token():
    # Exempting the API's 404 page must not loosen CSRF anywhere else.
    response = Client(enforce_csrf_checks=True).post("/admin/login/", {"username": "x", "password": "y"})

    assert response.status_code == 403
