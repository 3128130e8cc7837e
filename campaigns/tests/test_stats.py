"""campaigns.stats: medians per campaign and over an agency's campaigns, computed in the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from campaigns.inputs import DateRange
from campaigns.models import Campaign, CampaignImage
from campaigns.stats import agency_stats, stats_csv
from campaigns.tests.factories import make_campaign

pytestmark = pytest.mark.django_db


def first_labeled_after(campaign, hours: list[float]) -> None:
    start = timezone.now() - timedelta(days=2)
    Campaign.objects.filter(pk=campaign.pk).update(date_started=start)
    for row, after in zip(CampaignImage.objects.filter(campaign=campaign).order_by("pk"), hours, strict=True):
        CampaignImage.objects.filter(pk=row.pk).update(
            date_first_labeled=start + timedelta(hours=after), labeled=True, review_state="pending"
        )


def test_medians_per_campaign_and_over_the_agency():
    agency = UserFactory()
    even = make_campaign(images=4, status=Campaign.Status.ACTIVE, labeler=agency)
    odd = make_campaign(images=3, status=Campaign.Status.ACTIVE, labeler=agency)
    first_labeled_after(even, [1, 9, 3, 2])  # median of 1, 2, 3, 9: 2.5 h
    first_labeled_after(odd, [10, 30, 20])  # median 20 h

    report = agency_stats(agency=agency, dates=DateRange())
    by_campaign = {row.campaign_id: row for row in report.rows}
    assert by_campaign[even.pk].median_first_submission == timedelta(hours=2.5)
    assert by_campaign[odd.pk].median_first_submission == timedelta(hours=20)
    # Over all seven: 1, 2, 3, 9, 10, 20, 30 -> 9 h (not a median of the medians).
    assert report.total.median_first_submission == timedelta(hours=9)
    assert report.total.images == 7 and report.total.labeled == 7
    lines = stats_csv(report).splitlines()
    assert len(lines) == 4 and lines[-1].startswith(",total,7,")
    assert ",32400.0," in lines[-1]  # 9 h in seconds


def test_an_agency_without_campaigns_has_an_empty_report():
    report = agency_stats(agency=UserFactory(), dates=DateRange())
    assert report.rows == [] and report.total.images == 0 and report.total.median_first_submission is None


def test_a_label_a_spreadsheet_would_run_as_a_formula_is_written_as_text():
    from campaigns.tests.conftest import image_ids
    from campaigns.tests.factories import objects_body, replace_objects_from_body

    agency = UserFactory()
    campaign = make_campaign(images=2, status=Campaign.Status.ACTIVE, labeler=agency)
    body = objects_body(image_ids(campaign), label='=HYPERLINK("http://x")')
    replace_objects_from_body(campaign_id=campaign.pk, items=body, user=agency)
    line = stats_csv(agency_stats(agency=agency, dates=DateRange())).splitlines()[1]
    assert "'=HYPERLINK" in line
