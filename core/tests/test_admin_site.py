"""The admin site's words: its name, a favicon, plural names, app groups, durations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone
from django_q.models import Success

from accounts.tests.factories import UserFactory
from core.admin import duration_text

pytestmark = pytest.mark.django_db

OUR_APPS = ("core", "labelhub", "webhooks", "accounts", "imagesets", "campaigns")


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(email="staff@example.com", is_staff=True, is_superuser=True))
    return client


def test_the_site_is_called_labelhub_not_django_administration(staff_client):
    page = staff_client.get(reverse("admin:index")).content.decode()

    assert "<title>Staff administration | labelhub</title>" in page
    assert '<div id="site-name"><a href="/admin/">labelhub</a></div>' in page
    assert "Django administration" not in page and "Django site admin" not in page
    assert "View site" not in page  # labelhub has no public site to view


def test_the_login_page_says_labelhub_too(client):
    page = client.get(reverse("admin:login")).content.decode()
    assert "<title>Log in | labelhub</title>" in page and "Django administration" not in page


def test_favicon_ico_is_served(client):
    response = client.get("/favicon.ico", follow=True)

    assert response.status_code == 200
    assert response.redirect_chain == [("/static/labelhub/favicon.ico", 301)]
    assert response["Content-Type"] in {"image/x-icon", "image/vnd.microsoft.icon"}
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file


def naive_plural(plural: str) -> bool:
    """``box`` + ``s``, ``class`` + ``s``, ``category`` + ``s``: Django's default plural of such a name."""
    return plural.endswith(("xs", "ss", "chs", "shs", "zs")) or (
        plural.endswith("ys") and not plural.endswith(("ays", "eys", "oys", "uys"))
    )


def test_every_plural_name_is_english():
    plurals = {
        f"{model._meta.app_label}.{model.__name__}": str(model._meta.verbose_name_plural)
        for model in apps.get_models()
        if model._meta.app_label in OUR_APPS
    }
    assert {name: plural for name, plural in plurals.items() if naive_plural(plural)} == {}
    assert plurals["campaigns.BoundingBox"] == "bounding boxes"
    assert naive_plural("bounding boxs") and naive_plural("categorys") and not naive_plural("keys")


def test_the_admin_index_groups_webhooks_under_webhooks_and_has_no_labelhub_group(staff_client):
    response = staff_client.get(reverse("admin:index"))

    groups = {app["app_label"]: str(app["name"]) for app in response.context["app_list"]}
    assert groups["webhooks"] == "Webhooks"
    assert {
        m["object_name"]
        for app in response.context["app_list"]
        if app["app_label"] == "webhooks"
        for m in app["models"]
    } >= {
        "Webhook",
        "WebhookDelivery",
    }
    assert "labelhub" not in groups and "core" not in groups


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (0.096595, "97 ms"),
        (0.0004, "0 ms"),
        (1.2345, "1.2 s"),
        (9.96, "10 s"),
        (40.4, "40 s"),
        (63, "1 min 3 s"),
        (7500, "2 h 5 min"),
        (3 * 86400 + 4 * 3600, "3 d 4 h"),
    ],
)
def test_durations_read_as_durations(seconds, text):
    assert duration_text(seconds) == text


def test_django_qs_successful_tasks_show_how_long_they_took_as_a_duration(staff_client):
    started = timezone.now()
    Success.objects.create(
        id="a" * 32,
        name="imageset-finish-1",
        func="imagesets.tasks.imageset_finish_run",
        started=started,
        stopped=started + timedelta(microseconds=96595),
        success=True,
    )

    page = staff_client.get(reverse("admin:django_q_success_changelist")).content.decode()

    assert '<td class="field-time_taken">97 ms</td>' in page and "0.096595" not in page


def test_an_export_jobs_duration_reads_as_a_duration(staff_client):
    from campaigns.models import CampaignJob
    from campaigns.tests.factories import CampaignFactory

    started = timezone.now()
    CampaignJob.objects.create(
        campaign=CampaignFactory(status="finished"),
        status="succeeded",
        date_started=started,
        date_done=started + timedelta(seconds=63.2),
    )

    page = staff_client.get(reverse("admin:campaigns_campaignjob_changelist")).content.decode()

    assert '<td class="field-took">1 min 3 s</td>' in page
