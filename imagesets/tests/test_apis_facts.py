"""GET /images: orientation and display size in the representation, filters by date taken and by a lat/lon box."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from imagesets.tests.factories import ImageFactory
from testing.api import assert_error

pytestmark = pytest.mark.django_db

IMAGES = "/api/v1/images"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [image["image_id"] for image in response.json()["images"]]


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2024, 3, day, hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("orientation", "display"),
    [(None, (640, 480)), (1, (640, 480)), (3, (640, 480)), (5, (480, 640)), (6, (480, 640)), (8, (480, 640))],
)
def test_an_image_shows_its_orientation_and_its_size_as_displayed(admin_client, orientation, display):
    ImageFactory(width=640, height=480, orientation=orientation)

    image = admin_client.get(IMAGES).json()["images"][0]

    assert image["orientation"] == orientation
    assert image["file"]["dimensions"] == {"width": 640, "height": 480}  # the file's own pixel frame
    assert image["display_dimensions"] == {"width": display[0], "height": display[1]}


def test_an_image_shows_its_date_taken_and_location_as_the_contract_shapes_them(admin_client):
    ImageFactory(date_taken=at(14, 8), lat=52.3701389, lon=-4.8833333)

    image = admin_client.get(IMAGES).json()["images"][0]

    assert image["date_taken"] == "2024-03-14T08:00:00.000000Z"
    assert image["location"] == {"description": None, "lat": 52.3701389, "lon": -4.8833333}


@pytest.fixture
def survey():
    """Images around the North Sea in March 2024, and some without a date or a position."""
    return {
        "beach": ImageFactory(date_taken=at(10), lat=52.4, lon=4.5),
        "dunes": ImageFactory(date_taken=at(20), lat=53.1, lon=4.8),
        "south": ImageFactory(date_taken=at(12), lat=51.0, lon=3.7),
        "april": ImageFactory(date_taken=datetime(2024, 4, 1, tzinfo=UTC), lat=52.5, lon=4.6),
        "fiji": ImageFactory(date_taken=at(15), lat=-17.7, lon=178.1),
        "samoa": ImageFactory(date_taken=at(16), lat=-13.8, lon=-172.1),
        "undated": ImageFactory(date_taken=None, lat=52.6, lon=4.7),
        "nowhere": ImageFactory(date_taken=at(11), lat=None, lon=None),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["beach", "dunes", "south", "april", "fiji", "samoa", "undated", "nowhere"]),
        (
            {"date_taken_from": "2024-03-01", "date_taken_to": "2024-03-31"},
            ["beach", "dunes", "south", "fiji", "samoa", "nowhere"],
        ),
        ({"date_taken_to": "2024-03-12"}, ["beach", "south", "nowhere"]),  # a date: the whole day
        ({"date_taken_from": "2024-03-12T12:00:00Z", "date_taken_to": "2024-03-12T12:00:00Z"}, ["south"]),
        ({"date_taken_from": "2024-03-12T13:00:00+01:00", "date_taken_to": "2024-03-12T12:00:00"}, ["south"]),
        ({"lat_min": "52"}, ["beach", "dunes", "april", "undated"]),  # "north of 52°"
        ({"lat_min": "52", "lat_max": "53", "lon_min": "4", "lon_max": "5"}, ["beach", "april", "undated"]),
        ({"date_taken_from": "2024-03-01", "date_taken_to": "2024-03-31", "lat_min": "52"}, ["beach", "dunes"]),
        ({"lon_min": "170", "lon_max": "-170"}, ["fiji", "samoa"]),  # across the 180th meridian
        ({"lat_max": "-90"}, []),
    ],
)
def test_images_are_filtered_by_date_taken_and_by_a_latitude_longitude_box(admin_client, survey, query, expected):
    assert ids(admin_client.get(IMAGES, {**query, "per_page": 100})) == [survey[name].pk for name in expected]


def test_the_filtered_total_and_pages_count_only_matching_images(admin_client, survey):
    body = admin_client.get(IMAGES, {"lat_min": "52", "per_page": 3}).json()
    assert body["pagination"]["total"] == 4 and body["pagination"]["pages"] == 2


def test_a_filtered_list_costs_the_same_queries_whatever_the_page_size(admin_client, django_assert_max_num_queries):
    query = {"date_taken_from": "2024-03-01", "lat_min": "50", "lon_min": "-10", "lon_max": "10", "per_page": 1000}
    admin_client.get(IMAGES)  # the key's last-used stamp is written on first use
    ImageFactory.create_batch(2, date_taken=at(3), lat=51, lon=5)
    with django_assert_max_num_queries(3):  # the key, the count, the page
        assert len(ids(admin_client.get(IMAGES, query))) == 2
    ImageFactory.create_batch(18, date_taken=at(3), lat=51, lon=5)
    ImageFactory.create_batch(5, date_taken=at(3), lat=51, lon=50)
    with django_assert_max_num_queries(3):
        assert len(ids(admin_client.get(IMAGES, query))) == 20


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ({"date_taken_from": "yesterday"}, "date_taken_from: expected an ISO 8601 date"),
        ({"date_taken_to": "2024-02-30"}, "date_taken_to: expected an ISO 8601 date"),
        ({"date_taken_to": "2024-03-14T25:00:00Z"}, "date_taken_to"),
        ({"date_taken_from": "2024-03-02", "date_taken_to": "2024-03-01"}, "must not be later than date_taken_to"),
        ({"lat_min": "91"}, "lat_min: expected decimal degrees between -90 and 90"),
        ({"lat_max": "-90.5"}, "lat_max"),
        ({"lon_min": "-181"}, "lon_min: expected decimal degrees between -180 and 180"),
        ({"lon_max": "east"}, "lon_max"),
        ({"lat_min": "nan"}, "lat_min"),
        ({"lon_min": "inf"}, "lon_min"),
        ({"lat_min": "1e400"}, "lat_min"),
        ({"lat_min": "53", "lat_max": "52"}, "lat_min must not be greater than lat_max"),
    ],
)
def test_a_malformed_or_impossible_filter_is_a_400_naming_the_parameter(admin_client, query, detail):
    assert_error(admin_client.get(IMAGES, query), 400, detail)


@pytest.mark.parametrize(
    "query",
    [
        {"date_taken_to": "9999-12-31"},  # the whole day: up to the day after, past datetime's end
        {"date_taken_to": "9999-12-31T23:59:59.999999Z"},
        {"date_taken_from": "0001-01-01T00:00:00+01:00"},  # before year 1 in UTC
    ],
)
def test_date_filters_at_the_ends_of_the_calendar_match_everything_dated(admin_client, survey, query):
    # Found by the fuzz once the parameters were declared dates: each was an OverflowError (500).
    response = admin_client.get(IMAGES, {**query, "per_page": 100})
    assert response.status_code == 200, response.content
    assert len(ids(response)) == len([image for image in survey.values() if image.date_taken is not None])


def test_a_filter_given_twice_is_a_400(admin_client, survey):
    assert_error(admin_client.get(f"{IMAGES}?lat_min=52&lat_min=north"), 400, "'lat_min' must be given at most once")


def test_empty_filter_parameters_are_no_filter(admin_client, survey):
    assert len(ids(admin_client.get(IMAGES, {"lat_min": "", "date_taken_to": "", "per_page": 100}))) == len(survey)


def test_the_filters_are_documented_with_examples_in_the_openapi_document(admin_client):
    schema = admin_client.get("/api/v1/schema", {"format": "json"}).json()
    parameters = {p["name"]: p for p in schema["paths"]["/images"]["get"]["parameters"]}
    for name in ("date_taken_from", "date_taken_to", "lat_min", "lat_max", "lon_min", "lon_max"):
        assert parameters[name]["in"] == "query" and parameters[name]["examples"], name
        assert "400" in parameters[name]["description"]
    image = schema["components"]["schemas"]["Image"]["properties"]
    assert image["orientation"]["nullable"] is True
    assert "display_dimensions" in image
    assert "OffsetTimeOriginal" in image["date_taken"]["description"]
