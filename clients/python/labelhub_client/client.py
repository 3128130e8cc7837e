"""The labelhub API client: one ``Client`` per server and key, safe to share between threads."""

from __future__ import annotations

import json
import mimetypes
import os
import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from . import config as config_file
from .errors import (
    ApiError,
    ConfigError,
    LabelhubError,
    PayloadTooLarge,
    TransportError,
    WaitTimeout,
    error_for,
    retry_after_seconds,
)
from .models import (
    Campaign,
    CampaignImage,
    CreatedCampaign,
    CreatedImageSet,
    Export,
    FailedChunk,
    Image,
    ImageSet,
    Model,
    NewObject,
    SubmitReport,
)

API_PATH = "/api/v1"
# Images per PUT of objects: well under the server's IMAGES_PER_REQUEST_MAX (10,000 by default).
SUBMIT_CHUNK_SIZE = 500
# Image ids per POST of a campaign's images (each is a ~15-byte {"id": n}).
ADD_IMAGES_CHUNK_SIZE = 5000
# JSON body bytes per request: under the server's 10 MiB DATA_UPLOAD_MAX_MEMORY_SIZE.
MAX_BODY_BYTES = 8 * 1024 * 1024
# Answers worth the same request again a little later.
RETRY_STATUSES = frozenset({429, 503})
# Failures that happen before the request is sent: safe to retry whatever the request.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

M = TypeVar("M", bound=Model)
WithJob = TypeVar("WithJob", ImageSet, Campaign)
_Encoded = tuple[int, bytes]  # an image id and its JSON item of a PUT of objects


def _package_version() -> str:
    try:
        return metadata.version("labelhub-client")
    except metadata.PackageNotFoundError:  # imported from a source tree, not installed
        return "0+unknown"


__version__ = _package_version()


def api_base(url: str) -> str:
    """The API base of a server root URL (``https://host`` -> ``https://host/api/v1``); one with it is kept."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ConfigError(f"not a URL: {url!r}") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigError(f"not an http(s) URL: {url!r}")
    root = url.rstrip("/")
    return root if root.endswith(API_PATH) else root + API_PATH


class Client:
    """A labelhub server, as staff (an image-admin key) or as an agency (a labeler key) uses it.

    ``url`` is the server root (``https://labelhub.example.com``; a URL already ending in
    ``/api/v1`` is taken as is). The key and secret go, as the two ``Authentication-*`` headers,
    to the API only: never to a dropbox, storage or redirect URL.

    Requests are retried ``retries`` times with exponential backoff (``backoff`` seconds, doubled
    each time, with jitter) when the connection fails and when the server answers 429 or 503,
    after the ``Retry-After`` it sends (an answer asking for more than ``max_retry_after``
    seconds is raised at once). A request the server may have applied is retried after a broken
    connection only when repeating it is harmless (reads, replacing objects, uploads). Errors
    are raised as :class:`~labelhub_client.errors.ApiError` subclasses carrying the server's
    ``detail``, or :class:`~labelhub_client.errors.TransportError`.

    Use it as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        url: str,
        key: str,
        secret: str,
        *,
        timeout: float = 30.0,
        retries: int = 5,
        backoff: float = 0.5,
        max_retry_after: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ):
        if not key or not secret:
            raise ConfigError("an API key and its secret are both required")
        self.url = api_base(url)
        self.key = key
        self._secret = secret
        self.retries = retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self._http = httpx.Client(
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": f"labelhub-client/{__version__}"},
        )

    @classmethod
    def from_env(cls, path: str | os.PathLike[str] | None = None, **options: Any) -> Client:
        """A client configured by the environment and the config file (see :func:`labelhub_client.config.load`)."""
        found = config_file.load(path)
        return cls(found.url, found.key, found.secret, **options)

    def __repr__(self) -> str:
        return f"Client(url={self.url!r}, key={self.key!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    # --- Image sets (staff) ---

    def imagesets(self) -> Iterator[ImageSet]:
        """Every image set, in id order."""
        return self._models(ImageSet, "/image_sets", "image_sets")

    def imageset(self, id: int) -> ImageSet:
        """One image set."""
        return ImageSet.from_dict(self._json("GET", f"/image_sets/{id}"))

    def imageset_create(self, title: str, metadata: Mapping[str, Any] | None = None) -> CreatedImageSet:
        """A new image set in status ``created``, with the ``dropbox_url`` its files are uploaded to."""
        body: dict[str, Any] = {"title": title}
        if metadata is not None:
            body["metadata"] = dict(metadata)
        return CreatedImageSet.from_dict(self._json("POST", "/image_sets", json=body))

    def imageset_upload_url(self, id: int) -> str:
        """A fresh dropbox URL of a set still ``created`` (the one it was created with may have expired)."""
        return self._json("POST", f"/image_sets/{id}/upload_url")["dropbox_url"]

    def imageset_finish(self, id: int) -> None:
        """Finish the set: its uploaded files are registered as images by a background job."""
        self._request("PUT", f"/image_sets/{id}", json={"new_status": "finished"})

    def imageset_wait(self, id: int, *, poll: float = 1.0, timeout: float | None = None) -> ImageSet:
        """The set once its finish job has ended, succeeded or failed (look at ``job.status``).

        Polls every ``poll`` seconds; raises :class:`WaitTimeout` after ``timeout`` seconds (``None``: no limit).
        """
        return self._wait(lambda: self.imageset(id), poll=poll, timeout=timeout, what=f"image set {id}")

    def imageset_images(self, id: int) -> Iterator[Image]:
        """The images of a set, in id order."""
        return self._models(Image, f"/image_sets/{id}/images", "images")

    def images(self) -> Iterator[Image]:
        """Every image, in id order."""
        return self._models(Image, "/images", "images")

    def upload(self, dropbox_url: str, file_path: str | os.PathLike[str], name: str | None = None) -> None:
        """Upload one file to an image set's dropbox as ``name`` (default: the file's name).

        One plain ``PUT`` of the raw bytes to ``<dropbox path>/<name>?<dropbox query>``, the same
        for labelhub's local dropbox and an Azure container SAS URL; an upload of the same name
        replaces the earlier one.
        """
        path = Path(file_path)
        url = _dropbox_file_url(dropbox_url, name or path.name)
        headers = {
            "x-ms-blob-type": "BlockBlob",
            "Content-Type": mimetypes.guess_type(path.name)[0] or "application/octet-stream",
        }

        def send() -> httpx.Response:
            with path.open("rb") as body:
                return self._http.put(url, content=body, headers=headers)

        self._with_retries(send, idempotent=True)

    # --- Campaigns ---

    def campaigns(self) -> Iterator[Campaign]:
        """Every campaign (staff), or the key's own campaigns with their progress (an agency)."""
        return self._models(Campaign, "/campaigns", "campaigns")

    def campaign(self, id: int) -> Campaign:
        """One campaign (an agency gets the fields labeling needs)."""
        return Campaign.from_dict(self._json("GET", f"/campaigns/{id}"))

    def campaign_create(
        self,
        title: str,
        labeler_email: str,
        *,
        metadata: Mapping[str, Any] | None = None,
        label_translations: Mapping[str, str] | None = None,
        labels: Sequence[str | Mapping[str, Any]] | None = None,
        review_required: bool | None = None,
        aql: float | None = None,
    ) -> CreatedCampaign:
        """A new campaign in status ``created`` for the agency ``labeler_email``, with the agency's key.

        ``labels``: the label schema, as names or ``{"name", "colour", "description"}`` objects.
        The key's ``apisecret`` is shown this once (``None`` when the agency already had a key).
        """
        body: dict[str, Any] = {"title": title, "labeler_email": labeler_email}
        optional = {
            "metadata": None if metadata is None else dict(metadata),
            "label_translations": None if label_translations is None else dict(label_translations),
            "labels": None if labels is None else [_label(label) for label in labels],
            "review_required": review_required,
            "aql": aql,
        }
        body.update((name, value) for name, value in optional.items() if value is not None)
        return CreatedCampaign.from_dict(self._json("POST", "/campaigns", json=body))

    def campaign_add_images(self, id: int, image_ids: Iterable[int], *, chunk_size: int | None = None) -> None:
        """Add images to a campaign still ``created``, ``chunk_size`` ids per request.

        Each request is all or nothing; on an error the earlier requests' images stay added
        (adding an image twice is harmless, so calling again with the same ids is safe).
        """
        for chunk in _batches(image_ids, chunk_size or ADD_IMAGES_CHUNK_SIZE):
            self._request("POST", f"/campaigns/{id}/images", json=[{"id": image_id} for image_id in chunk])

    def campaign_set_status(self, id: int, status: str) -> None:
        """Change a campaign's status: ``active``, ``completed`` or ``finished`` (starts the export)."""
        self._request("PUT", f"/campaigns/{id}", json={"new_status": status})

    def campaign_images(self, id: int, *, state: str | None = None) -> Iterator[CampaignImage]:
        """A campaign's images, with whether each is labeled and its review.

        ``state``: only ``unlabeled``, ``rejected`` (sent back: label again), ``labeled`` or ``accepted`` ones.
        """
        params = {"state": state} if state else None
        return self._models(CampaignImage, f"/campaigns/{id}/images", "images", params)

    def campaign_wait(self, id: int, *, poll: float = 1.0, timeout: float | None = None) -> Campaign:
        """The campaign once its export job has ended, succeeded or failed (look at ``job.status``).

        Polls every ``poll`` seconds; raises :class:`WaitTimeout` after ``timeout`` seconds (``None``: no limit).
        """
        return self._wait(lambda: self.campaign(id), poll=poll, timeout=timeout, what=f"campaign {id}")

    def campaign_export(self, id: int) -> Export:
        """The files of a finished campaign's export, each with a short-lived read URL (see :meth:`download`)."""
        return Export.from_dict(self._json("GET", f"/campaigns/{id}/export"))

    def campaign_image_objects(self, campaign_id: int, image_id: int) -> dict[str, Any]:
        """An image's predictions (a model's pre-annotations) and the campaign's current submission for it."""
        return self._json("GET", f"/campaigns/{campaign_id}/images/{image_id}/objects")

    def submit_objects(
        self, campaign_id: int, items: Iterable[Mapping[str, Any]], *, chunk_size: int | None = None
    ) -> SubmitReport:
        """Submit the objects found on images, in as many requests as the server's limits need.

        ``items``: ``{"image_id": int, "objects": [NewObject or its dict, ...]}`` each; an
        image's stored objects are replaced (``[]``: looked at, nothing found). A request holds
        at most ``chunk_size`` images (default :data:`SUBMIT_CHUNK_SIZE`) and
        :data:`MAX_BODY_BYTES` of JSON; one the server finds too large is split in two and sent
        again. Each request is all or nothing on the server: one that fails is reported in
        :attr:`SubmitReport.failed` and the others are still sent; once the server is
        unreachable the rest is reported failed without being sent. Nothing is raised for a
        failed request: call :meth:`SubmitReport.raise_for_failures` to. Every item is encoded
        before the first request, so malformed input (a missing key, a NaN) raises before
        anything is sent.
        """
        encoded = [_encode_item(item) for item in items]  # malformed input raises before anything is sent
        pending = deque(_chunks(encoded, chunk_size or SUBMIT_CHUNK_SIZE, MAX_BODY_BYTES))
        stored: list[int] = []
        failed: list[FailedChunk] = []
        while pending:
            chunk = pending.popleft()
            try:
                self._put_objects(campaign_id, chunk)
            except PayloadTooLarge as exc:
                if len(chunk) > 1:
                    pending.extendleft(reversed(_halves(chunk)))
                else:
                    failed.append(FailedChunk(_ids(chunk), exc))
            except ApiError as exc:
                failed.append(FailedChunk(_ids(chunk), exc))
            except TransportError as exc:
                failed.extend(FailedChunk(_ids(unsent), exc) for unsent in (chunk, *pending))
                break
            else:
                stored.extend(_ids(chunk))
        return SubmitReport(stored=stored, failed=failed)

    def _put_objects(self, campaign_id: int, chunk: list[_Encoded]) -> None:
        body = b"[" + b",".join(data for _, data in chunk) + b"]"
        self._request("PUT", f"/campaigns/{campaign_id}/objects", content=body, idempotent=True)

    # --- Images and files ---

    def image_url(self, image_id: int) -> str:
        """A short-lived URL of the image file (the ``Location`` of ``GET /images/{id}``), read without the key."""
        response = self._request("GET", f"/images/{image_id}")
        location = response.headers.get("Location")
        if not response.is_redirect or not location:
            raise LabelhubError(f"GET /images/{image_id} answered {response.status_code} without a redirect")
        return str(response.url.join(location))

    def download_image(
        self, image_id: int, dest_path: str | os.PathLike[str], *, expected_size: int | None = None
    ) -> int:
        """Save the image file at ``dest_path``; returns its size in bytes (see :meth:`download`)."""
        return self.download(self.image_url(image_id), dest_path, expected_size=expected_size)

    def download(self, url: str, dest_path: str | os.PathLike[str], *, expected_size: int | None = None) -> int:
        """Save what a read URL (an image's, an export file's) serves at ``dest_path``; returns its size in bytes.

        Sent without the key. The bytes are streamed to ``<dest_path>.part``, which is renamed to
        ``dest_path`` once complete (and removed otherwise), so ``dest_path`` is never half-written.
        A file of another size than ``expected_size`` raises :class:`LabelhubError` and is not kept.
        """
        dest = Path(dest_path)
        part = dest.with_name(dest.name + ".part")

        def send() -> httpx.Response:
            response = self._http.send(self._http.build_request("GET", url), stream=True)
            if response.is_success:
                try:
                    _write(response, part)
                finally:
                    response.close()
            return response

        try:
            self._with_retries(send, idempotent=True)
            size = part.stat().st_size
            if expected_size is not None and size != expected_size:
                raise LabelhubError(f"{dest.name}: got {size} bytes, expected {expected_size}")
            os.replace(part, dest)
        finally:
            part.unlink(missing_ok=True)
        return size

    # --- Paginated lists ---

    def paginate(
        self, path: str, key: str, params: Mapping[str, Any] | None = None, per_page: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list, page after page: ``path`` under the API base, items under ``key``.

        Pages are fetched as the iteration needs them.
        """
        query = dict(params or {})
        if per_page is not None:
            query["per_page"] = per_page
        page: int | None = 1
        while page is not None:
            body = self._json("GET", path, params={**query, "page": page})
            items = body.get(key) or []
            yield from items
            page = _next_page(body, page, len(items), per_page)

    def _models(self, model: type[M], path: str, key: str, params: Mapping[str, Any] | None = None) -> Iterator[M]:
        return (model.from_dict(item) for item in self.paginate(path, key, params))

    # --- Requests ---

    def _json(self, method: str, path: str, **options: Any) -> Any:
        return self._request(method, path, **options).json()

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """An API request with the key; its answer when successful (or a redirect), else the typed error.

        ``idempotent`` (default: for GET) allows retrying after a connection broke mid-request.
        """
        headers = {"Authentication-Key": self.key, "Authentication-Secret": self._secret}
        if content is not None:
            headers["Content-Type"] = "application/json"

        def send() -> httpx.Response:
            return self._http.request(
                method, self.url + path, params=params, json=json, content=content, headers=headers
            )

        return self._with_retries(send, idempotent=method == "GET" if idempotent is None else idempotent)

    def _with_retries(self, send: Callable[[], httpx.Response], *, idempotent: bool) -> httpx.Response:
        """``send()`` until it answers, retrying as the class says; the answer, or the typed error."""
        attempt = 0
        while True:
            try:
                response = send()
            except httpx.TransportError as exc:
                if attempt >= self.retries or not (idempotent or isinstance(exc, NOT_SENT)):
                    raise _transport_error(exc) from exc
                delay = self._backoff(attempt)
            else:
                delay = self._retry_delay(response, attempt)
                if delay is None:
                    return _checked(response)
                response.close()
            time.sleep(delay)
            attempt += 1

    def _retry_delay(self, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before sending again after ``response``; ``None``: do not."""
        if response.status_code not in RETRY_STATUSES or attempt >= self.retries:
            return None
        asked = retry_after_seconds(response)
        if asked is None:
            return self._backoff(attempt)
        return asked if asked <= self.max_retry_after else None

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: about ``backoff * 2**attempt`` seconds, at most ``max_retry_after``."""
        return min(self.backoff * 2**attempt, self.max_retry_after) * random.uniform(0.5, 1.0)

    def _wait(self, fetch: Callable[[], WithJob], *, poll: float, timeout: float | None, what: str) -> WithJob:
        """``fetch()`` every ``poll`` seconds until its ``job`` has ended."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            current = fetch()
            job = current.job
            if job is not None and job.ended:
                return current
            if deadline is not None and time.monotonic() + poll > deadline:
                state = job.status if job else "not started"
                raise WaitTimeout(f"{what}: its job is still {state} after {timeout} s")
            time.sleep(poll)


def _checked(response: httpx.Response) -> httpx.Response:
    """``response`` if it is not an error; else its typed error (its body read first)."""
    if not response.is_error:
        return response
    response.read()
    response.close()
    raise error_for(response)


def _transport_error(exc: httpx.TransportError) -> TransportError:
    """The client's error for a failed connection; names the host, never a URL's path or query (they may be tokens)."""
    try:
        where = f" ({exc.request.url.host})"
    except RuntimeError:  # the exception has no request
        where = ""
    return TransportError(f"{type(exc).__name__}: {str(exc) or 'the connection failed'}{where}")


def _next_page(body: Mapping[str, Any], page: int, count: int, per_page: int | None) -> int | None:
    """The page after ``page`` (``None``: it was the last): the answer's ``pagination.next`` if it has one."""
    pagination = body.get("pagination")
    if isinstance(pagination, Mapping) and "next" in pagination:
        return pagination["next"]
    if count == 0 or (per_page is not None and count < per_page):
        return None
    return page + 1


def _dropbox_file_url(dropbox_url: str, name: str) -> str:
    """``<dropbox path>/<name>?<dropbox query>``: where a file named ``name`` is uploaded."""
    parts = urlsplit(dropbox_url)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}/{quote(name)}"))


def _write(response: httpx.Response, path: Path) -> None:
    with path.open("wb") as file:
        for data in response.iter_bytes():
            file.write(data)


def _label(label: str | Mapping[str, Any]) -> dict[str, Any]:
    return {"name": label} if isinstance(label, str) else dict(label)


def _encode_item(item: Mapping[str, Any]) -> _Encoded:
    """An item of a PUT of objects as compact JSON, its ``NewObject`` values turned into dicts."""
    objects = [obj.to_dict() if isinstance(obj, NewObject) else obj for obj in item["objects"]]
    data = json.dumps({**item, "objects": objects}, separators=(",", ":"), allow_nan=False)
    return item["image_id"], data.encode()


def _chunks(encoded: Iterable[_Encoded], max_items: int, max_bytes: int) -> Iterator[list[_Encoded]]:
    """``encoded`` items in lists of at most ``max_items`` whose JSON array is at most ``max_bytes``.

    An item larger than ``max_bytes`` on its own is a list of one (the server will refuse it).
    """
    chunk: list[_Encoded] = []
    size = 2  # the brackets
    for item in encoded:
        if chunk and (len(chunk) >= max_items or size + len(item[1]) + 1 > max_bytes):
            yield chunk
            chunk, size = [], 2
        chunk.append(item)
        size += len(item[1]) + 1  # and a comma
    if chunk:
        yield chunk


def _batches(values: Iterable[int], size: int) -> Iterator[list[int]]:
    batch: list[int] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _halves(chunk: list[_Encoded]) -> tuple[list[_Encoded], list[_Encoded]]:
    middle = len(chunk) // 2
    return chunk[:middle], chunk[middle:]


def _ids(chunk: list[_Encoded]) -> list[int]:
    return [image_id for image_id, _ in chunk]
