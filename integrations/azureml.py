"""Azure ML adapter: registers data assets through azure-ai-ml.

Used by the campaign export only. ``azure.ai.ml`` and ``azure.identity`` are
imported inside the functions that need them: importing the SDK costs
seconds, which the web process and every other job should not pay.

Versioning: a data asset name gets version ``"1"``, then ``max + 1`` for each
new content. Each version we register carries the sha256 of the files it
points at in the tag ``labelhub_sha256``; when the latest version already
has the same hash, nothing is registered and that version is reported, so a
retried export never adds a duplicate version of the same content.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

HASH_TAG = "labelhub_sha256"
SETTINGS = (
    "AZURE_ML_SUBSCRIPTION_ID",
    "AZURE_ML_RESOURCE_GROUP",
    "AZURE_ML_WORKSPACE_NAME",
    "AZURE_ML_DATASTORE",
)


class AzureMLError(Exception):
    """Registering in Azure ML failed (authentication, HTTP or validation error of the SDK)."""


@dataclass(frozen=True)
class DataAssetSpec:
    """One data asset to register: ``type`` is ``uri_file``, ``uri_folder`` or ``mltable``."""

    name: str
    type: str
    path: str
    content_hash: str
    description: str = ""
    tags: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RegisteredAsset:
    name: str
    version: str
    created: bool  # False when the latest version already had this content

    def as_dict(self) -> dict:
        return {"name": self.name, "version": self.version, "created": self.created}


def azureml_configured() -> bool:
    """Whether all four ``AZURE_ML_*`` settings are set."""
    return all(getattr(settings, name, "") for name in SETTINGS)


def datastore_uri(path: str) -> str:
    """``azureml://datastores/<AZURE_ML_DATASTORE>/paths/<path>`` (``path`` inside the datastore's container)."""
    return f"azureml://datastores/{settings.AZURE_ML_DATASTORE}/paths/{path}"


def client_options() -> dict[str, Any]:
    """Extra keyword arguments for ``MLClient`` (``credential``, ``transport``, ...).

    Empty in production. Tests replace this function to hand the real SDK a
    fake credential and an in-process HTTP transport.
    """
    return {}


def ml_client(**options: Any):
    """An ``MLClient`` for the configured workspace (``DefaultAzureCredential`` unless one is given)."""
    from azure.ai.ml import MLClient

    credential = options.pop("credential", None)
    if credential is None:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    options.setdefault("enable_telemetry", False)
    options.setdefault("show_progress", False)
    return MLClient(
        credential,
        subscription_id=settings.AZURE_ML_SUBSCRIPTION_ID,
        resource_group_name=settings.AZURE_ML_RESOURCE_GROUP,
        workspace_name=settings.AZURE_ML_WORKSPACE_NAME,
        **options,
    )


def _versions(client, name: str) -> list:
    """Every active version of the data asset ``name`` (empty when the name does not exist)."""
    from azure.core.exceptions import ResourceNotFoundError

    try:
        return list(client.data.list(name=name))
    except ResourceNotFoundError:
        return []


def _numeric(version: str | None) -> int | None:
    try:
        return int(version)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _register_one(client, spec: DataAssetSpec) -> RegisteredAsset:
    from azure.ai.ml.entities import Data

    numbered = [(n, v) for v in _versions(client, spec.name) if (n := _numeric(v.version)) is not None]
    latest = max(numbered, key=lambda pair: pair[0], default=None)
    if latest is not None and (latest[1].tags or {}).get(HASH_TAG) == spec.content_hash:
        return RegisteredAsset(spec.name, latest[1].version, created=False)
    version = str(latest[0] + 1) if latest is not None else "1"
    data = Data(
        name=spec.name,
        version=version,
        type=spec.type,
        path=spec.path,
        description=spec.description or None,
        tags={**spec.tags, HASH_TAG: spec.content_hash},
    )
    client.data.create_or_update(data)
    return RegisteredAsset(spec.name, version, created=True)


def data_assets_register(specs: list[DataAssetSpec], *, client=None) -> list[RegisteredAsset]:
    """Register each asset as a new version unless its latest version holds the same content.

    Raises ``AzureMLError`` for any failure of the SDK or the service.
    """
    from azure.ai.ml.exceptions import MlException
    from azure.core.exceptions import AzureError

    registered = []
    try:
        if client is None:
            client = ml_client(**client_options())
        for spec in specs:
            asset = _register_one(client, spec)
            logger.info(
                "azure ml data asset %s version %s %s",
                asset.name,
                asset.version,
                "registered" if asset.created else "unchanged",
            )
            registered.append(asset)
    except (AzureError, MlException) as exc:
        done = ", ".join(f"{a.name}:{a.version}" for a in registered) or "none"
        raise AzureMLError(f"{type(exc).__name__}: {exc} (registered before the failure: {done})") from exc
    return registered
