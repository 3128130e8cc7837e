"""Test data for the export tests: a finished campaign whose expected files are computed by hand."""

from __future__ import annotations

from campaigns.models import BoundingBox, Campaign, CampaignImage, ReviewState, Submission
from campaigns.tests.factories import CampaignFactory, CampaignImageFactory
from imagesets.tests.factories import ImageFactory


def label_image(campaign_image: CampaignImage, boxes: list[dict]) -> Submission:
    """Store ``boxes`` as the current submission of the image (created in reverse, so ids differ from positions)."""
    submission = Submission.objects.create(campaign=campaign_image.campaign, image_count=1, object_count=len(boxes))
    for position, box in reversed(list(enumerate(boxes))):
        BoundingBox.objects.create(
            campaign_image=campaign_image,
            submission=submission,
            position=position,
            label_original=box.get("label_original", box["label"]),
            **{k: v for k, v in box.items() if k != "label_original"},
        )
    campaign_image.current_submission = submission
    campaign_image.labeled = True
    campaign_image.review_state = ReviewState.PENDING  # as objects_replace leaves a new revision
    campaign_image.revision_count += 1
    campaign_image.save(update_fields=["current_submission", "labeled", "review_state", "revision_count"])
    return submission


def obj(label, confidence, xmin, ymin, xmax, ymax, **extra) -> dict:
    return {"label": label, "confidence": confidence, "xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax, **extra}


def make_exportable_campaign(*, title: str = "beach-2024", status: str = Campaign.Status.FINISHED):
    """Four images (added out of id order) and a second campaign whose objects must never leak in.

    a.png 200x100: Plastic 0.9 [20,10,50,40], Glass null [100,0,200,100]
    b.JPG 400x300: labeled, no objects
    c.png 200x200: not labeled
    d.png 300x150: an old submission (Old), then the current one: PET (from Plastic) 0.56 [30,15,60,45]
    """
    campaign = CampaignFactory(title=title, status=status)
    a = ImageFactory(blobstorage_path="images/uploads/set-a/a.png", width=200, height=100)
    b = ImageFactory(blobstorage_path="images/uploads/set-a/b.JPG", width=400, height=300, filetype="JPEG")
    c = ImageFactory(blobstorage_path="images/uploads/set-a/c.png", width=200, height=200)
    d = ImageFactory(blobstorage_path="images/uploads/set-b/d.png", width=300, height=150)
    ci_d = CampaignImageFactory(campaign=campaign, image=d)
    ci_b = CampaignImageFactory(campaign=campaign, image=b)
    ci_a = CampaignImageFactory(campaign=campaign, image=a)
    CampaignImageFactory(campaign=campaign, image=c)

    label_image(ci_a, [obj("Plastic", 0.9, 20, 10, 50, 40), obj("Glass", None, 100, 0, 200, 100)])
    label_image(ci_b, [])
    label_image(ci_d, [obj("Old", 0.1, 0, 0, 10, 10)])
    label_image(ci_d, [obj("PET", 0.56, 30, 15, 60, 45, label_original="Plastic")])

    other = CampaignFactory(title=f"{title}-other", status=Campaign.Status.FINISHED)
    label_image(CampaignImageFactory(campaign=other, image=a), [obj("Other", 1.0, 0, 0, 5, 5)])
    return campaign, {"a": a, "b": b, "c": c, "d": d}


EXPECTED_CSV = (
    "image_url,label,label_confidence\n"
    'uploads/set-a/a.png,"[{""label"": ""Plastic"", ""topX"": 0.1, ""topY"": 0.1, ""bottomX"": 0.25, '
    '""bottomY"": 0.4}, {""label"": ""Glass"", ""topX"": 0.5, ""topY"": 0.0, ""bottomX"": 1.0, ""bottomY"": 1.0}]",'
    '"[0.9, null]"\n'
    "uploads/set-a/b.JPG,[],[]\n"
    "uploads/set-a/c.png,[],[]\n"
    'uploads/set-b/d.png,"[{""label"": ""PET"", ""topX"": 0.1, ""topY"": 0.1, ""bottomX"": 0.2, ""bottomY"": 0.3}]",'
    "[0.56]\n"
)
