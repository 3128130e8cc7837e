"""What the command line prints, and how it fails.

People get lines of text; ``--json`` gets exactly one JSON document on stdout (progress
bars and notes go to stderr, and are hidden). Errors go to stderr, with the server's
``detail``; the exit status says what kind:

- 0: success;
- 1: a user error: the server refused the request (4xx), a bad or unreadable input file, a bad argument;
- 2: a usage error (click's own: an unknown option, a missing argument);
- 3: the server failed (5xx) or could not be reached (connection errors after the client's retries),
  or a download was cut short or did not match its checksum.

The secret in use is never printed: every line goes through :meth:`Output.redact`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from contextlib import contextmanager
from typing import IO, Any

import click
import httpx

from labelhub_client.errors import ApiError, ConfigError, LabelhubError, ServerError, TransportError

EXIT_OK = 0
EXIT_USER = 1
EXIT_USAGE = 2
EXIT_SERVER = 3

REDACTED = "********"


class Failure(click.ClickException):
    """A failed command: ``message`` for people, ``exit_code`` 1 (user error) or 3 (server or network error)."""

    def __init__(self, message: str, *, exit_code: int = EXIT_USER, status: int | None = None, data: Any = None):
        super().__init__(message)
        self.exit_code = exit_code
        self.status = status
        self.data = data
        self.output: Output | None = None  # set by the group: JSON errors, secrets redacted

    def show(self, file: IO[Any] | None = None) -> None:
        output = self.output
        text = output.redact(self.format_message()) if output else self.format_message()
        if output is not None and output.json:
            error: dict[str, Any] = {"message": text, "exit_code": self.exit_code}
            if self.status is not None:
                error["status"] = self.status
            if self.data is not None:
                error["details"] = self.data
            click.echo(output.redact(json.dumps({"error": error}, ensure_ascii=False)), file=file, err=True)
        else:
            click.echo(f"Error: {text}", file=file, err=True)


def exit_code_for(exc: BaseException) -> int:
    """1 for what the user can fix (a 4xx answer, a bad file or setting), 3 for a server or network failure."""
    from labelhub_client.cli.transfer import IncompleteDownload

    if isinstance(exc, (ServerError, TransportError, httpx.TransportError, IncompleteDownload)):
        return EXIT_SERVER
    if isinstance(exc, ApiError):
        return EXIT_SERVER if exc.status >= 500 else EXIT_USER
    return EXIT_USER


def describe(exc: BaseException) -> str:
    """One line about ``exc``, with the server's ``detail`` for an answered error."""
    if isinstance(exc, ApiError):
        kind = "the server failed" if exc.status >= 500 else "refused"
        return f"{kind} (HTTP {exc.status}): {exc.detail}"
    if isinstance(exc, TransportError):
        return f"cannot reach the server: {exc}"
    if isinstance(exc, httpx.TransportError):
        return f"network error: {type(exc).__name__}: {exc}"
    if isinstance(exc, ConfigError):
        return f"configuration: {exc}"
    if isinstance(exc, OSError):
        name = f"{exc.filename}: " if exc.filename else ""
        return f"{name}{exc.strerror or exc}"
    return str(exc) or type(exc).__name__


def failure_from(exc: BaseException, *, context: str = "") -> Failure:
    status = exc.status if isinstance(exc, ApiError) else None
    prefix = f"{context}: " if context else ""
    return Failure(prefix + describe(exc), exit_code=exit_code_for(exc), status=status)


class Output:
    """Printing for people or for scripts (``json``), with the secrets in use replaced by stars."""

    def __init__(self, *, json_mode: bool = False):
        self.json = json_mode
        self._secrets: set[str] = set()

    def protect(self, secret: str | None) -> None:
        """Never print ``secret`` (the secret of the key in use)."""
        if secret and len(secret) >= 4:  # a shorter one would star out ordinary text (and is no secret)
            self._secrets.add(secret)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    # --- stdout ---------------------------------------------------------------------

    def line(self, text: str = "") -> None:
        """A line for people (nothing in ``--json`` mode)."""
        if not self.json:
            click.echo(self.redact(text))

    def document(self, data: Any) -> None:
        """The one JSON document of ``--json`` mode."""
        click.echo(self.redact(json.dumps(data, indent=2, ensure_ascii=False, default=str)))

    def result(self, data: Any, lines: Iterable[str] | str = ()) -> None:
        """``data`` as JSON in ``--json`` mode, else ``lines`` for people."""
        if self.json:
            self.document(data)
            return
        for text in [lines] if isinstance(lines, str) else lines:
            self.line(text)

    def table(self, header: list[str], rows: list[list[Any]]) -> list[str]:
        """Rows of text in aligned columns (the last column is not padded)."""
        cells = [header] + [["" if v is None else str(v) for v in row] for row in rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
        return ["  ".join(c.ljust(w) for c, w in zip(row[:-1], widths, strict=False)) + "  " + row[-1] for row in cells]

    # --- stderr ---------------------------------------------------------------------

    def note(self, text: str) -> None:
        """A message on stderr (in both modes: scripts read stdout only)."""
        click.echo(self.redact(text), err=True)

    @contextmanager
    def progress(self, length: int, label: str):
        """A progress bar on stderr (hidden for scripts, and when there is nothing to do)."""
        hidden = self.json or length == 0 or not _isatty(sys.stderr)
        with click.progressbar(
            length=length,
            label=label,
            file=sys.stderr,
            show_pos=True,
            hidden=hidden,
        ) as bar:
            yield bar


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def wrap_errors(exc: BaseException) -> Failure | None:
    """The :class:`Failure` for an error a command did not handle itself; None to let it through."""
    if isinstance(exc, Failure):
        return exc
    if isinstance(exc, (LabelhubError, httpx.HTTPError)):
        return failure_from(exc)
    if isinstance(exc, OSError):
        return Failure(describe(exc), exit_code=EXIT_USER)
    return None
