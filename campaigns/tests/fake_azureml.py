"""An in-process Azure ML workspace for tests: the real azure-ai-ml SDK talks HTTP to it.

``MLClient`` gets ``RequestsTransport(session=...)`` whose ``requests``
session has ``FakeAzureML`` mounted on ``https://``. The adapter answers the
few ARM endpoints the SDK calls when listing and creating data asset
versions, stores what was PUT, and records every request, so tests assert
the exact method, path and JSON body the SDK sent. Anything it does not play
is answered 404 and listed in ``unexpected``.
"""

from __future__ import annotations

import io
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import requests
from requests.adapters import BaseAdapter
from urllib3 import HTTPResponse

SUBSCRIPTION = "00000000-1111-2222-3333-444444444444"
RESOURCE_GROUP = "labelhub-rg"
WORKSPACE = "labelhub-ws"
DATASTORE = "labelhub_images"
WORKSPACE_PATH = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}"
    f"/providers/Microsoft.MachineLearningServices/workspaces/{WORKSPACE}"
)

_DATA = re.compile(re.escape(WORKSPACE_PATH) + r"/data/(?P<name>[^/?]+)(?:/versions(?:/(?P<version>[^/?]+))?)?$")
_DATASTORE = re.compile(re.escape(WORKSPACE_PATH) + r"/datastores/(?P<name>[^/?]+)$")


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict
    body: dict | None
    headers: dict

    @property
    def json(self) -> dict | None:
        return self.body


class FakeCredential:
    """A ``TokenCredential`` that hands out a fixed bearer token."""

    def __init__(self):
        self.scopes: list[tuple] = []

    def get_token(self, *scopes, **kwargs):
        from azure.core.credentials import AccessToken

        self.scopes.append(scopes)
        return AccessToken("fake-token", int(time.time()) + 3600)


class FakeAzureML(BaseAdapter):
    """Plays the data-asset endpoints of one workspace; ``fail_puts`` makes PUTs answer 500."""

    def __init__(self):
        super().__init__()
        self.requests: list[RecordedRequest] = []
        self.unexpected: list[str] = []
        self.versions: dict[str, dict[str, dict]] = {}  # name -> version -> stored resource
        self.fail_puts = False

    # --- what tests look at --------------------------------------------------
    @property
    def puts(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == "PUT"]

    def seed_version(self, name: str, version: str, *, data_uri: str, data_type: str = "uri_file", tags=None):
        """A version that already exists in the workspace before the test."""
        self._store(
            name,
            version,
            {
                "properties": {
                    "dataUri": data_uri,
                    "dataType": data_type,
                    "tags": tags or {},
                    "isArchived": False,
                    "isAnonymous": False,
                    "properties": {},
                }
            },
        )

    # --- requests.adapters.BaseAdapter ----------------------------------------
    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        url = urlsplit(request.url)
        body = request.body
        if isinstance(body, bytes):
            body = body.decode("utf-8")
        recorded = RecordedRequest(
            method=request.method,
            path=url.path,
            query={k: v[0] for k, v in parse_qs(url.query).items()},
            body=json.loads(body) if body else None,
            headers=dict(request.headers),
        )
        self.requests.append(recorded)
        if url.hostname != "management.azure.com":
            return self._answer(request, 404, self._error("NotFound", f"unknown host {url.hostname}"), unexpected=True)
        if request.headers.get("Authorization") != "Bearer fake-token":
            return self._answer(request, 401, self._error("AuthenticationFailed", "no bearer token"))

        data = _DATA.match(url.path)
        if data:
            return self._data(request, recorded, data["name"], data["version"], url.path.endswith("/versions"))
        if request.method == "GET" and _DATASTORE.match(url.path):
            # The SDK reads a remote MLTable through the datastore to validate
            # it; without a datastore it skips that validation, as it does
            # when the datastore cannot be read.
            return self._answer(request, 404, self._error("NotFound", "datastore not played by the fake"))
        return self._answer(request, 404, self._error("NotFound", "not played by the fake"), unexpected=True)

    def close(self):
        pass

    # --- endpoints --------------------------------------------------------------
    def _data(self, request, recorded, name, version, is_list):
        stored = self.versions.get(name, {})
        if request.method == "GET" and is_list:
            if not stored:
                return self._answer(request, 404, self._error("UserError", f"Could not find asset with name {name}"))
            return self._answer(request, 200, {"value": list(stored.values())})
        if request.method == "GET" and version:
            if version not in stored:
                return self._answer(request, 404, self._error("UserError", f"{name}:{version} not found"))
            return self._answer(request, 200, stored[version])
        if request.method == "GET":
            if not stored:
                return self._answer(request, 404, self._error("UserError", f"Could not find asset with name {name}"))
            latest = max(stored, key=lambda v: int(v) if v.isdigit() else -1)
            return self._answer(
                request,
                200,
                {
                    "id": f"{WORKSPACE_PATH}/data/{name}",
                    "name": name,
                    "type": "Microsoft.MachineLearningServices/workspaces/data",
                    "properties": {"latestVersion": latest, "nextVersion": str(int(latest) + 1), "isArchived": False},
                },
            )
        if request.method == "PUT" and version:
            if self.fail_puts:
                return self._answer(request, 500, self._error("InternalServerError", "the fake is told to fail"))
            if version in stored:
                return self._answer(request, 409, self._error("UserError", f"{name}:{version} already exists"))
            return self._answer(request, 201, self._store(name, version, recorded.body))
        self.unexpected.append(f"{request.method} {recorded.path}")
        return self._answer(request, 405, self._error("MethodNotAllowed", request.method))

    def _store(self, name: str, version: str, body: dict) -> dict:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        resource = {
            "id": f"{WORKSPACE_PATH}/data/{name}/versions/{version}",
            "name": version,
            "type": "Microsoft.MachineLearningServices/workspaces/data/versions",
            "properties": body["properties"],
            "systemData": {
                "createdAt": now,
                "createdBy": "labelhub",
                "createdByType": "Application",
                "lastModifiedAt": now,
            },
        }
        self.versions.setdefault(name, {})[version] = resource
        return resource

    # --- plumbing ---------------------------------------------------------------
    @staticmethod
    def _error(code: str, message: str) -> dict:
        return {"error": {"code": code, "message": message}}

    def _answer(self, request, status: int, payload: dict, *, unexpected: bool = False) -> requests.Response:
        if unexpected:
            self.unexpected.append(f"{request.method} {request.url}")
        content = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Content-Length": str(len(content)),
            "x-ms-request-id": f"fake-{len(self.requests)}",
        }
        response = requests.Response()
        response.status_code = status
        response.url = request.url
        response.request = request
        response.reason = "fake"
        response.encoding = "utf-8"
        response.headers.update(headers)
        response.raw = HTTPResponse(
            body=io.BytesIO(content), headers=headers, status=status, preload_content=False, decode_content=False
        )
        return response


def fake_client_options(adapter: FakeAzureML, credential: FakeCredential | None = None) -> dict:
    """``MLClient`` keyword arguments routing every request of the SDK into ``adapter``."""
    from azure.core.pipeline.transport import RequestsTransport

    session = requests.Session()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return {
        "credential": credential or FakeCredential(),
        "transport": RequestsTransport(session=session, session_owner=False),
        # The SDK retries 5xx answers with back-off; one try keeps failure tests fast.
        "retry_total": 0,
    }
