import pytest

from core.exceptions import BadRequest, RequestTooLarge
from imagesets.inputs import ImageRefs, parse_image_refs


def test_image_refs_are_parsed_by_id_and_by_path_each_once_in_order():
    refs = parse_image_refs([{"id": 3}, {"filepath": "b"}, {"id": 1}, {"id": 3}, {"filepath": "a"}, {"filepath": "b"}])

    assert refs == ImageRefs(ids=(3, 1), paths=("b", "a"))


def test_an_integer_naming_no_image_is_left_to_the_service():
    # 0, -1 and 2**63 name no row: that is the services' 404, not a malformed body.
    assert parse_image_refs([{"id": 0}, {"id": -1}, {"id": 2**63}]).ids == (0, -1, 2**63)


@pytest.mark.parametrize(
    "items",
    [
        {"id": 1},
        [1],
        [{}],
        [{"id": 1, "filepath": "x"}],
        [{"id": "1"}],
        [{"id": True}],
        [{"id": 1.0}],
        [{"filepath": ""}],
        [{"filepath": 3}],
    ],
)
def test_malformed_items_are_a_bad_request(items):
    with pytest.raises(BadRequest):
        parse_image_refs(items)


def test_more_images_than_one_request_may_list_are_refused_before_any_item_is_read(settings):
    settings.IMAGES_PER_REQUEST_MAX = 2

    with pytest.raises(RequestTooLarge) as excinfo:
        parse_image_refs([{"id": 1}, {"id": 2}, "not even an item"])

    assert excinfo.value.extra == {"limit": 2}
