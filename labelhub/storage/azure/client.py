"""The one ``BlobServiceClient`` of a configuration, over a pooled ``requests`` session."""

from __future__ import annotations

import urllib.request

import requests
from azure.core.exceptions import AzureError
from azure.core.pipeline.transport import RequestsTransport
from azure.storage.blob import BlobServiceClient, ExponentialRetry
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from labelhub.storage import StorageError


def pooled_session(pool_size: int) -> requests.Session:
    """A session whose pool holds ``pool_size`` connections per host, with requests' own retries off.

    The SDK's transport does not configure a session it does not own, and
    its default pool of 10 drops connections under 16 copy threads. The
    SDK's retry policy retries, not requests.
    """
    session = requests.Session()
    adapter = HTTPAdapter(
        pool_connections=4,
        pool_maxsize=pool_size,
        max_retries=Retry(total=False, redirect=False, raise_on_status=False),
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    # requests re-reads proxy variables from the environment on every
    # request (~0.5 ms each); with none set there is nothing to trust.
    session.trust_env = bool(urllib.request.getproxies())
    return session


def service_client(connection_string: str, *, session: requests.Session, retries: int) -> BlobServiceClient:
    """The service client every container and blob client derives from (sharing its transport)."""
    transport = RequestsTransport(session=session, session_owner=False)
    retry = ExponentialRetry(initial_backoff=1, increment_base=2, retry_total=retries, random_jitter_range=1)
    try:
        return BlobServiceClient.from_connection_string(connection_string, transport=transport, retry_policy=retry)
    except (ValueError, AzureError) as exc:
        raise StorageError(f"Invalid AZURE_STORAGE_CONNECTION_STRING: {exc}") from exc
