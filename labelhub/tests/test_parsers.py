"""The one input layer of JSON bodies: core/parsers.py, through every operation that takes one.

Every JSON-body operation refuses, before any service runs and with the contract's
``{"detail", "status"}`` body: strings that are not valid Unicode (lone surrogates, in
values and in keys), nesting deeper than ``JSON_MAX_DEPTH``, bodies over
``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413), and what is not JSON. Nothing stored changes on any
refusal, and every list keeps answering afterwards. The id and title checks behind the
parser are in test_validators.py.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from campaigns.models import Campaign
from campaigns.tests.factories import new_object
from imagesets.models import ImageSet
from labelhub.tests.conftest import API, OPERATIONS, World, call, operations, send
from testing.api import assert_error
from testing.state import stored_state

pytestmark = pytest.mark.django_db

# A high surrogate alone, a low one alone, and a pair in the wrong order: none is a character.
LONE_SURROGATES = ["\ud800", "\udfff", "\udc00\ud800"]


def assert_lists_still_answer(world: World) -> None:
    for path in ("/image_sets", "/campaigns", "/images", f"/campaigns/{world.active.pk}"):
        assert world.admin.get(f"{API}{path}").status_code == 200, path


# Where a bad string goes in a body (a value or an object key).
BAD = "<bad>"


SURROGATE_PLACES = {
    "image-set-metadata-value": ("create-image-set", {"title": "new-set", "metadata": {"note": BAD}}),
    "image-set-metadata-key": ("create-image-set", {"title": "new-set", "metadata": {BAD: 1}}),
    "image-set-metadata-nested": ("create-image-set", {"title": "new-set", "metadata": {"a": [{"b": [BAD]}]}}),
    "image-set-unknown-key": ("create-image-set", {"title": "new-set", BAD: 1}),
    "image-set-status": ("finish-image-set", {"new_status": BAD}),
    "set-images-filepath": ("add-set-images", [{"filepath": f"images/{BAD}.png"}]),
    "campaign-metadata-value": (
        "create-campaign",
        {"title": "new-campaign", "labeler_email": "new@example.com", "metadata": {"n": BAD}},
    ),
    "campaign-metadata-key": (
        "create-campaign",
        {"title": "new-campaign", "labeler_email": "new@example.com", "metadata": {BAD: "n"}},
    ),
    "label-translations-key": (
        "create-campaign",
        {"title": "new-campaign", "labeler_email": "new@example.com", "label_translations": {BAD: "PET"}},
    ),
    "label-translations-value": (
        "create-campaign",
        {"title": "new-campaign", "labeler_email": "new@example.com", "label_translations": {"PET": BAD}},
    ),
    "labeler-email": ("create-campaign", {"title": "new-campaign", "labeler_email": f"a{BAD}@example.com"}),
    "campaign-status": ("campaign-status", {"new_status": BAD}),
    "campaign-images-filepath": ("add-campaign-images", [{"filepath": BAD}]),
    "object-label": ("submit-objects", [{"image_id": "<image>", "objects": [new_object(label=BAD)]}]),
    "object-label-translated": (
        "submit-objects",
        [{"image_id": "<image>", "objects": [new_object(label_translated=BAD)]}],
    ),
    "object-key": ("submit-objects", [{"image_id": "<image>", "objects": [{**new_object(), BAD: 1}]}]),
}


def _fill(value, world: World, bad: str):
    """``value`` with BAD replaced by ``bad`` (keys too) and ``"<image>"`` by the image id."""
    if isinstance(value, dict):
        return {_fill(k, world, bad): _fill(v, world, bad) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, world, bad) for v in value]
    if value == "<image>":
        return world.image.pk
    if isinstance(value, str):
        return value.replace(BAD, bad)
    return value


# --- strings that are not valid Unicode ----------------------------------------------


@pytest.mark.parametrize("surrogate", LONE_SURROGATES, ids=["high", "low", "reversed-pair"])
@pytest.mark.parametrize("place", list(SURROGATE_PLACES))
def test_a_lone_surrogate_in_any_string_of_a_body_is_a_400_and_nothing_is_stored(world, place, surrogate):
    # Was a 500 in metadata, label_translations, filepath and labels; on SQLite the row was
    # committed first, and GET /image_sets, GET /campaigns and the campaign answered 500 for good.
    operation, body = SURROGATE_PLACES[place]
    text = json.dumps(_fill(body, world, surrogate))  # ensure_ascii: the surrogate travels as \uXXXX
    assert "\\ud" in text
    before = stored_state()

    response = call(world, operation, text)

    assert_error(response, 400, "not valid Unicode")
    assert stored_state() == before
    assert_lists_still_answer(world)


def test_a_surrogate_pair_is_an_ordinary_character_and_is_stored(world):
    body = json.dumps(
        {
            "title": "emoji",
            "labeler_email": "e@example.com",
            "metadata": {"note": "\U0001f600"},
            "label_translations": {"\U0001f600": "smile"},
        }
    )
    assert "\\ud83d\\ude00" in body

    response = send(world.admin, "post", "/campaigns", body)

    assert response.status_code == 200, response.content
    assert Campaign.objects.get(title="emoji").metadata == {"note": "\U0001f600"}
    listed = world.admin.get(f"{API}/campaigns", {"per_page": 100}).json()["campaigns"]
    assert {"note": "\U0001f600"} in [c["metadata"] for c in listed]


def test_a_surrogate_written_raw_by_a_non_utf8_charset_is_a_400(world):
    # unicode_escape is a text codec DRF accepts; it decodes \ud800 to the surrogate itself.
    before = stored_state()

    response = send(
        world.admin,
        "post",
        "/image_sets",
        b'{"title": "raw-set", "metadata": {"n": "\\ud800"}}',
        content_type="application/json; charset=unicode_escape",
    )

    assert_error(response, 400, "not valid Unicode")
    assert stored_state() == before


# --- nesting ---------------------------------------------------------------------------


def nested(depth: int, leaf=1):
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("depth", [33, 5_000, 200_000])
@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_body_nested_deeper_than_the_limit_is_a_400(world, operation, depth):
    # 5,000 and 200,000 levels were a RecursionError (500) in the parser or the NUL check.
    before = stored_state()

    response = call(world, operation, json.dumps(nested(depth)) if depth < 500 else "[" * depth + "]" * depth)

    assert_error(response, 400, "nested deeper than 32 levels")
    assert stored_state() == before


def test_metadata_nested_up_to_the_limit_is_stored_and_one_level_more_is_a_400(world):
    def body(levels):  # the body object is level 1, then ``levels`` objects of metadata
        metadata = "leaf"
        for _ in range(levels):
            metadata = {"a": metadata}
        return json.dumps({"title": f"deep-{levels}", "metadata": metadata})

    assert send(world.admin, "post", "/image_sets", body(31)).status_code == 200
    assert_error(send(world.admin, "post", "/image_sets", body(32)), 400, "nested deeper than 32 levels")
    assert list(ImageSet.objects.filter(title__startswith="deep-").values_list("title", flat=True)) == ["deep-31"]


def test_the_depth_limit_is_a_setting(world, settings):
    settings.JSON_MAX_DEPTH = 4  # an objects body is 5 deep: list, item, objects, object, bounding_box
    before = stored_state()

    response = call(world, "submit-objects", json.dumps(operations(world)["submit-objects"][3]))

    assert_error(response, 400, "nested deeper than 4 levels")
    assert stored_state() == before


# --- size --------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_body_over_the_size_limit_is_a_json_413_and_nothing_is_stored(world, settings, operation):
    # Was Django's HTML "Bad Request (400)" page (RequestDataTooBig).
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    text = json.dumps(operations(world)[operation][3])
    before = stored_state()

    response = call(world, operation, text + " " * (1001 - len(text)))

    assert_error(response, 413, "at most 1000 bytes")
    assert stored_state() == before


def test_a_body_of_exactly_the_size_limit_is_accepted(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    text = json.dumps(operations(world)["create-image-set"][3])

    response = call(world, "create-image-set", text + " " * (1000 - len(text)))

    assert response.status_code == 200, response.content


def test_the_local_dropbox_still_takes_files_larger_than_the_json_limit(world, settings, api_client):
    # Uploads stream the raw file (own limit: LOCAL_DROPBOX_MAX_FILE_SIZE), never through the JSON layer.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    created = world.admin.post(f"{API}/image_sets", {"title": "big-files"}, format="json")
    assert created.status_code == 200, created.content
    url = urlsplit(created.json()["dropbox_url"])

    response = api_client.generic(
        "PUT", f"{url.path}/big.bin?{url.query}", b"x" * 50_000, content_type="application/octet-stream"
    )

    assert response.status_code == 201, response.content


# --- what is not JSON -------------------------------------------------------------------------


@pytest.mark.parametrize("charset", ["idna", "punycode", "utf-7", "raw_unicode_escape", "utf-16", "cp1252", "nope"])
def test_an_exotic_charset_is_parsed_or_refused_never_a_500(world, charset):
    body = '{"title": "charset-set", "metadata": {"n": "\\ud800 xn--' + "a" * 80 + '"}}'

    response = send(
        world.admin, "post", "/image_sets", body.encode("latin-1"), content_type=f"application/json; charset={charset}"
    )

    assert response.status_code in (200, 400), response.content
    assert response.json()["status"] == 400 or ImageSet.objects.filter(title="charset-set").exists()


@pytest.mark.parametrize(
    "body, content_type",
    [
        pytest.param('{"title": "nan-set", "metadata": {"n": NaN}}', "application/json", id="NaN"),
        pytest.param('{"title": "nan-set", "metadata": {"n": -Infinity}}', "application/json", id="Infinity"),
        pytest.param('{"title": "nan-set", "metadata": {"n": 1e999}}', "application/json", id="float-overflow"),
        pytest.param(
            '{"title": "nan-set", "metadata": {"n": ' + "9" * 5000 + "}}", "application/json", id="5000-digit-integer"
        ),
        pytest.param(b'{"title": "nan-set", "metadata": {"n": "\xff\xfe"}}', "application/json", id="not-utf8"),
        pytest.param(
            b'{"title": "nan-set", "metadata": {"n": "\xed\xa0\x80"}}', "application/json", id="utf8-encoded-surrogate"
        ),
        pytest.param('{"title": "nan-set"', "application/json", id="truncated"),
        pytest.param('{"title": "nan-set"}', "application/json; charset=bz2_codec", id="bytes-codec"),
    ],
)
def test_a_body_that_is_not_json_is_a_400_and_nothing_is_stored(world, body, content_type):
    before = stored_state()

    response = send(world.admin, "post", "/image_sets", body, content_type=content_type)

    assert_error(response, 400)
    assert stored_state() == before
    assert_lists_still_answer(world)
