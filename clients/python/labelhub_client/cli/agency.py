"""What a labeling agency runs: ``campaigns``, ``pull``, ``push``, ``rejections``, ``predictions``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from labelhub_client.cli.app import DEFAULT_WORKERS, LabelhubGroup, State, main, pass_state
from labelhub_client.cli.formats import FORMATS, FormatError, ImageMatcher, image_size, read_labels, to_coco
from labelhub_client.cli.manifest import MANIFEST_NAME, Entry, Manifest, ManifestError, write_json_atomically
from labelhub_client.cli.output import EXIT_SERVER, EXIT_USER, Failure, describe, exit_code_for
from labelhub_client.cli.transfer import Fetched, fetch_image, read_client, run_parallel

STATES = ("unlabeled", "rejected", "labeled", "accepted")
MANIFEST_SAVE_SECONDS = 2.0
PREDICTIONS_FILE = "predictions.coco.json"


def _failed_exit(errors: list[BaseException]) -> int:
    return max((exit_code_for(exc) for exc in errors), default=EXIT_USER)


def _campaign_row(campaign) -> list[Any]:
    progress = campaign.progress
    done = f"{progress.done}/{progress.total}" if progress else ""
    return [campaign.campaign_id, campaign.status, done, campaign.title]


# --- campaigns -------------------------------------------------------------------------


@main.group(cls=LabelhubGroup, invoke_without_command=True)
@click.pass_context
def campaigns(ctx):
    """List campaigns (an agency: its own, with progress); staff subcommands create and run them."""
    if ctx.invoked_subcommand is not None:
        return
    state: State = ctx.obj
    found = list(state.client.campaigns())
    lines = state.output.table(["ID", "STATUS", "LABELED", "TITLE"], [_campaign_row(c) for c in found])
    state.output.result({"campaigns": [dict(c.raw) for c in found]}, lines if found else "No campaigns for this key.")


# --- pull ------------------------------------------------------------------------------


def _rejection(image) -> dict | None:
    review = image.review
    if review is None or review.decision != "rejected":
        return None
    return {"reason": review.reason, "reason_code": review.reason_code, "date": review.raw.get("date")}


def _dimension(image, name: str) -> int | None:
    value = image.raw.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _entry(manifest: Manifest, image, file: str, size: int) -> Entry:
    width, height = _dimension(image, "width"), _dimension(image, "height")
    if width is None or height is None:
        measured = image_size(manifest.folder / file)
        if measured:
            width, height = measured
    return Entry(image.image_id, file, size, width, height, _rejection(image))


def _remove_stale_parts(folder: Path, image_ids: set[int]) -> None:
    """``.part`` files of an interrupted run: never complete, so never kept (they are fetched again)."""
    for part in folder.glob("*.part"):
        stem = part.name.split(".", 1)[0]
        if stem.isdigit() and int(stem) in image_ids and part.is_file():
            part.unlink()


@main.command()
@click.argument("campaign", type=int)
@click.argument("folder", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option("--state", "image_state", type=click.Choice(STATES), help="Only the images in this review state.")
@click.option(
    "--workers", type=click.IntRange(1, 64), default=DEFAULT_WORKERS, show_default=True, help="Parallel downloads."
)
@pass_state
def pull(state: State, campaign: int, folder: Path, image_state: str | None, workers: int):
    """Download a campaign's images into DIR, with DIR/manifest.json.

    Files are named <image id>.<ext>. Run it again after an interruption: only missing files
    and files of the wrong size are downloaded (a partial download is kept as *.part and
    never taken for a complete file). Each file is verified by its size.
    """
    output, client = state.output, state.client
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise Failure(f"{folder}: {describe(exc)}") from None
    try:
        manifest = Manifest.load(folder)
    except ManifestError as exc:
        output.note(f"Warning: {exc}; starting a new manifest")
        manifest = Manifest(folder)
    if manifest.campaign_id not in (None, campaign):
        raise Failure(f"{folder} holds the images of campaign {manifest.campaign_id}: pull into another folder")
    manifest.campaign_id = campaign

    images = list(client.campaign_images(campaign, state=image_state))
    _remove_stale_parts(folder, {image.image_id for image in images})
    todo, complete = [], 0
    for image in images:
        entry = manifest.get(image.image_id)
        if entry is not None and manifest.complete(entry):
            manifest.put(_entry(manifest, image, entry.file, entry.size))  # the review may have changed
            complete += 1
        else:
            todo.append(image)

    downloaded, verified = 0, 0
    failures: list[tuple[int, BaseException]] = []
    last_save = time.monotonic()
    http = read_client(state.timeout * 2)

    def work(image) -> Fetched:
        return fetch_image(http, client.image_url(image.image_id), folder, image.image_id, attempts=state.retries + 1)

    try:
        with output.progress(len(todo), f"Pulling {len(todo)} image(s)") as bar:

            def on_result(image, fetched: Fetched) -> None:
                nonlocal downloaded, verified, last_save
                manifest.put(_entry(manifest, image, fetched.file, fetched.size))
                if fetched.downloaded:
                    downloaded += 1
                else:
                    verified += 1
                bar.update(1)
                if time.monotonic() - last_save > MANIFEST_SAVE_SECONDS:
                    manifest.save()
                    last_save = time.monotonic()

            def on_error(image, exc: BaseException) -> None:
                failures.append((image.image_id, exc))
                bar.update(1)

            finished = run_parallel(work, todo, workers=workers, on_result=on_result, on_error=on_error)
    finally:
        http.close()
        manifest.save()

    not_started = len(todo) - downloaded - verified - len(failures)
    summary = {
        "campaign_id": campaign,
        "folder": str(folder),
        "manifest": str(manifest.path),
        "state": image_state,
        "images": len(images),
        "downloaded": downloaded,
        "already_complete": complete + verified,
        "failed": [{"image_id": image_id, "error": describe(exc)} for image_id, exc in failures],
        "not_started": not_started,
    }
    lines = [
        f"{len(images)} image(s) in campaign {campaign}" + (f" ({image_state})" if image_state else "") + ":",
        f"  downloaded {downloaded}, already complete {complete + verified}"
        + (f", failed {len(failures)}" if failures else "")
        + (f", not started {not_started}" if not_started else ""),
        f"  manifest: {manifest.path}",
    ]
    lines += [f"  image {image_id}: {describe(exc)}" for image_id, exc in failures[:20]]
    output.result(summary, lines)
    if failures:
        code = _failed_exit([exc for _, exc in failures])
        rerun = " (run the same command again to resume)" if code == EXIT_SERVER or not finished else ""
        raise Failure(f"{len(failures)} of {len(images)} image(s) could not be downloaded{rerun}", exit_code=code)


# --- push ------------------------------------------------------------------------------


def _manifest_for(source: Path, manifest_dir: Path | None, campaign: int, output) -> Manifest | None:
    """The pull manifest: in ``--manifest DIR`` (required there), else beside FILE (for a folder: in it or above)."""
    if manifest_dir is not None:
        candidates, required = [manifest_dir], True
    elif source.is_dir():
        candidates, required = [source, source.parent], False
    else:
        candidates, required = [source.parent], False
    for folder in candidates:
        if (folder / MANIFEST_NAME).is_file() or required:
            try:
                manifest = Manifest.load(folder, missing_ok=False)
            except ManifestError as exc:
                raise Failure(str(exc)) from None
            if manifest.campaign_id not in (None, campaign):
                raise Failure(
                    f"{manifest.path} lists the images of campaign {manifest.campaign_id}, not of campaign {campaign}"
                )
            return manifest
    return None


@main.command()
@click.argument("campaign", type=int)
@click.argument("source", metavar="FILE", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("auto", *FORMATS)),
    default="auto",
    show_default=True,
    help="labelhub JSON, COCO JSON, or a YOLO folder (auto: a folder is YOLO, a JSON list labelhub, else COCO).",
)
@click.option(
    "--manifest",
    "manifest_dir",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the pull's manifest.json (default: FILE's folder; for a YOLO folder, it or its parent).",
)
@click.option("--coco-ids", is_flag=True, help="COCO image ids are labelhub image ids (as labelhub's COCO export).")
@click.option("--chunk-size", type=click.IntRange(1, 10000), help="Images per request (default: the client's).")
@click.option("--dry-run", is_flag=True, help="Read and check FILE, send nothing.")
@pass_state
def push(
    state: State,
    campaign: int,
    source: Path,
    fmt: str,
    manifest_dir: Path | None,
    coco_ids: bool,
    chunk_size: int | None,
    dry_run: bool,
):
    """Submit the objects found on images, from FILE.

    \b
    FILE is one of:
      labelhub JSON   the body of PUT /campaigns/{id}/objects:
                      [{"image_id": 17, "objects": [{"label", "confidence", "bounding_box": {xmin, xmax, ymin, ymax}}]}]
      COCO JSON       images (file_name), annotations (bbox [x, y, w, h] in pixels, score), categories
      a YOLO folder   <image>.txt files ("class cx cy w h [confidence]", fractions) and classes.txt or data.yaml

    Images are matched by the file names `labelhub pull` wrote (<image id>.<ext>, listed in
    its manifest.json), by a name that is the image id, or (COCO, --coco-ids) by the COCO image id.
    Every image in FILE is replaced by FILE's objects (no objects: labeled, nothing found).
    The submission goes in chunks; each chunk is all or nothing, and a refused chunk is
    reported with the server's reason while the others are stored.
    """
    output = state.output
    manifest = _manifest_for(source, manifest_dir, campaign, output)
    try:
        found_format, items = read_labels(source, fmt=fmt, matcher=ImageMatcher(manifest), coco_ids=coco_ids)
    except FormatError as exc:
        raise Failure(str(exc)) from None
    objects = sum(len(item["objects"]) for item in items)
    if not items:
        raise Failure(f"{source}: no images to submit")
    if dry_run:
        output.result(
            {"campaign_id": campaign, "format": found_format, "images": len(items), "objects": objects, "sent": False},
            f"{source} ({found_format}): {len(items)} image(s), {objects} object(s); nothing sent (--dry-run)",
        )
        return
    report = state.client.submit_objects(campaign, items, chunk_size=chunk_size)
    failed = [
        {
            "image_ids": chunk.image_ids,
            "status": getattr(chunk.error, "status", None),
            "detail": getattr(chunk.error, "detail", None) or str(chunk.error),
            "error": describe(chunk.error),
        }
        for chunk in report.failed
    ]
    lines = [
        f"{source} ({found_format}): {len(items)} image(s), {objects} object(s)",
        f"Stored: {len(report.stored)} image(s) in campaign {campaign}",
    ]
    for chunk in report.failed:
        lines.append(f"Failed: {_ids_text(chunk.image_ids)}: {describe(chunk.error)}")
    output.result(
        {
            "campaign_id": campaign,
            "format": found_format,
            "images": len(items),
            "objects": objects,
            "stored": report.stored,
            "failed": failed,
        },
        lines,
    )
    if report.failed:
        not_stored = sum(len(chunk.image_ids) for chunk in report.failed)
        first = report.failed[0].error
        raise Failure(
            f"{not_stored} of {len(items)} image(s) not stored ({len(report.failed)} failed request(s)); "
            f"first: {describe(first)}",
            exit_code=_failed_exit([chunk.error for chunk in report.failed]),
            status=getattr(first, "status", None),
        )


def _ids_text(ids: list[int]) -> str:
    if len(ids) == 1:
        return f"image {ids[0]}"
    if len(ids) <= 6:
        return "images " + ", ".join(map(str, ids))
    return f"{len(ids)} images ({ids[0]} ... {ids[-1]})"


# --- rejections ------------------------------------------------------------------------


@main.command()
@click.argument("campaign", type=int)
@pass_state
def rejections(state: State, campaign: int):
    """The images sent back for rework, with the reviewer's reasons: label them again and push."""
    rejected = []
    for image in state.client.campaign_images(campaign, state="rejected"):
        review = image.review
        rejected.append(
            {
                "image_id": image.image_id,
                "reason": review.reason if review else "",
                "reason_code": review.reason_code if review else "",
                "date": review.raw.get("date") if review else None,
            }
        )
    rows = [[r["image_id"], r["reason_code"] or "-", r["date"] or "", r["reason"]] for r in rejected]
    lines = state.output.table(["IMAGE", "CODE", "DATE", "REASON"], rows) if rejected else []
    if rejected:
        lines.append(f"{len(rejected)} image(s) to label again.")
    state.output.result(
        {"campaign_id": campaign, "rejections": rejected}, lines or f"No rejected images in campaign {campaign}."
    )


# --- predictions -----------------------------------------------------------------------


@main.command()
@click.argument("campaign", type=int)
@click.argument("folder", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option("--state", "image_state", type=click.Choice(STATES), help="Only the images in this review state.")
@click.option(
    "--workers", type=click.IntRange(1, 64), default=DEFAULT_WORKERS, show_default=True, help="Parallel requests."
)
@pass_state
def predictions(state: State, campaign: int, folder: Path, image_state: str | None, workers: int):
    """Fetch a model's pre-annotations of the campaign's images into DIR/predictions.coco.json.

    Images are named as `labelhub pull` named them when DIR holds its manifest.json, else by
    their id. Only images with predictions are listed.
    """
    output, client = state.output, state.client
    try:
        folder.mkdir(parents=True, exist_ok=True)
        manifest = Manifest.load(folder)
    except ManifestError:
        manifest = Manifest(folder)
    except OSError as exc:
        raise Failure(f"{folder}: {describe(exc)}") from None
    images = list(client.campaign_images(campaign, state=image_state))
    found: dict[int, dict] = {}
    failures: list[tuple[int, BaseException]] = []

    def work(image) -> dict:
        return client.campaign_image_objects(campaign, image.image_id)

    with output.progress(len(images), f"Reading predictions of {len(images)} image(s)") as bar:

        def on_result(image, body: dict) -> None:
            found[image.image_id] = {"image": image, "body": body}
            bar.update(1)

        def on_error(image, exc: BaseException) -> None:
            failures.append((image.image_id, exc))
            bar.update(1)

        run_parallel(work, images, workers=workers, on_result=on_result, on_error=on_error)
    if failures:
        image_id, exc = failures[0]
        raise Failure(
            f"{len(failures)} image(s) could not be read; image {image_id}: {describe(exc)}",
            exit_code=_failed_exit([e for _, e in failures]),
        )
    coco_images, models = [], {}
    for image_id in sorted(found):
        image, body = found[image_id]["image"], found[image_id]["body"]
        predicted = body.get("predictions") or {}
        objects = predicted.get("objects") or []
        model = predicted.get("model")
        if model is None and not objects:
            continue
        if model:
            models[(model.get("name"), model.get("version"))] = model
        entry = manifest.get(image_id)
        width, height = _dimension(image, "width"), _dimension(image, "height")
        if entry is not None:
            width, height = width or entry.width, height or entry.height
        coco_images.append(
            {
                "image_id": image_id,
                "file_name": entry.file if entry else str(image_id),
                "width": width,
                "height": height,
                "objects": objects,
            }
        )
    info = {
        "description": f"labelhub pre-annotations of campaign {campaign}",
        "campaign_id": campaign,
        "models": list(models.values()),
    }
    document = to_coco(coco_images, info=info)
    path = folder / PREDICTIONS_FILE
    write_json_atomically(path, document)
    boxes = len(document["annotations"])
    output.result(
        {"campaign_id": campaign, "file": str(path), "images": len(coco_images), "annotations": boxes},
        f"{boxes} predicted box(es) on {len(coco_images)} of {len(images)} image(s): {path}",
    )
