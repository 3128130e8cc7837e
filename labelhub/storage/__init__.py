"""Storage adapters: one interface, a ``local`` and an ``azure`` backend."""


class StorageError(Exception):
    """Any failure of the storage backend; the API answers 503."""


class ObjectNotFound(StorageError):
    """The addressed file or container does not exist."""
