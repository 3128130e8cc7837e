"""The webhook admin shows each endpoint's deliveries; django-q2 does not list a failed send as a "successful task"."""

from __future__ import annotations

import math
import re

import pytest
from django.urls import reverse
from django_q.models import Success, Task

from accounts.tests.factories import UserFactory
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from webhooks.services import webhook_create, webhook_event_record
from webhooks.tests.conftest import endpoint_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(email="staff@example.com", is_staff=True, is_superuser=True))
    return client


def emit(capture, **kwargs):
    with capture(execute=True):
        return webhook_event_record(**kwargs)


def test_a_send_answered_503_is_not_recorded_as_a_successful_task(receiver, django_capture_on_commit_callbacks):
    receiver.answers = [503]
    endpoint_for(receiver, events=["campaign.completed"])

    emit(django_capture_on_commit_callbacks, type="campaign.completed", data={"campaign_id": 1})

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_status_code) == (DeliveryStatus.PENDING, 503)  # the record: a retry waits
    assert len(receiver.received) == 1
    assert not Success.objects.exists() and not Task.objects.exists()  # django-q2's task list stays out of it


def test_a_webhooks_page_lists_its_latest_deliveries_with_status_attempts_http_status_and_error(
    staff_client, receiver, django_capture_on_commit_callbacks
):
    receiver.answers = [503, 200]
    webhook = endpoint_for(receiver, events=["campaign.completed", "campaign.finished"])
    emit(django_capture_on_commit_callbacks, type="campaign.completed", data={"campaign_id": 1})
    emit(django_capture_on_commit_callbacks, type="campaign.finished", data={"campaign_id": 1})
    failing, ok = WebhookDelivery.objects.order_by("pk")

    page = staff_client.get(reverse("admin:webhooks_webhook_change", args=[webhook.pk])).content.decode()

    table = page[page.index('id="lh-webhook-deliveries"') : page.index("</table>", page.index("lh-webhook-deliveries"))]
    rows = re.findall(r"<tr class=\"lh-delivery-(\w+)\">(.*?)</tr>", table, re.S)
    cells = [[re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)] for _, row in rows]
    assert [status for status, _ in rows] == ["succeeded", "pending"]  # newest first
    assert cells[0][:6] == [str(ok.pk), "campaign.finished", "Succeeded", "1", "200", "—"]
    assert cells[1][:6] == [str(failing.pk), "campaign.completed", "Pending", "1", "503", "HTTP 503"]
    assert f"?webhook__id__exact={webhook.pk}" in page  # all of them, on the delivery list


def test_the_webhook_list_counts_each_endpoints_deliveries_by_status_in_the_same_queries_for_1_or_10(
    staff_client, django_assert_num_queries, django_assert_max_num_queries, settings
):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    first = webhook_create(url="https://hooks.example.com/a", events=["campaign.completed"])
    event = webhook_event_record(type="campaign.completed", data={"campaign_id": 1})
    WebhookDelivery.objects.filter(event=event).update(status=DeliveryStatus.FAILED, attempts=8)
    url = reverse("admin:webhooks_webhook_changelist")

    with django_assert_max_num_queries(math.inf) as captured:  # any number: 9 more endpoints must take no more
        page = staff_client.get(url).content.decode()
    assert re.search(
        r'class="lh-delivery-succeeded">0 succeeded</a> · <a [^>]*>1 failed</a> · <a [^>]*>0 pending', page
    )
    assert f"webhook__id__exact={first.pk}&amp;status__exact=failed" in page
    few = len(captured)
    for n in range(9):
        webhook_create(url=f"https://hooks.example.com/{n}", events=["campaign.completed"])
    with django_assert_num_queries(few):
        assert staff_client.get(url).status_code == 200


def test_an_attempts_duration_reads_as_a_duration(staff_client, receiver, django_capture_on_commit_callbacks):
    endpoint_for(receiver, events=["campaign.completed"])
    emit(django_capture_on_commit_callbacks, type="campaign.completed", data={"campaign_id": 1})
    WebhookAttempt.objects.update(duration_ms=1234)
    delivery = WebhookDelivery.objects.get()

    page = staff_client.get(reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk])).content.decode()

    assert "1.2 s" in page and "duration ms" not in page.lower()
