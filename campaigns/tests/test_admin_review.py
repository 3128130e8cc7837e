"""The review page as a work tool: decisions, the next image to review, label filters, comparing revisions."""

from __future__ import annotations

import math
import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import AuditEvent
from accounts.tests.factories import UserFactory
from campaigns.admin.delivery import duration_text
from campaigns.admin.review_boxes import text_colour
from campaigns.models import Campaign, CampaignImage, Review
from campaigns.tests.conftest import campaign_state, image_ids
from campaigns.tests.factories import box, make_campaign, new_object, objects_body, replace_objects_from_body

pytestmark = pytest.mark.django_db

Status = Campaign.Status


@pytest.fixture
def staff():
    return UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def site(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def delivered():
    campaign = make_campaign(images=3, status=Status.ACTIVE)
    replace_objects_from_body(campaign_id=campaign.pk, items=objects_body(image_ids(campaign), 2), user=None)
    return campaign


def page(site, campaign, image_id, **query):
    return site.get(reverse("admin:campaigns_campaign_review_image", args=[campaign.pk, image_id]), query)


def decide(site, campaign, image_id, data, **query):
    url = reverse("admin:campaigns_campaign_review_decide", args=[campaign.pk, image_id])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return site.post(url, data)


def test_accepting_moves_on_to_the_next_image_awaiting_review(site, delivered, staff):
    first, second, third = image_ids(delivered)
    response = page(site, delivered, first)
    content = response.content.decode()
    assert 'id="lh-accept-form"' in content and 'id="lh-reject-form"' in content
    assert response.context["next_pending_url"].endswith(f"/review/{second}/")
    submission = CampaignImage.objects.get(campaign=delivered, image_id=first).current_submission_id

    answer = decide(site, delivered, first, {"decision": "accepted", "submission_id": submission}, show="pending")
    assert answer.status_code == 302 and answer["Location"].endswith(f"/review/{second}/?show=pending")
    review = Review.objects.get()
    assert (review.decision, review.reviewer, review.submission_id) == ("accepted", staff, submission)
    assert AuditEvent.objects.filter(action="campaign.review", actor=staff.email).count() == 1
    accepted = page(site, delivered, first).content.decode()
    assert 'class="lh-state-accepted"' in accepted and "Last decision: <strong>accepted</strong>" in accepted


def test_a_rejection_from_the_page_needs_a_reason_and_reopens_the_campaign(site, delivered):
    first = image_ids(delivered)[0]
    before = campaign_state()
    refused = decide(site, delivered, first, {"decision": "rejected", "reason": "   "}, show="pending")
    # The page again, its reason picker open with what was typed and one message in the reviewer's words.
    assert refused.status_code == 200 and refused.context["image"].pk == first
    content = refused.content.decode()
    picker = content[content.index('<form method="post"', content.index('id="lh-accept-form"') + 1) :]
    picker = picker[: picker.index("</form>")]
    assert 'id="lh-reject-form"' in picker and " hidden>" not in picker
    assert "A rejection needs a reason: pick one from the list or write what the agency should fix." in picker
    assert 'value="   "' in picker and "?show=pending" in picker
    assert "reason_code" not in refused.context["picker"]["error"] and "Image" not in refused.context["picker"]["error"]
    assert not list(get_messages(refused.wsgi_request))
    assert campaign_state() == before

    decide(site, delivered, first, {"decision": "rejected", "reason_code": "missing-object", "reason": "the dog"})
    row = CampaignImage.objects.get(campaign=delivered, image_id=first)
    assert (row.review_state, row.labeled) == ("rejected", False)
    assert (row.last_review.reason_code, row.last_review.reason) == ("missing-object", "the dog")
    delivered.refresh_from_db()
    assert delivered.status == Status.ACTIVE


def test_a_decision_on_a_superseded_revision_is_refused_with_a_message(site, delivered):
    first = image_ids(delivered)[0]
    seen = CampaignImage.objects.get(campaign=delivered, image_id=first).current_submission_id
    Campaign.objects.filter(pk=delivered.pk).update(status=Status.ACTIVE)
    replace_objects_from_body(campaign_id=delivered.pk, items=objects_body([first]), user=None)
    before = campaign_state()
    answer = decide(site, delivered, first, {"decision": "accepted", "submission_id": seen})
    assert "not its current revision" in [str(m) for m in get_messages(answer.wsgi_request)][0]
    assert campaign_state() == before


def test_no_decision_buttons_on_a_finished_campaign_and_the_post_is_refused(site, delivered):
    first = image_ids(delivered)[0]
    Campaign.objects.filter(pk=delivered.pk).update(status=Status.FINISHED)
    assert 'id="lh-accept-form"' not in page(site, delivered, first).content.decode()
    before = campaign_state()
    decide(site, delivered, first, {"decision": "accepted"})
    assert campaign_state() == before


def test_an_agency_user_logged_in_cannot_decide(client, delivered):
    client.force_login(UserFactory(email="agency@example.com"))
    before = campaign_state()
    response = decide(client, delivered, image_ids(delivered)[0], {"decision": "accepted"})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert campaign_state() == before


def test_the_label_filter_keeps_only_images_with_such_a_box(site):
    campaign = make_campaign(images=3, status=Status.ACTIVE)
    a, b, c = image_ids(campaign)
    replace_objects_from_body(
        campaign_id=campaign.pk,
        items=[
            {"image_id": a, "objects": [new_object("cat")]},
            {"image_id": b, "objects": [new_object("dog")]},
            {"image_id": c, "objects": [new_object("cat"), new_object("dog")]},
        ],
        user=None,
    )
    response = page(site, campaign, a, label="dog")
    assert [item["label"] for item in response.context["labels"]] == ["cat", "dog"]
    counts = {f["name"]: f["count"] for f in response.context["filters"]}
    assert counts["all"] == 2 and counts["pending"] == 2
    assert response.context["in_filter"] is False
    assert response.context["next_url"].endswith(f"/review/{b}/?label=dog")
    first = site.get(reverse("admin:campaigns_campaign_review", args=[campaign.pk]), {"label": "cat", "show": "all"})
    assert first["Location"].endswith(f"/review/{a}/?label=cat")


def test_comparing_with_the_previous_revision_marks_what_changed(site):
    campaign = make_campaign(images=2, status=Status.ACTIVE)  # one stays unlabeled: the campaign stays active
    image_id = image_ids(campaign)[0]
    before = [
        new_object("cat", bounding_box=box(0, 50, 0, 50)),
        new_object("dog", bounding_box=box(100, 150, 100, 150)),
        new_object("bird", bounding_box=box(10, 20, 150, 180)),
    ]
    after = [
        new_object("cat", bounding_box=box(0, 50, 0, 50)),  # kept
        new_object("dog", bounding_box=box(102, 152, 100, 150)),  # moved
        new_object("fox", bounding_box=box(150, 190, 0, 40)),  # added (the bird is removed)
    ]
    replace_objects_from_body(campaign_id=campaign.pk, items=[{"image_id": image_id, "objects": before}], user=None)
    replace_objects_from_body(campaign_id=campaign.pk, items=[{"image_id": image_id, "objects": after}], user=None)
    plain = page(site, campaign, image_id)
    assert plain.context["can_compare"] and not plain.context["comparing"]
    compared = page(site, campaign, image_id, compare="1")
    assert compared.context["changes"] == {"kept": 1, "moved": 1, "relabeled": 0, "added": 1, "removed": 1}
    content = compared.content.decode()
    assert re.findall(r'data-change="(\w+)"', content).count("removed") == 1
    assert 'class="lh-box lh-change-moved"' in content and 'class="lh-box lh-change-added"' in content
    assert "removed: bird" in content


def test_captions_use_a_text_colour_that_reads_on_the_labels_colour():
    assert text_colour("#ffe119") == "#000000"  # yellow: black text
    assert text_colour("#000075") == "#ffffff"  # navy: white text


# --- the review page as a workspace: one decision per press, undo, colours, layers, prefetch ------------------


def seen(site, campaign, image_id) -> str:
    """The latest decision the review page of the image names in its forms (``seen_review``)."""
    return str(page(site, campaign, image_id).context["seen_review"])


def test_a_second_submit_of_the_same_decision_records_nothing_and_moves_on(site, delivered):
    first, second, _ = image_ids(delivered)
    form = {"decision": "accepted", "seen_review": seen(site, delivered, first)}
    decide(site, delivered, first, form, show="pending")

    again = decide(site, delivered, first, form, show="pending")  # a double tap, from the same page
    assert again.status_code == 302 and again["Location"].endswith(f"/review/{second}/?show=pending")
    [message] = [m for m in get_messages(again.wsgi_request) if m.level_tag == "warning"]
    assert str(message).startswith(f"Image {first} was accepted by root@example.com at ")
    assert str(message).endswith("this decision was not recorded") and str(message).count(f"Image {first}") == 1
    assert Review.objects.count() == 1
    assert AuditEvent.objects.filter(action="campaign.review").count() == 1


def test_a_different_decision_from_a_stale_page_is_refused_on_the_same_image(site, delivered):
    first = image_ids(delivered)[0]
    stale = seen(site, delivered, first)
    decide(site, delivered, first, {"decision": "accepted", "seen_review": stale})
    before = campaign_state()
    answer = decide(
        site, delivered, first, {"decision": "rejected", "reason_code": "other", "seen_review": stale}, show="all"
    )
    assert answer["Location"].endswith(f"/review/{first}/")
    message = list(get_messages(answer.wsgi_request))[-1]
    assert message.level_tag == "error" and "was accepted by root@example.com" in str(message)
    assert campaign_state() == before
    # The page shown now names the acceptance: deciding from it is a change of mind, and recorded.
    decide(
        site,
        delivered,
        first,
        {"decision": "rejected", "reason_code": "other", "seen_review": seen(site, delivered, first)},
    )
    assert list(Review.objects.order_by("pk").values_list("decision", flat=True)) == ["accepted", "rejected"]


def test_a_decision_from_a_page_whose_decision_was_taken_back_is_refused(site, delivered):
    first = image_ids(delivered)[0]
    decide(site, delivered, first, {"decision": "accepted", "seen_review": seen(site, delivered, first)})
    stale = seen(site, delivered, first)  # a second tab shows the acceptance
    decide(site, delivered, first, {"action": "withdraw", "review_id": stale})
    before = campaign_state()
    answer = decide(site, delivered, first, {"decision": "rejected", "reason_code": "other", "seen_review": stale})
    message = list(get_messages(answer.wsgi_request))[-1]
    assert message.level_tag == "error" and "the decision this page showed was taken back since" in str(message)
    assert answer["Location"].endswith(f"/review/{first}/")
    assert campaign_state() == before


def test_u_withdraws_the_reviewers_last_decision_and_shows_the_image_again(site, delivered, staff):
    first, second, _ = image_ids(delivered)
    decide(site, delivered, first, {"decision": "accepted", "seen_review": seen(site, delivered, first)})
    review = Review.objects.get()

    on_the_next = page(site, delivered, second, show="pending")  # where the decision moved on to
    undo = on_the_next.context["undo"]
    assert (undo["image_id"], undo["review"].pk) == (first, review.pk)
    content = on_the_next.content.decode()
    assert (
        'id="lh-undo-form"' in content
        and f'action="/admin/campaigns/campaign/{delivered.pk}/review/{first}/decide/?show=pending"' in content
    )

    undone = decide(site, delivered, first, {"action": "withdraw", "review_id": review.pk}, show="pending")
    assert undone["Location"].endswith(f"/review/{first}/?show=pending")
    assert [str(m) for m in get_messages(undone.wsgi_request)] == [
        f"Your decision on image {first} was undone: it is pending review again."
    ]
    row = CampaignImage.objects.get(campaign=delivered, image_id=first)
    assert (row.review_state, row.labeled, row.last_review) == ("pending", True, None)
    assert not Review.objects.exists()
    event = AuditEvent.objects.get(action="campaign.review_withdraw")
    assert event.actor == staff.email
    assert (event.details["image_id"], event.details["decision"], event.details["state"]) == (
        first,
        "accepted",
        "pending",
    )
    assert page(site, delivered, second).context["undo"] is None  # nothing left to undo
    assert 'id="lh-undo-form"' not in page(site, delivered, second).content.decode()


def test_undo_is_refused_for_another_reviewer_an_older_decision_or_one_decided_again(site, delivered, settings):
    first = image_ids(delivered)[0]
    other = UserFactory(email="other@example.com", is_staff=True, is_superuser=True)
    decide(site, delivered, first, {"decision": "accepted"})
    review = Review.objects.get()
    before = campaign_state()

    def undo(client) -> str:
        answer = decide(client, delivered, first, {"action": "withdraw", "review_id": review.pk})
        return str(list(get_messages(answer.wsgi_request))[-1])

    from django.test import Client

    stranger = Client()
    stranger.force_login(other)
    assert undo(stranger) == "Nothing undone: Only the reviewer who made a decision can undo it"
    assert page(stranger, delivered, first).context["undo"] is None

    settings.REVIEW_UNDO_SECONDS = 0
    assert undo(site) == ("Nothing undone: A decision can be undone for 0 seconds after it is made; this one is older")
    assert page(site, delivered, first).context["undo"] is None
    assert campaign_state() == before

    settings.REVIEW_UNDO_SECONDS = 120
    decide(site, delivered, first, {"decision": "rejected", "reason_code": "other"})
    assert "only its latest decision can be undone" in undo(site)
    assert Review.objects.count() == 2


def test_undoing_a_rejection_tells_the_agency_and_completes_the_campaign_again(site, delivered):
    from webhooks.models import Webhook, WebhookEvent

    Webhook.objects.create(
        url="https://hooks.example.com/in", secret="whsec_x", events=["image.rejected", "image.rejection_withdrawn"]
    )
    Campaign.objects.filter(pk=delivered.pk).update(status=Status.COMPLETED)
    first = image_ids(delivered)[0]
    decide(site, delivered, first, {"decision": "rejected", "reason": "the lid has no box"})
    delivered.refresh_from_db()
    assert delivered.status == Status.ACTIVE  # reopened by the rejection
    review = Review.objects.get()

    decide(site, delivered, first, {"action": "withdraw", "review_id": review.pk})

    delivered.refresh_from_db()
    assert delivered.status == Status.COMPLETED  # every image labeled again
    row = CampaignImage.objects.get(campaign=delivered, image_id=first)
    assert (row.review_state, row.labeled) == ("pending", True)
    assert list(WebhookEvent.objects.order_by("pk").values_list("type", flat=True)) == [
        "image.rejected",
        "image.rejection_withdrawn",
    ]
    body = WebhookEvent.objects.get(type="image.rejection_withdrawn").payload
    assert f'"image_id":{first}' in body and '"labeled":true' in body
    actions = list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))
    assert actions[-2:] == ["campaign.status", "campaign.review_withdraw"]


def test_undoing_a_sampled_decision_clears_the_samples_verdict(site):
    from campaigns.models import ReviewSample, ReviewSampleImage

    campaign = make_campaign(images=4, status=Status.ACTIVE)
    replace_objects_from_body(campaign_id=campaign.pk, items=objects_body(image_ids(campaign)), user=None)
    site.post(reverse("admin:campaigns_campaign_sample_start", args=[campaign.pk]), {"size": "1", "seed": "3"})
    sample = ReviewSample.objects.get()
    sampled = ReviewSampleImage.objects.get().campaign_image.image_id
    decide(site, campaign, sampled, {"decision": "accepted"}, sample=sample.pk)
    sample.refresh_from_db()
    assert sample.verdict == "accept"

    decide(site, campaign, sampled, {"action": "withdraw", "review_id": Review.objects.get().pk}, sample=sample.pk)
    sample.refresh_from_db()
    assert (sample.verdict, sample.defects) == ("", None)
    assert ReviewSampleImage.objects.get().decision == ""


def test_boxes_take_the_colours_of_the_label_schema_and_else_a_palette_in_its_order(site):
    from campaigns.admin.review_boxes import PALETTE

    schema = [
        {"name": "Plastic", "colour": "#1F77B4", "description": None},
        {"name": "Glass", "colour": None, "description": None},
        {"name": "Metal", "colour": None, "description": None},
        {"name": "Fishing line", "colour": None, "description": None},
    ]
    campaign = make_campaign(images=2, status=Status.ACTIVE, labels=schema)
    image_id = image_ids(campaign)[0]
    objects = [new_object(label) for label in ("Fishing line", "Metal", "Glass", "Plastic")]
    replace_objects_from_body(campaign_id=campaign.pk, items=[{"image_id": image_id, "objects": objects}], user=None)

    content = page(site, campaign, image_id).content.decode()

    colours = dict(
        re.findall(r'<g class="lh-box" data-label="([^"]+)".*?<rect x[^>]*stroke="(#[0-9a-f]{6})"', content, re.S)
    )
    # The palette's own blue is left out: too close to the schema's blue to tell the two labels apart.
    assert PALETTE[0] == "#4e79a7"
    assert colours == {"Plastic": "#1f77b4", "Glass": PALETTE[1], "Metal": PALETTE[2], "Fishing line": PALETTE[3]}


def test_a_crowded_image_gets_short_distinct_captions_and_the_predictions_a_layer_of_their_own(site):
    from campaigns.inputs import parse_object_items
    from campaigns.services.predictions import predictions_replace

    campaign = make_campaign(images=2, status=Status.ACTIVE)
    image_id = image_ids(campaign)[0]
    labels = ["Fishing line", "Fishing net", "Glass", "Glove"]
    objects = [new_object(labels[i % 4], bounding_box=box(i, i + 5, i, i + 5)) for i in range(24)]
    replace_objects_from_body(campaign_id=campaign.pk, items=[{"image_id": image_id, "objects": objects}], user=None)
    predicted = parse_object_items([{"image_id": image_id, "objects": [new_object("Glass"), new_object("Cup")]}])
    predictions_replace(
        campaign_id=campaign.pk, model_name="litter-yolo", model_version="8", objects_by_image=predicted, user=None
    )

    response = page(site, campaign, image_id)

    assert response.context["crowded"] is True
    content = response.content.decode()
    assert 'class="lh-canvas lh-crowded"' in content
    assert set(re.findall(r'data-short="([^"]+)"', content)) == {"FL", "FN", "Gla", "Glo"}
    predictions = content[
        content.index('<svg id="lh-predictions"') : content.index("</svg>", content.index('<svg id="lh-predictions"'))
    ]
    assert predictions.count('<rect class="lh-predicted"') == 2 and "litter-yolo 8" in predictions
    assert "Pre-annotations (P) · 2" in content


def test_the_page_is_a_workspace_without_the_sidebar_and_prefetches_the_next_images(site, delivered):
    first, second, third = image_ids(delivered)
    response = page(site, delivered, first)
    content = response.content.decode()
    assert response.context["is_nav_sidebar_enabled"] is False and 'id="nav-sidebar"' not in content
    assert 'class="messagelist"' not in content.split('id="lh-side"')[0]  # messages are in the panel
    prefetched = re.findall(r'<link rel="prefetch" href="([^"]+)" class="lh-prefetch">', content)
    display = [reverse("admin:imagesets_image_display", args=[i]) for i in (second, third)]
    assert prefetched == display  # the next two awaiting review
    # The next page asks for the very URL the browser prefetched (the display copy): its cache serves it.
    shown = re.search(r'<img id="lh-review-image" src="([^"]+)"', page(site, delivered, second).content.decode())
    assert shown.group(1) == prefetched[0]
    assert f'data-original="{reverse("admin:imagesets_image_original", args=[first])}"' in content


def test_a_review_page_with_predictions_and_an_undo_takes_the_same_queries_for_few_and_many(
    site, django_assert_num_queries, django_assert_max_num_queries
):
    from campaigns.inputs import parse_object_items
    from campaigns.services.predictions import predictions_replace

    def reviewed_page(images, per_image):
        campaign = make_campaign(images=images, status=Status.ACTIVE)
        ids = image_ids(campaign)
        predicted = parse_object_items(objects_body(ids, per_image, "Glass"))
        predictions_replace(
            campaign_id=campaign.pk, model_name="m", model_version="1", objects_by_image=predicted, user=None
        )
        replace_objects_from_body(campaign_id=campaign.pk, items=objects_body(ids, per_image), user=None)
        decide(site, campaign, ids[0], {"decision": "accepted"})
        return reverse("admin:campaigns_campaign_review_image", args=[campaign.pk, ids[1]])

    url = reviewed_page(3, 1)
    with django_assert_max_num_queries(19) as captured:
        response = site.get(url)
    assert response.context["undo"] is not None and len(response.context["predictions"]) == 1
    few = len(captured)
    url = reviewed_page(30, 20)
    with django_assert_num_queries(few):
        response = site.get(url)
    assert len(response.context["predictions"]) == 20


def test_abbreviations_are_distinct_and_labels_keep_their_colour_in_the_schemas_order():
    from campaigns.admin.review_boxes import PALETTE, abbreviations, label_colours

    short = abbreviations(["Fishing line", "Fishing net", "Fish line", "Glass", "Glove", "PET", "Glas"])
    assert short == {
        "Fishing line": "FL",
        "Fishing net": "FN",
        "Fish line": "FiL",  # "FL" is taken
        "Glass": "Gla",
        "Glove": "Glo",
        "PET": "PET",
        "Glas": "Glas",
    }
    colours = label_colours(schema=[{"name": "b", "colour": PALETTE[0]}, {"name": "a"}], labels=["c", "a", "d"])
    assert colours == {"b": PALETTE[0], "a": PALETTE[1], "c": PALETTE[2], "d": PALETTE[3]}
    assert len(set(label_colours(schema=None, labels=[str(i) for i in range(20)]).values())) == 20


# --- the review panel, samples and statistics pages ---------------------------------------------


def test_the_campaign_page_draws_a_sample_and_decides_its_lot(site, staff):
    campaign = make_campaign(images=6, status=Status.ACTIVE)
    replace_objects_from_body(campaign_id=campaign.pk, items=objects_body(image_ids(campaign)), user=None)
    change = site.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert 'id="lh-review-panel"' in change and "6 awaiting review" in change and 'id="lh-sample-form"' in change

    drawn = site.post(reverse("admin:campaigns_campaign_sample_start", args=[campaign.pk]), {"size": "2", "seed": "9"})
    sample = campaign.samples.get()
    assert drawn["Location"].endswith(f"/review/?sample={sample.pk}&show=pending")
    walk = site.get(drawn["Location"], follow=True)
    sampled = set(sample.sample_images.values_list("campaign_image__image_id", flat=True))
    assert walk.context["image"].pk in sampled and walk.context["total"] == 2

    for image_id in sampled:
        decide(site, campaign, image_id, {"decision": "accepted"}, sample=sample.pk, show="pending")
    change = site.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert 'id="lh-sample-verdict">Accept the lot<' in change and 'id="lh-lot-accept"' in change
    site.post(reverse("admin:campaigns_campaign_sample_decide", args=[campaign.pk, sample.pk]), {"decision": "accept"})
    sample.refresh_from_db()
    assert sample.lot_decision == "accept" and sample.lot_decided_by == staff
    assert set(CampaignImage.objects.filter(campaign=campaign).values_list("review_state", flat=True)) == {"accepted"}


def test_a_refused_sample_is_a_message_and_stores_nothing(site):
    campaign = make_campaign(images=2, status=Status.ACTIVE)
    before = campaign_state()
    answer = site.post(reverse("admin:campaigns_campaign_sample_start", args=[campaign.pk]), {"size": "x"})
    assert "No sample drawn" in [str(m) for m in get_messages(answer.wsgi_request)][0]
    answer = site.post(reverse("admin:campaigns_campaign_sample_start", args=[campaign.pk]), {})
    assert "no lot" in [str(m) for m in get_messages(answer.wsgi_request)][-1]
    assert campaign_state() == before


def test_the_statistics_pages_and_their_csv(site, staff):
    agency = UserFactory(email="vendor@example.com")
    campaign = make_campaign(images=3, status=Status.ACTIVE, labeler=agency, title="beach")
    other = make_campaign(images=2, status=Status.ACTIVE, labeler=agency, title="forest")
    replace_objects_from_body(campaign_id=campaign.pk, items=objects_body(image_ids(campaign), 2), user=agency)
    replace_objects_from_body(campaign_id=other.pk, items=objects_body(image_ids(other)[:1]), user=agency)

    page_ = site.get(reverse("admin:campaigns_campaign_stats", args=[campaign.pk]))
    assert page_.status_code == 200 and 'id="lh-stats"' in page_.content.decode()
    csv_text = site.get(reverse("admin:campaigns_campaign_stats", args=[campaign.pk]), {"format": "csv"})
    assert csv_text["Content-Type"].startswith("text/csv")
    lines = csv_text.content.decode().splitlines()
    assert lines[0].startswith("campaign_id,campaign,images,unlabeled,labeled,pending")
    assert lines[1].startswith(f"{campaign.pk},beach,3,0,3,3,")

    url = reverse("admin:campaigns_campaign_agency_stats")
    empty = site.get(url)
    assert empty.context["report"] is None
    by_agency = site.get(url, {"agency": "vendor@example.com", "format": "csv"}).content.decode().splitlines()
    assert [line.split(",")[1] for line in by_agency[1:]] == ["beach", "forest", "total"]
    assert by_agency[-1].startswith(",total,5,1,4,4,")
    bad = site.get(url, {"agency": "vendor@example.com", "since": "2026-02-01", "until": "2026-01-01"})
    assert bad.status_code == 200 and bad.context["report"] is None


def test_the_statistics_pages_take_the_same_queries_for_one_and_many_campaigns(
    site, django_assert_num_queries, django_assert_max_num_queries
):
    def agency_labeling(campaigns):
        agency = UserFactory()
        for _ in range(campaigns):
            campaign = make_campaign(images=3, status=Status.ACTIVE, labeler=agency)
            replace_objects_from_body(campaign_id=campaign.pk, items=objects_body(image_ids(campaign)), user=agency)
        return agency

    url = reverse("admin:campaigns_campaign_agency_stats")
    agency = agency_labeling(1)
    with django_assert_max_num_queries(math.inf) as captured:  # any number: 6 campaigns must take no more
        site.get(url, {"agency": agency.email, "format": "csv"})
    few = len(captured)
    agency = agency_labeling(6)
    with django_assert_num_queries(few):
        site.get(url, {"agency": agency.email, "format": "csv"})


@pytest.mark.parametrize(
    "seconds, text",
    [(None, "—"), (40.4, "40 s"), (125, "2 min 5 s"), (7500, "2 h 5 min"), (3 * 86400 + 4 * 3600, "3 d 4 h")],
)
def test_medians_read_as_durations(seconds, text):

    assert duration_text(seconds) == text
