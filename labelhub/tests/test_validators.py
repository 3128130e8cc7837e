"""The shared checks of core/validators.py: on their own, at every endpoint, and for the admin.

At every endpoint that takes an image id or a title: ids are JSON integers only (``"1"``, ``1.0``
and ``true`` are a 400), an integer naming no row, whatever its size, is the contract's 404, and a
title with a newline is a 422; nothing stored changes. Callers that do not come through the JSON
parser (the admin) get the same metadata and label-translation checks.
"""

import json

import pytest

from campaigns.inputs import validate_label_translations
from core.exceptions import BadRequest, InvalidName
from core.validators import (
    ID_MAX,
    contains_nul,
    has_surrogate,
    is_json_int,
    is_valid_id,
    json_problem,
    validate_metadata,
    validate_title,
)
from labelhub.tests.conftest import API, World, call
from testing.api import assert_error
from testing.state import stored_state


def nested(depth: int, leaf):
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


@pytest.mark.parametrize("depth", [10, 100_000])
def test_the_nul_check_answers_at_any_depth(depth):
    # Recursive, it raised RecursionError (a 500) past ~1000 levels.
    assert contains_nul(nested(depth, "a\x00b")) is True
    assert contains_nul(nested(depth, "ab")) is False


def test_the_nul_check_looks_at_keys_too():
    assert contains_nul({"ok": [{"a\x00": 1}]}) is True
    assert contains_nul({"ok": [{"a": 1}], "n": None, "f": 1.5}) is False


@pytest.mark.parametrize("value, depth", [(1, 0), ("s", 0), ([], 1), ({}, 1), ([[1]], 2), ({"a": [{"b": []}]}, 4)])
def test_the_depth_counts_each_list_and_object_as_one_level(value, depth):
    assert json_problem(value, max_depth=depth) is None
    if depth:
        assert json_problem(value, max_depth=depth - 1) == f"is nested deeper than {depth - 1} levels"


@pytest.mark.parametrize("value", [["\ud800"], {"\udfff": 1}, {"a": ["x", {"b": "ok\udc00\ud800"}]}, "\ud800"])
def test_a_lone_surrogate_is_found_in_values_and_keys(value):
    assert "not valid Unicode" in json_problem(value)
    assert json_problem(value, surrogates=False) is None


def test_a_surrogate_pair_combined_into_one_character_is_valid_unicode():
    assert json_problem({"\U0001f600": ["\U0001f600", "é"]}) is None
    assert not has_surrogate("plain ascii") and not has_surrogate("\U0001f600") and has_surrogate("a\ud800")


def test_ids_are_json_integers_within_the_primary_key_range():
    assert [is_json_int(v) for v in (1, 0, -1, 2**70, True, 1.0, "1", None)] == [
        True,
        True,
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    assert [is_valid_id(v) for v in (1, ID_MAX, ID_MAX + 1, 0, -1, True, 1.0, "1")] == [
        True,
        True,
        False,
        False,
        False,
        False,
        False,
        False,
    ]


@pytest.mark.parametrize(
    "title", ["nl\n", "\nnl", "n\nl", "nl\r", "nl\x00", "nl ", "Nl", "-nl", "nl-", "n--l", "", "a" * 54]
)
def test_a_title_that_is_not_wholly_a_name_is_invalid(title):
    with pytest.raises(InvalidName):
        validate_title(title)


@pytest.mark.parametrize("title", ["nl", "a", "beach-2024", "a" * 53])
def test_a_valid_title_is_returned(title):
    assert validate_title(title) == title


# --- image ids at every endpoint that takes one -----------------------------------------


def id_bodies(world: World, value) -> dict[str, tuple]:
    """Where an image id is sent: operation -> body naming the image by ``value``."""
    return {
        "add-set-images": [{"id": value}],
        "add-campaign-images": [{"id": value}],
        "submit-objects": [{"image_id": value, "objects": []}],
    }


@pytest.mark.django_db
@pytest.mark.parametrize("operation", ["add-set-images", "add-campaign-images", "submit-objects"])
@pytest.mark.parametrize("spelling", ["string", "float", "bool", "float-string"])
def test_an_image_id_that_is_not_a_json_integer_is_a_400_even_when_it_names_an_image(world, operation, spelling):
    # "1" and 1.0 used to be taken as image 1 when adding images to an image set.
    image = world.image if operation == "submit-objects" else world.loose
    value = {"string": str(image.pk), "float": float(image.pk), "bool": True, "float-string": f"{image.pk}.0"}[spelling]
    before = stored_state()

    response = call(world, operation, json.dumps(id_bodies(world, value)[operation]))

    assert_error(response, 400)
    assert stored_state() == before


@pytest.mark.django_db
@pytest.mark.parametrize("operation", ["add-set-images", "add-campaign-images", "submit-objects"])
@pytest.mark.parametrize("value", [0, -1, 2**63 - 1, 2**63, 2**70], ids=["0", "-1", "max", "2^63", "2^70"])
def test_an_integer_image_id_naming_no_image_is_the_contracts_404_at_any_size(world, operation, value):
    # 2**63 was an OverflowError (500) on SQLite when adding images to an image set.
    before = stored_state()

    response = call(world, operation, json.dumps(id_bodies(world, value)[operation]))

    assert_error(response, 404)
    assert str(value) in response.content.decode()
    assert stored_state() == before


# --- titles at every endpoint that takes one --------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("title", ["nl\n", "nl\r\n", "\nnl", "n\nl", "nl\n\n"])
@pytest.mark.parametrize("path", ["/image_sets", "/campaigns"])
def test_a_title_with_a_newline_is_a_422_and_nothing_is_stored(world, path, title):
    # "nl\n" passed `^...$` with re.match: then labels.csv answered 500 and POST /image_sets 503.
    before = stored_state()

    response = world.admin.post(f"{API}{path}", {"title": title, "labeler_email": "nl@example.com"}, format="json")

    assert_error(response, 422, "Invalid title")
    assert stored_state() == before


# --- the same checks for callers that do not come through the parser (the admin) --------


@pytest.mark.parametrize(
    "value, problem",
    [
        ({"n": "\ud800"}, "not valid Unicode"),
        ({"\udfff": 1}, "not valid Unicode"),
        ({"n": "a\x00"}, "NUL"),
        (nested(40, {}), "nested deeper than 32 levels"),
        (nested(100_000, {}), "nested deeper than 32 levels"),
    ],
    ids=["surrogate-value", "surrogate-key", "nul", "deep", "very-deep"],
)
def test_the_campaign_json_fields_are_checked_whoever_calls_the_service(value, problem):
    metadata = value if isinstance(value, dict) else {"deep": value}
    with pytest.raises(BadRequest, match=problem):
        validate_metadata(metadata)
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        with pytest.raises(BadRequest, match=problem):
            validate_label_translations(value)
