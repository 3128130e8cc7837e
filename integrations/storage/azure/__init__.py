"""The ``azure`` backend: Azure Blob Storage through azure-storage-blob.

One ``BlobServiceClient`` per configuration; every container and blob client
derived from it shares its pipeline and so one HTTP transport: a
``requests.Session`` whose connection pool is sized to the copy workers (the
default pool of 10 drops connections under 16 threads), verifying TLS with
the CA bundle ``REQUESTS_CA_BUNDLE`` / ``SSL_CERT_FILE`` / ``CURL_CA_BUNDLE``
names, proxy or not. Azure exceptions are turned into
``StorageError``/``ObjectNotFound`` here and never leave the package, and
neither do clients, tokens or account keys.

Two ways to authenticate (``integrations.storage.azure.client``):

- A connection string with an ``AccountKey``: requests are signed with the
  Shared Key and every SAS with the account key.
- Keyless, an account URL (``AZURE_STORAGE_ACCOUNT_URL``) and a token
  credential (``DefaultAzureCredential``, or the one
  ``AZURE_STORAGE_CREDENTIAL`` names): requests carry the identity's bearer
  token (Storage Blob Data Contributor) and every SAS is a user-delegation
  SAS signed with a user delegation key (Storage Blob Delegator), one key
  per process, cached and renewed hourly; a SAS never outlives its key, and
  Azure caps both at 7 days (``integrations.storage.azure.sas``).

SAS tokens: every SAS is HTTPS-only (``spr=https``) when the blob endpoint is
HTTPS; an ``http`` endpoint (Azurite) gets the service default.

Dropbox revocation. With the account key, a dropbox SAS names the
container's stored access policy (``si=<the set's dropbox_key>``), which
holds its permissions and expiry, so removing the policy
(``revoke_dropbox_uploads``, when the set is finished) or the container
revokes every URL of the set at once. Keyless there is no stored policy
(Azure refuses one on a user-delegation SAS) and revoking user delegation
keys is account-wide (every read URL would die with them), so a dropbox SAS
is a container user-delegation SAS carrying its own permissions
(``acwl``) and expiry, and it is revoked by deleting the container: the
finish job does that after its last listing, and deleting a set does it at
once. Until then uploads may still land; the finish job lists the dropbox
again until a pass finds nothing new, so they are registered, not lost
(``Storage.uploads_may_land_after_finish``). A set deleted and made again
under the same title gets a container of the same name, which the old
set's unexpired URLs reach too (keyless only).

Copies: a copy inside this storage account signed with the Shared Key names
its source by the plain blob URL, authorised by the destination request's
Shared Key. Every other source (another account, or any source when
keyless, since Copy Blob does not authorise its source with a bearer token)
gets a read SAS for that one blob and for the copy's timeout plus a minute.
"""

from integrations.storage.azure.backend import BLOB_CLIENTS_KEPT, DROPBOX_PERMISSION, AzureStorage
from integrations.storage.azure.copying import COPY_SOURCE_SAS_VALID, COPY_TIMEOUT

__all__ = ["BLOB_CLIENTS_KEPT", "COPY_SOURCE_SAS_VALID", "COPY_TIMEOUT", "DROPBOX_PERMISSION", "AzureStorage"]
