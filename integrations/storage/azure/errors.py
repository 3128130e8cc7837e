"""Azure's exceptions turned into the storage layer's own; none leaves the package."""

from __future__ import annotations

from contextlib import contextmanager

from azure.core.exceptions import AzureError, ResourceNotFoundError

from integrations.storage import ObjectNotFound, StorageError


@contextmanager
def azure_errors(action: str):
    """Turn every Azure error raised inside into the storage layer's own."""
    try:
        yield
    except ResourceNotFoundError as exc:
        raise ObjectNotFound(f"{action}: not found ({error_code(exc)})") from exc
    except AzureError as exc:
        raise StorageError(f"{action} failed: {error_code(exc) or type(exc).__name__}: {_first_line(exc)}") from exc


def error_code(exc: AzureError) -> str:
    """The service's error code, e.g. ``ContainerNotFound`` (the SDK gives a str enum whose ``str()`` is its name)."""
    code = getattr(exc, "error_code", None) or ""
    return str(getattr(code, "value", code))


def _first_line(exc: Exception) -> str:
    return (str(getattr(exc, "message", None) or exc).strip().splitlines() or [""])[0]
