"""The bulk bodies' plain-Python parsers say what the OpenAPI document says.

A small body is declared once, by its input serializer (the document and the checks
both come from it). The bulk bodies (objects, predictions, reviews, image references:
up to 10,000 items) are parsed in plain Python for speed and only described by
serializers, so here each example body goes through the parser the view calls AND is
validated against the request schema the document publishes for that operation
(drf-spectacular's ``SchemaGenerator``, OpenAPI 3.0 read as JSON Schema by
``jsonschema``). They must agree: a body the schema calls valid is parsed, one it calls
invalid is refused with a 400, 413 or 422. The only exceptions are the rules a JSON
Schema cannot state (``CANNOT_STATE``: one field against another, a key unique across
items, ...) and the item counts (``COUNT_LIMITS``), each with its reason; the parser must
refuse those bodies with the status and detail named there. (What needs stored data, an
image of the campaign, its size, the campaign's labels, is the services' and is not
parsed here at all.)
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass

import jsonschema
import pytest

from campaigns.inputs import parse_gold_items, parse_object_delivery, parse_review_items
from campaigns.models import LABEL_MAX_LENGTH
from campaigns.predictions import parse_predictions
from core.exceptions import ApplicationError
from core.validators import COORDINATE_MAX
from imagesets.inputs import parse_image_refs

OBJECTS = ("put", "/campaigns/{campaign_id}/objects")
PREDICTIONS = ("put", "/campaigns/{campaign_id}/predictions")
REVIEWS = ("put", "/campaigns/{campaign_id}/reviews")
CAMPAIGN_IMAGES = ("post", "/campaigns/{campaign_id}/images")
IMAGESET_IMAGES = ("post", "/image_sets/{imageset_id}/images")
GOLD = ("put", "/campaigns/{campaign_id}/gold")

PARSERS = {
    OBJECTS: parse_object_delivery,
    PREDICTIONS: parse_predictions,
    REVIEWS: parse_review_items,
    CAMPAIGN_IMAGES: parse_image_refs,
    IMAGESET_IMAGES: parse_image_refs,
    GOLD: parse_gold_items,
}


@dataclass(frozen=True)
class Rule:
    """A refusal of a body the schema calls valid: its status, the start of its detail (a regular expression), why."""

    status: int
    detail: str
    why: str


ACCEPTED, REFUSED = "accepted", "refused"

_BOX_ORDER = Rule(
    422, r"Image \d+, object \d+: 'bounding_box\.[xy]min' must not be greater than", "xmin <= xmax: two fields"
)
_LISTED_TWICE = Rule(400, r"Image \d+ is listed more than once", "uniqueItems compares whole items, not one key")
_INTEGER_SPELLING = Rule(
    400,
    r"(Item \d+: )?'(image_id|id)' (is required and )?must be an integer",
    "JSON Schema's integer is a number with no fraction, 1.0 included; an id must be written 1",
)
CANNOT_STATE = {
    "box order": _BOX_ORDER,
    "image listed twice": _LISTED_TWICE,
    "integer spelling": _INTEGER_SPELLING,
    "rejection without a reason": Rule(
        422, r"Image \d+: a rejection needs a 'reason'", "a reason is required when decision is rejected: two fields"
    ),
    "reason length after stripping": Rule(
        422,
        r"Image \d+: 'reason' must be at most 2000 characters",
        "at most 2000 characters once surrounding whitespace is stripped: maxLength counts the raw string "
        "(the schema says it in the field's description)",
    ),
}
COUNT_LIMITS = {
    "images per request": Rule(
        413,
        r"Too many images in one request",
        "IMAGES_PER_REQUEST_MAX (a setting) is stated in the operation's 413 answer, not as maxItems "
        "(a fuzzer would build 10,001-item bodies to break it)",
    ),
    "objects per image": Rule(
        422,
        r"Image \d+: \d+ objects, at most \d+ per image",
        "OBJECTS_PER_IMAGE_MAX (a setting) is stated in the operation's 422 answer, not as maxItems",
    ),
}


def box(**fields):
    return {"xmin": 1, "xmax": 20, "ymin": 2, "ymax": 30, **fields}


def obj(**fields):
    return {"label": "Plastic", "bounding_box": box(), **fields}


def image(image_id=1, objects=None):
    return {"image_id": image_id, "objects": [obj()] if objects is None else objects}


def without(mapping, key):
    return {k: v for k, v in mapping.items() if k != key}


# (body, verdict): the objects' examples; predictions take each as their "items" too.
OBJECT_EXAMPLES = [
    ([], ACCEPTED),
    ([image()], ACCEPTED),
    ([image(objects=[])], ACCEPTED),  # labeled, nothing found
    ([image(1), image(2, [obj(), obj(label="PET")])], ACCEPTED),
    ([image(-5)], ACCEPTED),  # any integer: an id that names no image is the service's 404
    ([image(2**63)], ACCEPTED),
    ([{**image(), "note": "extra keys are ignored"}], ACCEPTED),
    ([image(objects=[obj(label="x" * LABEL_MAX_LENGTH)])], ACCEPTED),
    ([image(objects=[obj(label_translated=None, confidence=None)])], ACCEPTED),
    ([image(objects=[obj(label_translated="PET", confidence=0)])], ACCEPTED),
    ([image(objects=[obj(confidence=1)])], ACCEPTED),
    ([image(objects=[obj(confidence=0.56)])], ACCEPTED),
    ([image(objects=[obj(bounding_box=box(xmin=0, xmax=0, ymin=0, ymax=0))])], ACCEPTED),
    ([image(objects=[obj(bounding_box=box(xmax=COORDINATE_MAX, ymax=COORDINATE_MAX))])], ACCEPTED),
    ([image(objects=[obj(bounding_box=box(xmin=12.0))])], ACCEPTED),  # 12.0 is the integer 12
    ({}, REFUSED),
    (None, REFUSED),
    ("[]", REFUSED),
    (["x"], REFUSED),
    ([without(image(), "image_id")], REFUSED),
    ([image("1")], REFUSED),
    ([image(True)], REFUSED),
    ([image(None)], REFUSED),
    ([without(image(), "objects")], REFUSED),
    ([{"image_id": 1, "objects": None}], REFUSED),
    ([{"image_id": 1, "objects": {}}], REFUSED),
    ([image(objects=["x"])], REFUSED),
    ([image(objects=[without(obj(), "label")])], REFUSED),
    ([image(objects=[obj(label=None)])], REFUSED),
    ([image(objects=[obj(label=5)])], REFUSED),
    ([image(objects=[obj(label="")])], REFUSED),
    ([image(objects=[obj(label="x" * (LABEL_MAX_LENGTH + 1))])], REFUSED),
    ([image(objects=[obj(label="nul\x00")])], REFUSED),
    ([image(objects=[obj(label_translated="")])], REFUSED),
    ([image(objects=[obj(label_translated=5)])], REFUSED),
    ([image(objects=[obj(label_translated="x" * (LABEL_MAX_LENGTH + 1))])], REFUSED),
    ([image(objects=[obj(label_translated="nul\x00")])], REFUSED),
    ([image(objects=[obj(confidence="0.5")])], REFUSED),
    ([image(objects=[obj(confidence=True)])], REFUSED),
    ([image(objects=[obj(confidence=-0.01)])], REFUSED),
    ([image(objects=[obj(confidence=1.01)])], REFUSED),
    ([image(objects=[without(obj(), "bounding_box")])], REFUSED),
    ([image(objects=[obj(bounding_box=None)])], REFUSED),
    ([image(objects=[obj(bounding_box=[1, 2, 3, 4])])], REFUSED),
    ([image(objects=[obj(bounding_box=without(box(), "ymax"))])], REFUSED),
    ([image(objects=[obj(bounding_box=box(xmin=-1))])], REFUSED),
    ([image(objects=[obj(bounding_box=box(xmax=COORDINATE_MAX + 1))])], REFUSED),
    ([image(objects=[obj(bounding_box=box(ymin=1.5))])], REFUSED),
    ([image(objects=[obj(bounding_box=box(xmin="1"))])], REFUSED),
    ([image(objects=[obj(bounding_box=box(xmin=True))])], REFUSED),
    ([image(objects=[obj(bounding_box=box(xmin=30, xmax=20))])], CANNOT_STATE["box order"]),
    ([image(objects=[obj(bounding_box=box(ymin=31, ymax=30))])], CANNOT_STATE["box order"]),
    ([image(1), image(1)], CANNOT_STATE["image listed twice"]),
    ([image(1.0)], CANNOT_STATE["integer spelling"]),
    ([image(i) for i in range(4)], COUNT_LIMITS["images per request"]),
    ([image(objects=[obj(), obj(), obj()])], COUNT_LIMITS["objects per image"]),
]

# The objects' own: an image's annotator (the predictions' items have none: any key there is ignored).
ANNOTATOR_EXAMPLES = [
    ([{**image(), "annotator": "w17"}], ACCEPTED),
    ([{**image(), "annotator": None}], ACCEPTED),
    ([{**image(), "annotator": "team-b.worker_0042:night"}], ACCEPTED),
    ([{**image(), "annotator": "x" * 64}], ACCEPTED),
    ([{**image(1), "annotator": "a"}, {**image(2), "annotator": "b"}, image(3, [])], ACCEPTED),
    ([{**image(), "annotator": ""}], REFUSED),
    ([{**image(), "annotator": "x" * 65}], REFUSED),
    ([{**image(), "annotator": 17}], REFUSED),
    ([{**image(), "annotator": ["w17"]}], REFUSED),
    ([{**image(), "annotator": "worker 17"}], REFUSED),
    ([{**image(), "annotator": "-w17"}], REFUSED),
    ([{**image(), "annotator": "wörker"}], REFUSED),
    ([{**image(), "annotator": "jane.doe@example.com"}], REFUSED),
    ([{**image(), "annotator": "nul\x00"}], REFUSED),
]

MODEL = {"name": "detector", "version": "2024-06"}
PREDICTION_EXAMPLES = [
    *(({"model": MODEL, "items": items}, verdict) for items, verdict in OBJECT_EXAMPLES),
    ({"model": {"name": "detector"}, "items": []}, ACCEPTED),
    ({"model": {"name": "detector", "version": None}, "items": []}, ACCEPTED),
    ({"model": {"name": "x" * LABEL_MAX_LENGTH, "version": "x" * LABEL_MAX_LENGTH}, "items": []}, ACCEPTED),
    ([], REFUSED),
    ({"items": []}, REFUSED),
    ({"model": None, "items": []}, REFUSED),
    ({"model": "detector", "items": []}, REFUSED),
    ({"model": {}, "items": []}, REFUSED),
    ({"model": {"name": None}, "items": []}, REFUSED),
    ({"model": {"name": 5}, "items": []}, REFUSED),
    ({"model": {"name": ""}, "items": []}, REFUSED),
    ({"model": {"name": "x" * (LABEL_MAX_LENGTH + 1)}, "items": []}, REFUSED),
    ({"model": {"name": "nul\x00"}, "items": []}, REFUSED),
    ({"model": {"name": "detector", "version": ""}, "items": []}, REFUSED),
    ({"model": {"name": "detector", "version": 2}, "items": []}, REFUSED),
    ({"model": {"name": "detector", "version": "nul\x00"}, "items": []}, REFUSED),
    ({"model": MODEL}, REFUSED),
    ({"model": MODEL, "items": None}, REFUSED),
    ({"model": MODEL, "items": {}}, REFUSED),
]


# A gold body holds the objects' items under "items" (an item's annotator, like any other key, is ignored).
GOLD_EXAMPLES = [
    *(({"items": items}, verdict) for items, verdict in OBJECT_EXAMPLES),
    ({"items": [{**image(), "annotator": "w17"}]}, ACCEPTED),
    ({"items": [], "note": "extra keys are ignored"}, ACCEPTED),
    ([], REFUSED),
    ([image()], REFUSED),
    ({}, REFUSED),
    ({"items": None}, REFUSED),
    ({"items": {}}, REFUSED),
]


def decision(image_id=1, verdict="accepted", **fields):
    return {"image_id": image_id, "decision": verdict, **fields}


REVIEW_EXAMPLES = [
    ([], ACCEPTED),
    ([decision()], ACCEPTED),
    ([decision(reason=None, reason_code=None, submission_id=None)], ACCEPTED),
    ([decision(verdict="rejected", reason="box too loose")], ACCEPTED),
    ([decision(verdict="rejected", reason_code="loose-box")], ACCEPTED),
    ([decision(verdict="rejected", reason="see code", reason_code="other", submission_id=7)], ACCEPTED),
    ([decision(reason="", reason_code="")], ACCEPTED),
    ([decision(reason="x" * 2000)], ACCEPTED),
    ([decision(reason=" " * 3000)], ACCEPTED),  # stripped: no reason, and accepted needs none
    ([decision(1), decision(2, "rejected", reason="r")], ACCEPTED),
    ([{**decision(), "note": "extra keys are ignored"}], ACCEPTED),
    ({}, REFUSED),
    (None, REFUSED),
    (["x"], REFUSED),
    ([without(decision(), "image_id")], REFUSED),
    ([decision("1")], REFUSED),
    ([decision(None)], REFUSED),
    ([without(decision(), "decision")], REFUSED),
    ([decision(verdict="accept")], REFUSED),
    ([decision(verdict=None)], REFUSED),
    ([decision(reason=5)], REFUSED),
    ([decision(reason="nul\x00")], REFUSED),
    ([decision(reason_code="no-such-code")], REFUSED),
    ([decision(reason_code=5)], REFUSED),
    ([decision(submission_id="7")], REFUSED),
    ([decision(submission_id=1.5)], REFUSED),
    ([decision(verdict="rejected")], CANNOT_STATE["rejection without a reason"]),
    ([decision(verdict="rejected", reason="  ", reason_code="")], CANNOT_STATE["rejection without a reason"]),
    ([decision(reason="x" * 2001)], CANNOT_STATE["reason length after stripping"]),
    ([decision(1), decision(1)], CANNOT_STATE["image listed twice"]),
    ([decision(1.0)], CANNOT_STATE["integer spelling"]),
    ([decision(i) for i in range(4)], COUNT_LIMITS["images per request"]),
]

IMAGE_REF_EXAMPLES = [
    ([], ACCEPTED),
    ([{"id": 1}, {"filepath": "container/folder/set/a.png"}], ACCEPTED),
    ([{"id": 1}, {"id": 1}], ACCEPTED),  # listed twice: added once
    ([{"id": -1}], ACCEPTED),  # names no image: the service's 404
    ([{"id": 1, "note": "extra keys are ignored"}], ACCEPTED),
    ({}, REFUSED),
    ([{}], REFUSED),
    (["x"], REFUSED),
    ([{"id": 1, "filepath": "a.png"}], REFUSED),
    ([{"id": "1"}], REFUSED),
    ([{"id": None}], REFUSED),
    ([{"filepath": ""}], REFUSED),
    ([{"filepath": 5}], REFUSED),
    ([{"id": 1.0}], CANNOT_STATE["integer spelling"]),
    ([{"id": i} for i in range(4)], COUNT_LIMITS["images per request"]),
]

EXAMPLES = {
    OBJECTS: OBJECT_EXAMPLES + ANNOTATOR_EXAMPLES,
    PREDICTIONS: PREDICTION_EXAMPLES,
    REVIEWS: REVIEW_EXAMPLES,
    CAMPAIGN_IMAGES: IMAGE_REF_EXAMPLES,
    IMAGESET_IMAGES: IMAGE_REF_EXAMPLES,
    GOLD: GOLD_EXAMPLES,
}


# --- the published request schemas, as JSON Schema ----------------------------------------------


def as_json_schema(node):
    """OpenAPI 3.0's ``nullable`` as JSON Schema's null type; everything else is already JSON Schema."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: as_json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


@pytest.fixture(scope="module")
def document():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def request_validator(document, operation) -> jsonschema.Validator:
    method, path = operation
    schema = document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    root = {**as_json_schema(schema), "components": as_json_schema(document["components"])}
    return jsonschema.Draft202012Validator(root)


def parse(operation, body):
    """The parser's verdict: ``None`` when it accepts the body, else the error it raised."""
    try:
        PARSERS[operation](copy.deepcopy(body))
    except ApplicationError as error:
        return error
    return None


# Low limits, so a body over them stays small.
@pytest.fixture(autouse=True)
def _small_limits(settings):
    settings.IMAGES_PER_REQUEST_MAX = 3
    settings.OBJECTS_PER_IMAGE_MAX = 2


@pytest.mark.parametrize(
    "operation, body, verdict",
    [
        pytest.param(operation, body, verdict, id=f"{operation[0]} {operation[1]} #{index}")
        for operation, examples in EXAMPLES.items()
        for index, (body, verdict) in enumerate(examples)
    ],
)
def test_the_parser_and_the_published_schema_agree_on_each_example(document, operation, body, verdict):
    schema_errors = [error.message for error in request_validator(document, operation).iter_errors(body)]
    error = parse(operation, body)

    if verdict == ACCEPTED:
        assert schema_errors == [], "the schema refuses a body the parser takes"
        assert error is None, f"the parser refuses a body the schema takes: {error.status_code} {error.detail}"
    elif verdict == REFUSED:
        assert schema_errors, "the schema takes a body the parser refuses"
        assert error is not None, "the parser takes a body the schema refuses"
        assert error.status_code in (400, 413, 422), error.detail
    else:  # a rule the schema cannot state, or a count limit: the schema takes it, the parser does not
        assert schema_errors == [], f"the schema states this rule after all: update the examples ({verdict.why})"
        assert error is not None, f"the parser no longer refuses it: {verdict.why}"
        assert error.status_code == verdict.status and re.match(verdict.detail, error.detail), error.detail


def test_every_rule_the_schema_cannot_state_has_an_example():
    used = {verdict for examples in EXAMPLES.values() for _, verdict in examples}
    assert set(CANNOT_STATE.values()) | set(COUNT_LIMITS.values()) <= used


def test_the_count_limits_are_stated_in_the_operations_answers(document):
    for operation in (OBJECTS, PREDICTIONS, REVIEWS, CAMPAIGN_IMAGES, IMAGESET_IMAGES):
        method, path = operation
        assert "IMAGES_PER_REQUEST_MAX" in document["paths"][path][method]["responses"]["413"]["description"]
    # (The predictions' 422 refers to the objects' body: "as for PUT /campaigns/{id}/objects".)
    method, path = OBJECTS
    assert "OBJECTS_PER_IMAGE_MAX" in document["paths"][path][method]["responses"]["422"]["description"]
