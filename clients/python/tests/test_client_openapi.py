"""The client reads and sends only what labelhub's OpenAPI document declares.

Every request of the tests against a live labelhub is checked as it is sent (the
autouse fixture ``_requests_declared_in_openapi`` in conftest.py); here: every model's
fields are fields of the answers it is read from, and the checker itself refuses what it should.
"""

from __future__ import annotations

import inspect
import json

import pytest

from labelhub_client import models

from .openapi_contract import SentRequest, openapi_document, undeclared, undeclared_reads

pytestmark = pytest.mark.django_db

# Each model read from answers -> the schema components of those answers (each branch of a oneOf: its index).
MODEL_COMPONENTS = {
    models.Progress: [("Progress", 0)],
    models.Job: [("Job", 0)],
    models.ImageSetJob: [("ImageSetJob", 0)],
    models.ImageSet: [("ImageSet", 0)],
    models.CreatedImageSet: [("ImageSetCreated", 0)],
    models.Image: [("Image", 0)],
    models.Label: [("CampaignLabel", 0)],
    models.Campaign: [("CampaignOrLabelerCampaign", 0), ("CampaignOrLabelerCampaign", 1)],
    models.CreatedCampaign: [("CampaignCreatedOutput", 0)],
    models.AccessToken: [("AccessToken", 0)],
    models.Review: [("ImageReview", 0)],
    models.CampaignImage: [("CampaignImageOutput", 0)],
    models.BoundingBox: [("BoundingBox", 0)],
    models.NewObject: [("NewObjectInput", 0)],  # also sent: every request body is checked as it is sent
    models.ExportFile: [("ExportFile", 0)],
    models.Export: [("CampaignExport", 0)],
}


@pytest.fixture
def document(live_server):
    return openapi_document(live_server.url)


def _models() -> list[type]:
    return [
        cls
        for _, cls in inspect.getmembers(models, inspect.isclass)
        if issubclass(cls, models.Model) and cls is not models.Model and cls.__module__ == models.__name__
    ]


def test_every_model_read_from_an_answer_is_mapped_to_its_schemas():
    assert set(_models()) == set(MODEL_COMPONENTS)


@pytest.mark.parametrize("model", list(MODEL_COMPONENTS), ids=lambda model: model.__name__)
def test_a_model_reads_only_fields_its_answers_declare(document, model):
    """A model read from several answers (staff's and an agency's campaign) may read what any of them declares."""
    undeclared = [
        set(undeclared_reads(document, model.from_dict, component, alternative=alternative))
        for component, alternative in MODEL_COMPONENTS[model]
    ]
    assert set.intersection(*undeclared) == set()


def test_the_field_check_notices_a_key_the_answer_does_not_have(document):
    def reads_a_typo(d):
        return d.get("campaign_id"), d.get("progres")

    assert undeclared_reads(document, reads_a_typo, "CampaignOrLabelerCampaign") == ["$.progres"]


def _put(path: str, body) -> SentRequest:
    return SentRequest("PUT", f"http://testserver/api/v1{path}", "application/json", json.dumps(body).encode())


def test_the_checker_refuses_an_unknown_operation_parameter_or_field(document):
    box = {"xmin": 1, "xmax": 2, "ymin": 1, "ymax": 2}
    ok = _put("/campaigns/3/objects", [{"image_id": 1, "objects": [{"label": "a", "bounding_box": box}]}])
    assert undeclared(document, ok) == []
    typo = _put("/campaigns/3/objects", [{"image_id": 1, "objects": [{"label": "a", "bbox": box}]}])
    assert undeclared(document, typo) == ["body field $[0].objects[0].bbox"]
    assert undeclared(document, SentRequest("GET", "http://testserver/api/v1/campaigns?sort=id", "", b"")) == [
        "query parameter 'sort'"
    ]
    assert undeclared(document, SentRequest("DELETE", "http://testserver/api/v1/campaigns/3", "", b"")) == [
        "operation DELETE /campaigns/3"
    ]
    assert undeclared(document, SentRequest("GET", "http://testserver/api/v1/campaigns?page=2", "", b"")) == []
