"""The ``labelhub`` click group: global options, the client built from them, errors turned into exit codes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from labelhub_client import config as config_module
from labelhub_client.cli.output import EXIT_USER, Failure, Output, wrap_errors
from labelhub_client.errors import ConfigError

DEFAULT_WORKERS = 8


class State:
    """What every command shares: the output, and the client made on first use from the options and the config."""

    def __init__(
        self,
        *,
        output: Output,
        url: str | None,
        key: str | None,
        secret: str | None,
        config_path: str | None,
        timeout: float,
        retries: int = 5,
    ):
        self.output = output
        self.url, self.key, self.secret = url, key, secret
        self.config_path = config_path
        self.timeout = timeout
        self.retries = retries
        self._client = None
        self._ctx: click.Context | None = None
        for value in (secret, os.environ.get(config_module.ENV_SECRET)):
            output.protect(value)

    def config(self) -> config_module.Config:
        """The server URL and key: the options, else ``LABELHUB_*`` in the environment, else the config file."""
        try:
            if self.url and self.key and self.secret:
                config = config_module.Config(url=self.url, key=self.key, secret=self.secret)
            elif self.url or self.key or self.secret:
                config = self._merged()
            else:
                config = config_module.load(self.config_path)
        except ConfigError as exc:
            raise Failure(
                f"not configured: {exc}. Run `labelhub configure`, set LABELHUB_URL, LABELHUB_KEY and "
                "LABELHUB_SECRET, or give --url, --key and --secret.",
                exit_code=EXIT_USER,
            ) from None
        self.output.protect(config.secret)
        return config

    def _merged(self) -> config_module.Config:
        values = {
            "url": self.url or os.environ.get(config_module.ENV_URL, ""),
            "key": self.key or os.environ.get(config_module.ENV_KEY, ""),
            "secret": self.secret or os.environ.get(config_module.ENV_SECRET, ""),
        }
        if not all(values.values()):
            path = Path(self.config_path) if self.config_path else config_module.default_path()
            stored = _read_config_file(path, required=self.config_path is not None)
            values = {name: value or stored.get(name, "") for name, value in values.items()}
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise ConfigError(f"no {', '.join(missing)}")
        return config_module.Config(**values)

    @property
    def client(self):
        """The API client (one per command run, closed when the command ends)."""
        if self._client is None:
            from labelhub_client.client import Client

            config = self.config()
            self._client = Client(config.url, config.key, config.secret, timeout=self.timeout, retries=self.retries)
            click.get_current_context().call_on_close(self._client.close)
        return self._client


def _read_config_file(path: Path, *, required: bool) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if required:
            raise ConfigError(f"config file {path} does not exist") from None
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"config file {path} is unreadable: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} does not hold a JSON object")
    return {k: v for k, v in data.items() if k in ("url", "key", "secret") and isinstance(v, str)}


class LabelhubGroup(click.Group):
    """A group whose commands' errors become :class:`Failure` (exit 1 or 3, message on stderr)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except Failure as failure:
            raise _with_output(failure, ctx) from None
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:
            failure = wrap_errors(exc)
            if failure is None:
                raise
            raise _with_output(failure, ctx) from exc


def _with_output(failure: Failure, ctx: click.Context) -> Failure:
    state = ctx.find_object(State)
    if state is not None and getattr(failure, "output", None) is None:
        failure.output = state.output
    return failure


pass_state = click.make_pass_decorator(State)


@click.group(cls=LabelhubGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--url", metavar="URL", help="Server root, e.g. https://labelhub.example.com (else LABELHUB_URL).")
@click.option("--key", metavar="KEY", help="API key (else LABELHUB_KEY).")
@click.option(
    "--secret",
    metavar="SECRET",
    help="API secret (else LABELHUB_SECRET, or the config file: prefer those, a command line is visible to others).",
)
@click.option(
    "--config",
    "config_path",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Config file (default $LABELHUB_CONFIG, else ~/.config/labelhub/config.json).",
)
@click.option("--json", "json_mode", is_flag=True, help="Print one JSON document on stdout, for scripts.")
@click.option("--timeout", type=click.FloatRange(min=1), default=30.0, show_default=True, help="Seconds per request.")
@click.option(
    "--retries",
    type=click.IntRange(0, 20),
    default=5,
    show_default=True,
    help="Retries of a request after a connection failure or a 429/503 answer.",
)
@click.version_option(package_name="labelhub-client", prog_name="labelhub")
@click.pass_context
def main(ctx, url, key, secret, config_path, json_mode, timeout, retries):
    """labelhub from the command line.

    \b
    Agencies:  campaigns, pull, push, rejections, predictions
    Staff:     imagesets (create, upload, finish), campaigns (create, add-images, activate, finish), export
    Everyone:  configure

    Global options go before the command: labelhub --json pull 3 images/

    Exit status: 0 success, 1 refused by the server (4xx) or a bad file or argument,
    2 usage error, 3 server error (5xx) or the server cannot be reached.
    """
    ctx.obj = State(
        output=Output(json_mode=json_mode),
        url=url,
        key=key,
        secret=secret,
        config_path=config_path,
        timeout=timeout,
        retries=retries,
    )
