"""The ``azure`` backend: Azure Blob Storage through azure-storage-blob.

One ``BlobServiceClient`` per configuration; every container and blob client
derived from it shares its pipeline and so one HTTP transport: a
``requests.Session`` whose connection pool is sized to the copy workers (the
default pool of 10 drops connections under 16 threads). Azure exceptions are
turned into ``StorageError``/``ObjectNotFound`` here and never leave the
package, and neither do clients or account keys.

SAS tokens: every SAS is HTTPS-only (``spr=https``) when the blob endpoint is
HTTPS; an ``http`` endpoint (Azurite) gets the service default. A dropbox SAS
names the container's stored access policy (``si=<the set's dropbox_key>``),
which holds its permissions and expiry, so removing the policy
(``revoke_dropbox_uploads``) or the container revokes every URL of the set.

Copies: a copy inside this storage account names its source by the plain
blob URL, authorised by the destination request's Shared Key; only a source
in another account (``copy(..., source_storage=other)``) gets a read SAS,
for that one blob and for the copy's timeout plus a minute.
"""

from labelhub.storage.azure.backend import BLOB_CLIENTS_KEPT, DROPBOX_PERMISSION, AzureStorage
from labelhub.storage.azure.copying import COPY_SOURCE_SAS_VALID, COPY_TIMEOUT

__all__ = ["BLOB_CLIENTS_KEPT", "COPY_SOURCE_SAS_VALID", "COPY_TIMEOUT", "DROPBOX_PERMISSION", "AzureStorage"]
