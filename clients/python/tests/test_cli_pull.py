"""``labelhub pull`` against a live labelhub: interrupted, run again, it downloads only what is missing.

The campaign's images are written straight to local storage; the agency runs the CLI
in-process (click's ``CliRunner``). The storage "goes away" after a number of downloads
through the read client's transport: the real retry and failure paths run.
"""

from __future__ import annotations

import json

import httpx
import pytest
from click.testing import CliRunner

from accounts.services import apikey_issue
from accounts.tests.factories import UserFactory
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory, CampaignImageFactory, CampaignLabelerFactory
from imagesets.tests import samples
from imagesets.tests.factories import ImageFactory
from labelhub_client.cli import agency, main

pytestmark = pytest.mark.django_db(transaction=True)


class ReadTransport(httpx.HTTPTransport):
    """The read client's transport: records every request; after ``fail_after`` of them the storage is gone."""

    def __init__(self, fail_after: int | None = None):
        super().__init__()
        self.requests: list[str] = []
        self.fail_after = fail_after

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url.path)
        if self.fail_after is not None and len(self.requests) > self.fail_after:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return super().handle_request(request)


@pytest.fixture
def read_transport(monkeypatch):
    """Installs a ``ReadTransport`` as the pull's read client; ``read_transport(fail_after)`` makes a new one."""
    current: list[ReadTransport] = []

    def install(fail_after: int | None = None) -> ReadTransport:
        transport = ReadTransport(fail_after)
        current[:] = [transport]
        return transport

    def client(timeout: float = 60.0) -> httpx.Client:
        return httpx.Client(transport=current[0], follow_redirects=True, headers={"Accept-Encoding": "identity"})

    monkeypatch.setattr(agency, "read_client", client)
    return install


@pytest.fixture
def campaign_with_files(local_storage, settings):
    """An active campaign of 6 stored PNG images of different sizes, its agency's key, and the files' bytes."""
    agency_user = UserFactory(email="agency@example.com")
    issued = apikey_issue(user=agency_user)
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE)
    CampaignLabelerFactory(campaign=campaign, user=agency_user)
    files = {}
    for n in range(6):
        data = samples.png(40 + 10 * n, 30 + n)
        path = f"{settings.AZURE_STORAGE_IMAGESET_CONTAINER}/uploads/set/image-{n}.png"
        local_storage.write(path, [data], content_type="image/png")
        image = ImageFactory(blobstorage_path=path, filesize=len(data), width=40 + 10 * n, height=30 + n)
        CampaignImageFactory(campaign=campaign, image=image)
        files[image.pk] = data
    return campaign, issued, files


def run(live_server, issued, tmp_path, *args, code=0):
    env = {
        "LABELHUB_URL": live_server.url,
        "LABELHUB_KEY": issued.apikey,
        "LABELHUB_SECRET": issued.secret,
        "LABELHUB_CONFIG": str(tmp_path / "no-config.json"),
    }
    result = CliRunner().invoke(main, ["--json", "--retries", "1", *map(str, args)], env=env)
    assert issued.secret not in result.stdout + result.stderr
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return (json.loads(result.stdout) if result.stdout else None), result.stderr


def test_an_interrupted_pull_resumes_with_only_what_is_missing(
    live_server, campaign_with_files, read_transport, tmp_path
):
    campaign, issued, files = campaign_with_files
    ids = sorted(files)
    folder = tmp_path / "pulled"
    folder.mkdir()
    # Left by an earlier interruption: a truncated partial download, and a file of the wrong size.
    (folder / f"{ids[4]}.png.part").write_bytes(files[ids[4]][:100])
    (folder / f"{ids[5]}.png").write_bytes(files[ids[5]] + b"junk")

    # The storage goes away after two downloads: exit 3, the two complete files are in the manifest.
    first = read_transport(fail_after=2)
    summary, stderr = run(live_server, issued, tmp_path, "pull", campaign.pk, folder, "--workers", "1", code=3)
    assert (summary["downloaded"], summary["already_complete"], summary["images"]) == (2, 0, 6)
    assert [failure["image_id"] for failure in summary["failed"]] == [ids[2]]
    assert "Connection refused" in summary["failed"][0]["error"]
    assert summary["not_started"] == 3
    assert "could not be downloaded (run the same command again to resume)" in json.loads(stderr)["error"]["message"]
    assert len(first.requests) == 2 + 2  # two downloads, then the failed one and its retry
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["campaign_id"] == campaign.pk
    assert [(e["image_id"], e["file"], e["size"]) for e in manifest["images"]] == [
        (i, f"{i}.png", len(files[i])) for i in ids[:2]
    ]
    assert not (folder / f"{ids[2]}.png").exists() and not list(folder.glob(f"{ids[2]}.*.part"))
    # One complete file lost its manifest entry (a run killed before saving): it is checked, not fetched.
    manifest["images"] = manifest["images"][:1]
    (folder / "manifest.json").write_text(json.dumps(manifest))

    second = read_transport()
    summary, _ = run(live_server, issued, tmp_path, "pull", campaign.pk, folder, "--workers", "3")
    assert (summary["downloaded"], summary["already_complete"], summary["failed"]) == (4, 2, [])
    assert len(second.requests) == 5  # image 1 checked by its size, images 2-5 downloaded; image 0 not asked for
    for image_id, data in files.items():
        assert (folder / f"{image_id}.png").read_bytes() == data
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"{i}.png" for i in ids] + ["manifest.json"])
    entries = json.loads((folder / "manifest.json").read_text())["images"]
    assert [(e["image_id"], e["file"], e["size"], e["width"], e["height"], e["rejection"]) for e in entries] == [
        (i, f"{i}.png", len(files[i]), 40 + 10 * n, 30 + n, None) for n, i in enumerate(ids)
    ]

    # Complete and verified: a third run asks the storage for nothing.
    third = read_transport()
    summary, _ = run(live_server, issued, tmp_path, "pull", campaign.pk, folder)
    assert (summary["downloaded"], summary["already_complete"]) == (0, 6) and third.requests == []


def test_a_short_body_is_never_kept_as_a_complete_file(live_server, campaign_with_files, monkeypatch, tmp_path):
    """A body shorter than its Content-Length (a connection cut mid-file) leaves no file; a retry completes it.

    The first image is cut short on both attempts (``--retries 1``): it fails (exit 3), the next
    image is cut once and then completes, and the others come whole.
    """
    campaign, issued, files = campaign_with_files
    ids = sorted(files)
    cut = {"left": 3}

    class Cutting(httpx.HTTPTransport):
        def handle_request(self, request):
            response = super().handle_request(request)
            if cut["left"] <= 0:
                return response
            cut["left"] -= 1
            data = response.read()
            return httpx.Response(200, headers={**response.headers}, content=data[: len(data) // 2])

    monkeypatch.setattr(
        agency,
        "read_client",
        lambda timeout=60.0: httpx.Client(transport=Cutting(), headers={"Accept-Encoding": "identity"}),
    )
    folder = tmp_path / "pulled"
    summary, _ = run(live_server, issued, tmp_path, "pull", campaign.pk, folder, "--workers", "1", code=3)
    assert summary["downloaded"] == 5
    assert [(f["image_id"], f["error"]) for f in summary["failed"]] == [
        (ids[0], f"image {ids[0]}: received {len(files[ids[0]]) // 2} of {len(files[ids[0]])} bytes")
    ]
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"{i}.png" for i in ids[1:]] + ["manifest.json"])
    for image_id in ids[1:]:
        assert (folder / f"{image_id}.png").read_bytes() == files[image_id]


def test_a_folder_of_another_campaign_is_refused(live_server, campaign_with_files, tmp_path):
    campaign, issued, _ = campaign_with_files
    folder = tmp_path / "pulled"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"campaign_id": campaign.pk + 1, "images": []}))
    _, stderr = run(live_server, issued, tmp_path, "pull", campaign.pk, folder, code=1)
    assert f"holds the images of campaign {campaign.pk + 1}" in json.loads(stderr)["error"]["message"]
