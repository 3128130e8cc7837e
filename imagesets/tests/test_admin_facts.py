"""The image admin: staff correct date taken and location, and filter the list (and add it to a campaign) by them."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from campaigns.tests.conftest import image_ids
from campaigns.tests.factories import CampaignFactory
from imagesets.models import Image, ImageSetJob
from imagesets.tests.factories import ImageFactory, ImageSetFactory

pytestmark = pytest.mark.django_db

LIST = reverse("admin:imagesets_image_changelist")


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(email="staff@example.com", is_staff=True, is_superuser=True))
    return client


def change(client, image, **fields):
    """Post the image's change form with its current values, ``fields`` changed."""
    taken = image.date_taken
    data = {
        "type": image.type or "",
        "date_taken_0": taken.strftime("%Y-%m-%d") if taken else "",
        "date_taken_1": taken.strftime("%H:%M:%S") if taken else "",
        "location_description": image.location_description or "",
        "lat": "" if image.lat is None else repr(image.lat),
        "lon": "" if image.lon is None else repr(image.lon),
        "tss_id": image.tss_id or "",
        "metadata": "",
        **fields,
    }
    return client.post(reverse("admin:imagesets_image_change", args=[image.pk]), data)


def test_staff_set_date_taken_and_location_and_they_are_marked_as_set_by_hand(staff_client):
    image = ImageFactory(date_taken=datetime(2024, 3, 14, 8, 0, tzinfo=UTC), lat=52.1, lon=4.3)

    response = change(staff_client, image, date_taken_0="2023-07-01", date_taken_1="06:30:00", lat="-33.8", lon="151.2")

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    image.refresh_from_db()
    assert (image.date_taken, image.lat, image.lon) == (datetime(2023, 7, 1, 6, 30, tzinfo=UTC), -33.8, 151.2)
    assert (image.date_taken_by_hand, image.location_by_hand) == (True, True)


def test_saving_other_fields_leaves_the_files_own_date_and_location_unmarked(staff_client):
    image = ImageFactory(date_taken=datetime(2024, 3, 14, 8, 0, tzinfo=UTC), lat=52.1, lon=4.3)

    assert change(staff_client, image, type="drone", location_description="Amsterdam").status_code == 302

    image.refresh_from_db()
    assert (image.type, image.location_description) == ("drone", "Amsterdam")
    assert (image.date_taken_by_hand, image.location_by_hand) == (False, False)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"lat": "91", "lon": "4"}, "lat"),
        ({"lat": "52", "lon": "-180.5"}, "lon"),
        ({"lat": "52", "lon": ""}, "__all__"),
        ({"lat": "", "lon": "4"}, "__all__"),
    ],
)
def test_an_impossible_position_is_a_form_error_and_nothing_is_stored(staff_client, fields, error):
    image = ImageFactory(lat=None, lon=None)

    response = change(staff_client, image, **fields)

    assert response.status_code == 200
    assert error in response.context["adminform"].form.errors
    image.refresh_from_db()
    assert (image.lat, image.lon, image.location_by_hand) == (None, None, False)


@pytest.fixture
def survey():
    march = datetime(2024, 3, 10, tzinfo=UTC)
    return {
        "beach": ImageFactory(date_taken=march, lat=52.4, lon=4.5),
        "south": ImageFactory(date_taken=march, lat=51.0, lon=3.7),
        "april": ImageFactory(date_taken=datetime(2024, 4, 2, tzinfo=UTC), lat=52.5, lon=4.6),
        "unknown": ImageFactory(date_taken=None, lat=None, lon=None),
    }


def test_the_image_list_filters_by_date_range_and_lat_lon_box(staff_client, survey, django_assert_max_num_queries):
    query = {"date_taken_from": "2024-03-01", "date_taken_to": "2024-03-31", "lat_min": "52", "lon_max": "5"}

    with django_assert_max_num_queries(12):
        response = staff_client.get(LIST, query)

    assert list(response.context["cl"].result_list) == [survey["beach"]]
    page = response.content.decode()
    assert 'name="lat_min" value="52"' in page and 'name="date_taken_to" value="2024-03-31"' in page
    assert "52.40000, 4.50000" in page  # the location column
    assert [i.pk for i in staff_client.get(LIST, {"lat_max": "52"}).context["cl"].result_list] == [survey["south"].pk]


def test_the_filter_form_keeps_the_lists_other_filters(staff_client, survey):
    imageset = ImageSetFactory(status="finished")
    page = staff_client.get(LIST, {"imageset__id__exact": imageset.pk, "lat_min": "1"}).content.decode()
    assert f'type="hidden" name="imageset__id__exact" value="{imageset.pk}"' in page


@pytest.mark.parametrize(
    ("query", "field", "said"),
    [
        ({"lat_min": "91"}, "lat_min", "“latitude from”: expected decimal degrees between -90 and 90."),
        ({"lat_min": "north"}, "lat_min", "“latitude from”: expected decimal degrees between -90 and 90."),
        (
            {"lon_max": "200", "lat_min": "50"},
            "lon_max",
            "“longitude to”: expected decimal degrees between -180 and 180.",
        ),
        (
            {"date_taken_from": "15.03.2024"},
            "date_taken_from",
            "“taken from”: expected a date such as 2024-03-14, or a date and time such as 2024-03-14T08:00Z.",
        ),
        (
            {"date_taken_from": "2024-04-01", "date_taken_to": "2024-03-01"},
            "date_taken_from",
            "“taken from” must not be later than “taken until”.",
        ),
        ({"lat_min": "53", "lat_max": "52"}, "lat_min", "“latitude from” must not be greater than “latitude to”."),
    ],
)
def test_a_bad_filter_value_lists_no_image_keeps_the_inputs_and_says_what_is_wrong(
    staff_client, survey, query, field, said
):
    response = staff_client.get(LIST, query)

    assert response.status_code == 200  # not Django's redirect to ?e=1, which dropped the inputs
    assert list(response.context["cl"].result_list) == []
    page = html.unescape(response.content.decode())
    for name, value in query.items():
        assert f'name="{name}" value="{value}"' in page
    assert re.search(rf'<input id="lh-{field}" name="{field}" [^>]*aria-invalid="true"', page)
    assert said in page
    assert [str(m) for m in response.context["messages"]] == [
        f"The date and location filter is not valid, so no image is listed: {said}"
    ]
    assert "lat_min" not in said and "date_taken" not in said  # the form's words, not the parameters'


def test_every_wrong_value_is_named_at_once(staff_client, survey):
    response = staff_client.get(LIST, {"lat_min": "91", "date_taken_to": "15.03.2024", "lon_max": "4"})

    page = html.unescape(response.content.decode())
    assert "“taken until”: expected a date" in page and "“latitude from”: expected decimal degrees" in page
    assert len(re.findall(r'aria-invalid="true"', page)) == 2  # lon_max is fine
    assert "No image is listed until they are corrected or cleared." in page


def test_select_all_on_a_list_whose_filter_is_not_valid_adds_nothing(staff_client, survey):
    campaign = CampaignFactory()
    action = {"action": "add_to_campaign", "select_across": "1", "_selected_action": [survey["beach"].pk]}

    response = staff_client.post(f"{LIST}?lat_min=91", action, follow=True)

    assert image_ids(campaign) == []
    assert "No image is selected in the list shown; nothing was added." in [
        str(m) for m in response.context["messages"]
    ]
    applied = staff_client.post(f"{LIST}?lat_min=91", {**action, "campaign": campaign.pk, "apply": "1"})
    assert applied.status_code == 302 and image_ids(campaign) == []


def test_add_to_campaign_on_a_filtered_select_all_takes_only_the_matching_images(staff_client, survey):
    campaign = CampaignFactory()
    filtered = f"{LIST}?date_taken_from=2024-03-01&date_taken_to=2024-03-31&lat_min=50"
    action = {"action": "add_to_campaign", "select_across": "1", "_selected_action": [survey["beach"].pk]}

    chooser = staff_client.post(filtered, action)  # the page choosing the campaign posts back to the filtered URL
    assert chooser.status_code == 200 and "2 image(s) selected" in chooser.content.decode()
    staff_client.post(filtered, {**action, "campaign": campaign.pk, "apply": "1"})

    assert image_ids(campaign) == sorted([survey["beach"].pk, survey["south"].pk])
    assert Image.objects.count() == 4


def test_the_set_page_shows_how_many_images_got_a_date_and_a_location(staff_client):
    imageset = ImageSetFactory(status="finished")
    ImageSetJob.objects.create(
        imageset=imageset, status="succeeded", result={"images_with_date": 2, "images_with_location": 1}
    )

    page = staff_client.get(reverse("admin:imagesets_imageset_change", args=[imageset.pk])).content.decode()

    assert "2 with a date taken, 1 with a location" in re.sub(r"<[^>]+>", "", page)


def test_a_turned_images_thumbnail_is_sized_as_the_browser_shows_it(staff_client, local_storage):
    ImageFactory(width=400, height=100, orientation=6)  # shown 100 wide, 400 high

    page = staff_client.get(LIST).content.decode()

    assert 'width="20" height="80"' in page
    assert "400×100" in page  # the dimensions column stays the file's own
