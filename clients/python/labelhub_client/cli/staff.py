"""What staff run: ``imagesets``, the ``campaigns`` subcommands, ``export``; and ``configure`` for everyone."""

from __future__ import annotations

import json
import os
import posixpath
from pathlib import Path

import click

from labelhub_client import config as config_module
from labelhub_client.cli.agency import campaigns
from labelhub_client.cli.app import DEFAULT_WORKERS, LabelhubGroup, State, main, pass_state
from labelhub_client.cli.formats import IMAGE_EXTENSIONS
from labelhub_client.cli.output import EXIT_SERVER, EXIT_USER, Failure, describe, exit_code_for
from labelhub_client.cli.transfer import IncompleteDownload, fetch_verified, read_client, run_parallel
from labelhub_client.errors import ConfigError, Conflict, WaitTimeout


def _json_object(value: str | None, option: str) -> dict | None:
    if value is None:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        raise click.BadParameter("not valid JSON", param_hint=option) from None
    if not isinstance(data, dict):
        raise click.BadParameter("must be a JSON object", param_hint=option)
    return data


def _job_lines(job) -> list[str]:
    if job is None:
        return ["Job: not started"]
    progress = f" ({job.progress.done}/{job.progress.total})" if job.progress else ""
    lines = [f"Job: {job.status}{progress}"]
    if job.error:
        lines.append(f"Error: {job.error}")
    return lines


def _wait(wait_for, what: str, timeout: float | None, poll: float):
    try:
        return wait_for(poll=poll, timeout=timeout)
    except WaitTimeout as exc:
        raise Failure(f"{what}: {exc}", exit_code=EXIT_SERVER) from None


def _job_failed(job) -> bool:
    return job is not None and job.status == "failed"


# --- image sets ------------------------------------------------------------------------


@main.group(cls=LabelhubGroup, invoke_without_command=True)
@click.pass_context
def imagesets(ctx):
    """List image sets (staff); subcommands create, fill and finish one."""
    if ctx.invoked_subcommand is not None:
        return
    state: State = ctx.obj
    found = list(state.client.imagesets())
    rows = [[s.imageset_id, s.status, s.job.status if s.job else "-", s.title] for s in found]
    state.output.result(
        {"image_sets": [dict(s.raw) for s in found]},
        state.output.table(["ID", "STATUS", "JOB", "TITLE"], rows) if found else "No image sets.",
    )


@imagesets.command("create")
@click.argument("title")
@click.option("--metadata", metavar="JSON", help='Free-form JSON object, e.g. \'{"country": "Nederland"}\'.')
@pass_state
def imagesets_create(state: State, title: str, metadata: str | None):
    """Create an image set; prints its id and the dropbox URL its files are uploaded to."""
    created = state.client.imageset_create(title, _json_object(metadata, "--metadata"))
    state.output.result(
        dict(created.raw),
        [
            f"Image set {created.imageset_id} created: {created.title}",
            f"Dropbox URL: {created.dropbox_url}",
            f"Next: labelhub imagesets upload {created.imageset_id} DIR",
        ],
    )


def _image_files(folder: Path, recursive: bool) -> tuple[list[tuple[Path, str]], int]:
    """``(path, name in the set)`` of the image files (by extension) under ``folder``, and how many others."""
    files, others = [], 0
    walk = sorted(folder.rglob("*")) if recursive else sorted(folder.iterdir())
    for path in walk:
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        if path.suffix.lower().lstrip(".") in IMAGE_EXTENSIONS:
            files.append((path, relative.as_posix()))
        else:
            others += 1
    return files, others


@imagesets.command("upload")
@click.argument("imageset", metavar="SET", type=int)
@click.argument("folder", metavar="DIR", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--workers", type=click.IntRange(1, 64), default=DEFAULT_WORKERS, show_default=True, help="Parallel uploads."
)
@click.option("--recursive", "-r", is_flag=True, help="Also the files in subfolders (named by their relative path).")
@pass_state
def imagesets_upload(state: State, imageset: int, folder: Path, workers: int, recursive: bool):
    """Upload DIR's image files (by extension) to the dropbox of image set SET.

    A fresh upload URL is asked for first (the set must still be `created`). Uploading a
    file again replaces it, so the command can simply be run again after a failure.
    """
    output, client = state.output, state.client
    files, others = _image_files(folder, recursive)
    if not files:
        raise Failure(f"{folder}: no image files ({', '.join(sorted(IMAGE_EXTENSIONS)[:6])}, ...)")
    url = client.imageset_upload_url(imageset)
    uploaded: list[str] = []
    failures: list[tuple[str, BaseException]] = []
    size = 0

    def work(item: tuple[Path, str]) -> int:
        path, name = item
        client.upload(url, path, name)
        return path.stat().st_size

    with output.progress(len(files), f"Uploading {len(files)} file(s)") as bar:

        def on_result(item, nbytes: int) -> None:
            nonlocal size
            uploaded.append(item[1])
            size += nbytes
            bar.update(1)

        def on_error(item, exc: BaseException) -> None:
            failures.append((item[1], exc))
            bar.update(1)

        run_parallel(work, files, workers=workers, on_result=on_result, on_error=on_error)
    not_started = len(files) - len(uploaded) - len(failures)
    lines = [f"Uploaded {len(uploaded)} of {len(files)} image file(s) ({size:,} bytes) to image set {imageset}"]
    if others:
        lines.append(f"Left out {others} file(s) that are not images by their extension")
    lines += [f"Failed: {name}: {describe(exc)}" for name, exc in failures[:50]]
    output.result(
        {
            "imageset_id": imageset,
            "uploaded": sorted(uploaded),
            "bytes": size,
            "failed": [{"name": name, "error": describe(exc)} for name, exc in failures],
            "not_started": not_started,
            "not_images": others,
        },
        lines + ([] if failures else [f"Next: labelhub imagesets finish {imageset} --wait"]),
    )
    if failures:
        raise Failure(
            f"{len(failures)} of {len(files)} file(s) not uploaded: run the command again to retry",
            exit_code=max(exit_code_for(exc) for _, exc in failures),
        )


@imagesets.command("finish")
@click.argument("imageset", metavar="SET", type=int)
@click.option("--wait", is_flag=True, help="Follow the finish job until it ends; list the skipped files.")
@click.option("--timeout", type=click.FloatRange(min=0), help="Give up waiting after this many seconds.")
@click.option("--poll", type=click.FloatRange(min=0.05), default=1.0, show_default=True, help="Seconds between checks.")
@pass_state
def imagesets_finish(state: State, imageset: int, wait: bool, timeout: float | None, poll: float):
    """Finish image set SET: its uploaded files become images, in a background job."""
    client, output = state.client, state.output
    try:
        client.imageset_finish(imageset)
    except Conflict:
        if not (wait and client.imageset(imageset).status == "finished"):
            raise
        output.note(f"Image set {imageset} was finished already; following its job")
    if not wait:
        output.result(
            {"imageset_id": imageset, "status": "finishing"},
            f"Image set {imageset} is finishing (follow it with `labelhub imagesets finish {imageset} --wait`"
            " or `labelhub imagesets`)",
        )
        return
    found = _wait(lambda **kw: client.imageset_wait(imageset, **kw), f"image set {imageset}", timeout, poll)
    job = found.job
    reasons = job.skipped_reasons if job else {}
    skipped = [{"name": name, "reason": reasons.get(name) or "not an image"} for name in (job.skipped if job else [])]
    lines = [f"Image set {imageset}: {found.status}", *_job_lines(job)]
    if job and job.progress:
        lines.append(f"Images: {job.progress.done - len(skipped)} registered, {len(skipped)} skipped")
    lines += [f"Skipped: {s['name']}: {s['reason']}" for s in skipped]
    output.result({**dict(found.raw), "skipped": skipped}, lines)
    if _job_failed(job):
        raise Failure(f"the finish job of image set {imageset} failed: {job.error or 'no reason given'}", exit_code=3)


# --- campaigns (staff) ------------------------------------------------------------------


@campaigns.command("create")
@click.argument("title")
@click.option("--labeler", "labeler_email", metavar="EMAIL", required=True, help="The agency's e-mail address.")
@click.option("--metadata", metavar="JSON", help="Free-form JSON object.")
@click.option("--label", "labels", metavar="NAME", multiple=True, help="A label of the schema (repeat for each).")
@click.option("--label-translations", metavar="JSON", help='Labels as sent -> as stored, e.g. \'{"PET": "Plastic"}\'.')
@click.option("--review-required", is_flag=True, default=None, help="Refuse finishing until every image is accepted.")
@click.option("--aql", type=float, help="AQL in percent for acceptance sampling (ISO 2859-1, e.g. 2.5).")
@pass_state
def campaigns_create(
    state: State,
    title: str,
    labeler_email: str,
    metadata: str | None,
    labels: tuple[str, ...],
    label_translations: str | None,
    review_required: bool | None,
    aql: float | None,
):
    """Create a campaign for the agency EMAIL; prints the agency's new key and secret once."""
    translations = _json_object(label_translations, "--label-translations")
    if translations is not None and not all(isinstance(v, str) for v in translations.values()):
        raise click.BadParameter("values must be strings", param_hint="--label-translations")
    created = state.client.campaign_create(
        title,
        labeler_email,
        metadata=_json_object(metadata, "--metadata"),
        label_translations=translations,
        labels=list(labels) or None,
        review_required=review_required,
        aql=aql,
    )
    token = created.access_token
    lines = [f"Campaign {created.campaign_id} created: {created.title} (status {created.status})"]
    lines.append(f"Agency key:    {token.apikey}")
    if token.apisecret:
        lines.append(f"Agency secret: {token.apisecret}")
        lines.append("The secret is shown this once: hand it to the agency now.")
    else:
        lines.append("The agency already has a key: its secret is not shown again.")
    lines.append(f"Next: labelhub campaigns add-images {created.campaign_id} --imageset SET")
    state.output.result(dict(created.raw), lines)


@campaigns.command("add-images")
@click.argument("campaign", type=int)
@click.argument("image_ids", metavar="[IMAGE_ID]...", nargs=-1, type=int)
@click.option("--imageset", metavar="SET", type=int, help="Add every image of this image set.")
@pass_state
def campaigns_add_images(state: State, campaign: int, image_ids: tuple[int, ...], imageset: int | None):
    """Add images to campaign CAMPAIGN (still `created`): an image set's, or the listed ids."""
    if (imageset is None) == (not image_ids):
        raise click.UsageError("give either --imageset SET or image ids, not both and not neither")
    ids = [image.image_id for image in state.client.imageset_images(imageset)] if imageset else list(image_ids)
    if not ids:
        raise Failure(f"image set {imageset} has no images (is it finished?)")
    state.client.campaign_add_images(campaign, ids)
    state.output.result(
        {"campaign_id": campaign, "added": ids},
        [f"Added {len(ids)} image(s) to campaign {campaign}", f"Next: labelhub campaigns activate {campaign}"],
    )


@campaigns.command("activate")
@click.argument("campaign", type=int)
@pass_state
def campaigns_activate(state: State, campaign: int):
    """Open campaign CAMPAIGN for labeling (or reopen a completed one)."""
    state.client.campaign_set_status(campaign, "active")
    state.output.result({"campaign_id": campaign, "status": "active"}, f"Campaign {campaign} is active")


@campaigns.command("finish")
@click.argument("campaign", type=int)
@click.option("--wait", is_flag=True, help="Follow the export job until it ends.")
@click.option("--timeout", type=click.FloatRange(min=0), help="Give up waiting after this many seconds.")
@click.option("--poll", type=click.FloatRange(min=0.05), default=1.0, show_default=True, help="Seconds between checks.")
@pass_state
def campaigns_finish(state: State, campaign: int, wait: bool, timeout: float | None, poll: float):
    """Finish campaign CAMPAIGN (completed): its labels are exported in a background job."""
    client, output = state.client, state.output
    try:
        client.campaign_set_status(campaign, "finished")
    except Conflict:
        if not (wait and client.campaign(campaign).status == "finished"):
            raise
        output.note(f"Campaign {campaign} was finished already; following its export")
    if not wait:
        output.result(
            {"campaign_id": campaign, "status": "finished"},
            f"Campaign {campaign} is finished; its export runs in the background"
            f" (then: labelhub export {campaign} DIR)",
        )
        return
    found = _wait(lambda **kw: client.campaign_wait(campaign, **kw), f"campaign {campaign}", timeout, poll)
    lines = [f"Campaign {campaign}: {found.status}", *_job_lines(found.job)]
    if found.job and found.job.status == "succeeded":
        lines.append(f"Next: labelhub export {campaign} DIR")
    output.result(dict(found.raw), lines)
    if _job_failed(found.job):
        raise Failure(
            f"the export job of campaign {campaign} failed: {found.job.error or 'no reason given'}",
            exit_code=EXIT_SERVER,
        )


# --- export ----------------------------------------------------------------------------


def _export_destination(folder: Path, path: str) -> Path:
    """Where an export file goes under ``folder``; a path that would leave it is refused."""
    normal = posixpath.normpath(path.replace("\\", "/"))
    if not path or normal.startswith(("/", "../")) or normal in (".", "..") or ":" in normal.split("/", 1)[0]:
        raise Failure(f"the export lists a file outside its folder: {path!r}", exit_code=EXIT_SERVER)
    return folder.joinpath(*normal.split("/"))


@main.command()
@click.argument("campaign", type=int)
@click.argument("folder", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option("--workers", type=click.IntRange(1, 16), default=4, show_default=True, help="Parallel downloads.")
@pass_state
def export(state: State, campaign: int, folder: Path, workers: int):
    """Download the export of finished campaign CAMPAIGN into DIR, each file checked against its SHA-256.

    Files already in DIR with the listed checksum are not downloaded again.
    """
    client, output = state.client, state.output
    listing = client.campaign_export(campaign)
    job = listing.job
    if not listing.files:
        status = job.status if job else "not started"
        raise Failure(f"campaign {campaign}'s export has no files yet (its job is {status})")
    if job is not None and job.status != "succeeded":
        output.note(f"Warning: the export job is {job.status}; downloading the files it lists")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise Failure(f"{folder}: {describe(exc)}") from None
    plan = []
    for file in listing.files:
        if not file.url:
            raise Failure(f"the export lists {file.path} without a URL", exit_code=EXIT_SERVER)
        plan.append((file, _export_destination(folder, file.path)))
    results: list[dict] = []
    failures: list[tuple[str, BaseException]] = []
    http = read_client(state.timeout * 2)

    def work(item) -> bool:
        file, dest = item
        return fetch_verified(http, file.url, dest, size=file.size, sha256=file.sha256, attempts=state.retries + 1)

    try:
        with output.progress(len(plan), f"Downloading {len(plan)} export file(s)") as bar:

            def on_result(item, downloaded: bool) -> None:
                file, dest = item
                results.append(
                    {
                        "path": file.path,
                        "file": str(dest),
                        "size": file.size,
                        "sha256": file.sha256,
                        "downloaded": downloaded,
                    }
                )
                bar.update(1)

            def on_error(item, exc: BaseException) -> None:
                failures.append((item[0].path, exc))
                bar.update(1)

            run_parallel(work, plan, workers=workers, on_result=on_result, on_error=on_error)
    finally:
        http.close()
    results.sort(key=lambda r: r["path"])
    lines = [
        f"{r['path']}  {r['size'] if r['size'] is not None else '?'} bytes  "
        f"{'downloaded' if r['downloaded'] else 'already here'}, sha256 ok"
        for r in results
    ]
    lines += [f"FAILED {path}: {describe(exc)}" for path, exc in failures]
    lines.append(f"{len(results)} of {len(plan)} file(s) of campaign {campaign}'s export in {folder}")
    output.result(
        {
            "campaign_id": campaign,
            "folder": str(folder),
            "job": dict(job.raw) if job else None,
            "files": results,
            "failed": [{"path": path, "error": describe(exc)} for path, exc in failures],
        },
        lines,
    )
    if failures:
        mismatch = any(isinstance(exc, IncompleteDownload) for _, exc in failures)
        code = EXIT_SERVER if mismatch else max(exit_code_for(exc) for _, exc in failures)
        what = "did not match the export listing" if mismatch else "could not be downloaded"
        raise Failure(
            f"{len(failures)} export file(s) {what}: {failures[0][0]}: {describe(failures[0][1])}", exit_code=code
        )


# --- configure -------------------------------------------------------------------------


@main.command()
@click.option("--url", "new_url", metavar="URL", help="Server root (prompted for when not given).")
@click.option("--key", "new_key", metavar="KEY", help="API key (prompted for when not given).")
@click.option("--check/--no-check", default=False, help="Try the key on the server before saving it.")
@pass_state
def configure(state: State, new_url: str | None, new_key: str | None, check: bool):
    """Save the server URL, key and secret in the config file (mode 0600); the secret is prompted for, hidden.

    The file is --config FILE, else $LABELHUB_CONFIG, else ~/.config/labelhub/config.json.
    LABELHUB_URL, LABELHUB_KEY and LABELHUB_SECRET in the environment override it.
    """
    output = state.output
    url = new_url or state.url or click.prompt("Server URL (e.g. https://labelhub.example.com)", err=True)
    key = new_key or state.key or click.prompt("API key", err=True)
    secret = click.prompt("API secret", hide_input=True, err=True)
    output.protect(secret)
    url, key, secret = url.strip(), key.strip(), secret.strip()
    if not (url and key and secret):
        raise Failure("the URL, the key and the secret are all needed")
    from labelhub_client.client import Client, api_base

    try:
        api_base(url)
    except ConfigError as exc:
        raise Failure(str(exc)) from None
    if check:
        with Client(url, key, secret, timeout=state.timeout, retries=1) as client:
            next(iter(client.campaigns()), None)
    path = Path(state.config_path) if state.config_path else config_module.default_path()
    try:
        saved = config_module.save(config_module.Config(url=url, key=key, secret=secret), path)
    except OSError as exc:
        raise Failure(f"cannot write {path}: {describe(exc)}", exit_code=EXIT_USER) from None
    mode = oct(os.stat(saved).st_mode & 0o777)
    output.result(
        {"config": str(saved), "url": url, "key": key, "mode": mode},
        f"Saved {saved} (mode {mode[2:]}){' after checking the key' if check else ''}",
    )
