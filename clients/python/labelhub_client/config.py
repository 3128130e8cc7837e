"""Where the client finds its server and key: the environment, else a config file only its owner can read.

The environment (``LABELHUB_URL``, the server root; ``LABELHUB_KEY``;
``LABELHUB_SECRET``) wins over the file, value by value. The file is
``$LABELHUB_CONFIG`` if set, else ``~/.config/labelhub/config.json``: a JSON
object ``{"url", "key", "secret"}`` that :func:`save` writes with mode 0600.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .errors import ConfigError

ENV_URL = "LABELHUB_URL"
ENV_KEY = "LABELHUB_KEY"
ENV_SECRET = "LABELHUB_SECRET"
ENV_CONFIG = "LABELHUB_CONFIG"

# Config field -> the environment variable that sets it.
_ENVIRONMENT = {"url": ENV_URL, "key": ENV_KEY, "secret": ENV_SECRET}


@dataclass(frozen=True)
class Config:
    """A server root URL and a two-part API key; the secret never shows in ``repr``."""

    url: str
    key: str
    secret: str = field(repr=False)


def default_path() -> Path:
    """The config file: ``$LABELHUB_CONFIG``, else ``~/.config/labelhub/config.json``."""
    named = os.environ.get(ENV_CONFIG)
    return Path(named) if named else Path.home() / ".config" / "labelhub" / "config.json"


def load(path: str | os.PathLike[str] | None = None) -> Config:
    """The configuration from the environment, completed from the config file (``path``, else :func:`default_path`).

    The file is read only when the environment lacks a value; it must exist when ``path`` or
    ``$LABELHUB_CONFIG`` names it. Raises :class:`ConfigError` when a value is missing or the file is unreadable.
    """
    values = {name: os.environ.get(variable, "") for name, variable in _ENVIRONMENT.items()}
    if not all(values.values()):
        named = path is not None or bool(os.environ.get(ENV_CONFIG))
        stored = _read(Path(path) if path is not None else default_path(), required=named)
        values = {name: value or stored.get(name, "") for name, value in values.items()}
    missing = [_ENVIRONMENT[name] for name, value in values.items() if not value]
    if missing:
        raise ConfigError(f"no {', '.join(missing)}: set it in the environment or save a config file")
    return Config(**values)


def save(config: Config, path: str | os.PathLike[str] | None = None) -> Path:
    """Write ``config`` to ``path`` (else :func:`default_path`) with mode 0600; returns the path.

    The file is written next to its destination under a temporary name created 0600 and then
    renamed over it, so it is never readable by others, not even while being written, and never
    left half-written. A missing folder is created 0700.
    """
    target = Path(path) if path is not None else default_path()
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(asdict(config), file, indent=2)
            file.write("\n")
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def _read(path: Path, *, required: bool) -> dict[str, str]:
    """The string values of the config file at ``path``; ``{}`` when it is missing and not ``required``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if required:
            raise ConfigError(f"config file {path} does not exist") from None
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"config file {path} is unreadable: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} does not hold a JSON object")
    return {name: value for name, value in data.items() if name in _ENVIRONMENT and isinstance(value, str)}
