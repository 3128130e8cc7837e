"""The one ``BlobServiceClient`` of a configuration, over a pooled ``requests`` session.

Two ways in: a connection string (Shared Key: the account key signs requests
and SAS), or an account URL with a token credential (``DefaultAzureCredential``
unless ``AZURE_STORAGE_CREDENTIAL`` names one): requests carry the identity's
bearer token and SAS are user-delegation SAS.
"""

from __future__ import annotations

import os
import urllib.request
from typing import TYPE_CHECKING

import requests
from azure.core.exceptions import AzureError
from azure.core.pipeline.transport import RequestsTransport
from azure.storage.blob import BlobServiceClient, ExponentialRetry
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from integrations.storage import StorageError

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

# The variables naming a private CA bundle, in the order they are looked at (requests reads the
# first and the last; OpenSSL-based tools read SSL_CERT_FILE).
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE")


def ca_bundle() -> str | bool:
    """The CA bundle the environment names (a file or folder), else ``True`` (certifi's).

    requests reads ``REQUESTS_CA_BUNDLE`` itself only when the session trusts
    the environment, which ours does only when a proxy is set, and it never
    reads ``SSL_CERT_FILE``; and azure-core passes ``verify=True`` with every
    request, which beats the session's own ``verify``. So the bundle is
    handed to the transport explicitly, proxy or not.
    """
    for name in CA_BUNDLE_VARIABLES:
        value = os.environ.get(name, "")
        if value:
            return value
    return True


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
    session.verify = ca_bundle()
    return session


def token_credential(kind: str = "default") -> TokenCredential:
    """The azure-identity credential ``AZURE_STORAGE_CREDENTIAL`` names, configured by its standard variables.

    ``default``: ``DefaultAzureCredential`` (environment, workload identity,
    managed identity, then developer logins). ``managed_identity``: App
    Service / Container Apps (``IDENTITY_ENDPOINT``) or the VM's IMDS;
    ``AZURE_CLIENT_ID`` picks a user-assigned identity. ``workload_identity``:
    AKS's federated token (``AZURE_CLIENT_ID``, ``AZURE_TENANT_ID``,
    ``AZURE_FEDERATED_TOKEN_FILE``, set by the webhook). The credential's own
    token requests honour the CA bundle too.
    """
    from azure.identity import DefaultAzureCredential, ManagedIdentityCredential, WorkloadIdentityCredential

    verify = ca_bundle()
    options = {} if verify is True else {"connection_verify": verify}
    if kind == "default":
        return DefaultAzureCredential(**options)
    if kind == "managed_identity":
        return ManagedIdentityCredential(client_id=os.environ.get("AZURE_CLIENT_ID") or None, **options)
    if kind == "workload_identity":
        return WorkloadIdentityCredential(**options)
    raise StorageError(f"Unknown AZURE_STORAGE_CREDENTIAL {kind!r}: default, managed_identity or workload_identity.")


def service_client(
    connection_string: str = "",
    *,
    account_url: str = "",
    credential: TokenCredential | None = None,
    session: requests.Session,
    retries: int,
) -> BlobServiceClient:
    """The service client every container and blob client derives from (sharing its transport)."""
    transport = RequestsTransport(session=session, session_owner=False, connection_verify=session.verify)
    retry = ExponentialRetry(initial_backoff=1, increment_base=2, retry_total=retries, random_jitter_range=1)
    if connection_string:
        try:
            return BlobServiceClient.from_connection_string(connection_string, transport=transport, retry_policy=retry)
        except (ValueError, AzureError) as exc:
            raise StorageError(f"Invalid AZURE_STORAGE_CONNECTION_STRING: {exc}") from exc
    if credential is None:
        raise StorageError("A storage account URL needs a token credential.")
    try:
        return BlobServiceClient(account_url, credential=credential, transport=transport, retry_policy=retry)
    except (ValueError, AzureError) as exc:
        raise StorageError(f"Invalid AZURE_STORAGE_ACCOUNT_URL: {exc}") from exc
