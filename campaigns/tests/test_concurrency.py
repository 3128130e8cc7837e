"""Concurrent requests on PostgreSQL: row locks keep submissions whole and exports single."""

import threading
from unittest import mock

import pytest
from django.db import connection, connections

from accounts.models import ApiKey, User
from accounts.services import secret_matches
from accounts.tests.factories import UserFactory
from campaigns.models import BoundingBox, Campaign, CampaignImage, CampaignJob, Review, ReviewLotImage, Submission
from campaigns.tests.conftest import image_ids
from campaigns.tests.factories import CampaignFactory, make_campaign, new_object, objects_body, progress
from conftest import client_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite has no row locks and serialises every writer anyway",
    ),
]

API = "/api/v1"
Status = Campaign.Status
ROUNDS = 20


def run_at_once(*calls):
    """Run the calls in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)
    errors = []

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except BaseException as exc:  # noqa: BLE001 - reported in the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    assert not errors, errors
    return results


def test_two_clients_replacing_the_same_images_objects_never_mix(admin_user):
    labeler = UserFactory()
    campaign = make_campaign(images=2, status=Status.ACTIVE, labeler=labeler)
    image_id, _unlabeled = image_ids(campaign)
    clients = {"A": client_for(labeler), "B": client_for(admin_user)}
    counts = {"A": 2, "B": 3}
    url = f"{API}/campaigns/{campaign.pk}/objects"

    def put(name, round_):
        body = [{"image_id": image_id, "objects": [new_object(f"{name}-{round_}") for _ in range(counts[name])]}]
        return clients[name].put(url, body, format="json").status_code

    for round_ in range(ROUNDS):
        assert run_at_once(lambda r=round_: put("A", r), lambda r=round_: put("B", r)) == [200, 200]

        campaign_image = CampaignImage.objects.get(campaign=campaign, image_id=image_id)
        current = list(
            BoundingBox.objects.current().filter(campaign_image=campaign_image).values_list("label", "submission")
        )
        labels = {label for label, _ in current}
        assert len(labels) == 1, f"round {round_}: a mix of submissions {current}"
        (label,) = labels
        assert label in (f"A-{round_}", f"B-{round_}")
        assert len(current) == counts[label[0]]
        assert {submission for _, submission in current} == {campaign_image.current_submission_id}
        # The later of the two submissions is the current one.
        assert campaign_image.current_submission_id == Submission.objects.filter(campaign=campaign).latest("pk").pk

    assert Submission.objects.filter(campaign=campaign).count() == 2 * ROUNDS
    assert progress(campaign.pk) == {"done": 1, "total": 2}
    campaign.refresh_from_db()
    assert campaign.status == Status.ACTIVE


def test_labeling_the_last_two_images_at_once_completes_the_campaign(admin_user):
    admin = client_for(admin_user)  # one key per user: a second issue would not show the secret
    for _ in range(5):
        labeler = UserFactory()
        campaign = make_campaign(images=2, status=Status.ACTIVE, labeler=labeler)
        first, second = image_ids(campaign)
        clients = [client_for(labeler), admin]
        url = f"{API}/campaigns/{campaign.pk}/objects"
        codes = run_at_once(
            lambda c=clients[0], u=url, i=first: (
                c.put(u, [{"image_id": i, "objects": [new_object()]}], format="json").status_code
            ),
            lambda c=clients[1], u=url, i=second: c.put(u, [{"image_id": i, "objects": []}], format="json").status_code,
        )
        assert codes == [200, 200]
        campaign.refresh_from_db()
        assert campaign.status == Status.COMPLETED
        assert progress(campaign.pk) == {"done": 2, "total": 2}


def test_two_admins_finishing_a_campaign_at_once_queue_one_export(admin_user):
    other_admin = UserFactory(is_staff=True)
    admins = [client_for(admin_user), client_for(other_admin)]
    for _ in range(5):
        campaign = CampaignFactory(status=Status.COMPLETED)
        url = f"{API}/campaigns/{campaign.pk}"
        # The queue is not under test here: count the calls the commit hooks make.
        with mock.patch("core.jobs.queue.async_task", return_value="task") as queue:
            codes = run_at_once(
                *[
                    lambda client=client, url=url: (
                        client.put(url, {"new_status": "finished"}, format="json").status_code
                    )
                    for client in admins
                ]
            )
        assert sorted(codes) == [200, 409]
        assert queue.call_count == 1
        assert CampaignJob.objects.filter(campaign=campaign).count() == 1
        campaign.refresh_from_db()
        assert campaign.status == Status.FINISHED


def test_campaigns_created_at_once_for_one_new_agency_share_one_user_and_one_key(admin_user):
    admin = client_for(admin_user)
    parallel = 6
    for round_ in range(5):
        email = f"agency-{round_}@example.com"
        # Mixed case on some requests: the e-mail is the same agency's.
        bodies = [
            {"title": f"round-{round_}-{i}", "labeler_email": email.upper() if i % 2 else email}
            for i in range(parallel)
        ]
        responses = run_at_once(
            *[lambda body=body: admin.post(f"{API}/campaigns", body, format="json") for body in bodies]
        )

        codes = [response.status_code for response in responses]
        assert set(codes) <= {200, 409}, [r.content for r in responses]
        agency = User.objects.get(email=email)
        assert User.objects.filter(email__iexact=email).count() == 1
        key = ApiKey.objects.get(user=agency)  # exactly one key, and it is active
        assert key.revoked_at is None
        created = [response.json() for response in responses if response.status_code == 200]
        assert {body["access_token"]["apikey"] for body in created} == {key.key}
        secrets = [body["access_token"]["apisecret"] for body in created if body["access_token"]["apisecret"]]
        assert len(secrets) == 1, created
        assert secret_matches(secrets[0], key.secret_hash)
        titles = {body["title"] for body in created}
        assert set(Campaign.objects.filter(labelers=agency).values_list("title", flat=True)) == titles
        assert Campaign.objects.filter(title__startswith=f"round-{round_}-").count() == len(created)


def test_a_review_racing_a_resubmission_binds_to_the_revision_it_saw_or_is_refused(admin_user):
    """The reviewer names the revision they looked at; the agency resubmits the image at the same moment.

    Either the review wins the row lock (it judges that revision, and the
    resubmission then makes a new revision awaiting review), or the
    resubmission wins (the review names a superseded revision: 409). Never a
    decision recorded against a revision the reviewer did not see, never a
    state that disagrees with the latest decision.
    """
    labeler = UserFactory()
    agency, staff = client_for(labeler), client_for(admin_user)
    outcomes = set()
    for _ in range(ROUNDS):
        campaign = make_campaign(images=2, status=Status.ACTIVE, labeler=labeler)
        image_id = image_ids(campaign)[0]
        body = [{"image_id": image_id, "objects": [new_object("seen")]}]
        assert agency.put(f"{API}/campaigns/{campaign.pk}/objects", body, format="json").status_code == 200
        row = CampaignImage.objects.get(campaign=campaign, image_id=image_id)
        seen = row.current_submission_id
        review = [{"image_id": image_id, "decision": "rejected", "reason": "loose", "submission_id": seen}]
        resubmission = [{"image_id": image_id, "objects": [new_object("fixed"), new_object("fixed")]}]
        reviewed, resubmitted = run_at_once(
            lambda campaign=campaign, review=review: staff.put(
                f"{API}/campaigns/{campaign.pk}/reviews", review, format="json"
            ),
            lambda campaign=campaign, resubmission=resubmission: agency.put(
                f"{API}/campaigns/{campaign.pk}/objects", resubmission, format="json"
            ),
        )
        assert resubmitted.status_code == 200
        row.refresh_from_db()
        assert row.current_submission_id != seen
        decisions = list(Review.objects.filter(campaign_image=row).values_list("submission_id", "date_reworked"))
        if reviewed.status_code == 200:
            # The review judged the revision it saw, then the new revision arrived: pending, one rework round.
            assert [submission for submission, _ in decisions] == [seen]
            assert decisions[0][1] is not None
            assert (row.review_state, row.labeled, row.rework_round) == ("pending", True, 1)
            outcomes.add("review first")
        else:
            assert reviewed.status_code == 409, reviewed.content
            assert decisions == []
            assert (row.review_state, row.labeled, row.rework_round) == ("pending", True, 0)
            outcomes.add("resubmission first")
    print(f"review/resubmission race outcomes: {sorted(outcomes)}")  # which order wins is the scheduler's


def test_a_lot_decision_racing_resubmissions_decides_only_the_revisions_its_sample_saw(admin_user):
    """Staff accept a lot while the agency labels a sampled image and a lot image again, and a new image.

    Whichever wins the campaign's lock: every review the lot records names the
    revision recorded in the lot; the image delivered after the draw is never
    decided; an image labeled again ends awaiting review on its new revision;
    and a sampled image labeled again first turns the decision into a 409.
    """
    labeler = UserFactory()
    agency, staff = client_for(labeler), client_for(admin_user)
    outcomes = set()
    for round_ in range(ROUNDS // 2):
        campaign = make_campaign(images=4, status=Status.ACTIVE, labeler=labeler)
        *lot_ids, late = image_ids(campaign)
        objects_url = f"{API}/campaigns/{campaign.pk}/objects"
        assert agency.put(objects_url, objects_body(lot_ids), format="json").status_code == 200
        sample = staff.post(f"{API}/campaigns/{campaign.pk}/samples", {"size": 1}, format="json").json()
        (sampled,) = sample["image_ids"]
        reviews = [{"image_id": sampled, "decision": "accepted"}]
        assert staff.put(f"{API}/campaigns/{campaign.pk}/reviews", reviews, format="json").status_code == 200
        # Every other round the agency relabels the sampled image, else another image of the lot.
        relabeled = sampled if round_ % 2 else next(i for i in lot_ids if i != sampled)
        resubmission = objects_body([relabeled, late], per_image=2)
        decided, resubmitted = run_at_once(
            lambda campaign=campaign, sample=sample: staff.post(
                f"{API}/campaigns/{campaign.pk}/samples/{sample['sample_id']}/decision",
                {"decision": "accept"},
                format="json",
            ),
            lambda resubmission=resubmission, url=objects_url: agency.put(url, resubmission, format="json"),
        )
        assert resubmitted.status_code == 200, resubmitted.content
        rows = {row.image_id: row for row in CampaignImage.objects.filter(campaign=campaign)}
        recorded = dict(
            ReviewLotImage.objects.filter(sample_id=sample["sample_id"]).values_list("campaign_image_id", "submission")
        )
        lot_reviews = Review.objects.filter(sample_id=sample["sample_id"])
        assert all(review.submission_id == recorded[review.campaign_image_id] for review in lot_reviews)
        assert (rows[late].review_state, rows[relabeled].review_state) == ("pending", "pending")
        assert not Review.objects.filter(campaign_image=rows[late]).exists()
        if decided.status_code == 200:
            outcomes.add("decision first")
        else:
            assert relabeled == sampled and decided.status_code == 409, decided.content
            assert not lot_reviews.exists()
            outcomes.add("resubmission of the sampled image first")
    print(f"lot decision/resubmission race outcomes: {sorted(outcomes)}")
