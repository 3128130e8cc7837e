"""The shared checks of labelhub/validators.py, on their own."""

import pytest

from labelhub.exceptions import InvalidName
from labelhub.validators import (
    ID_MAX,
    contains_nul,
    has_surrogate,
    is_json_int,
    is_valid_id,
    json_problem,
    validate_title,
)


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
