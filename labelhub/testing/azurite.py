"""pytest plugin: an Azurite blob emulator per test session (per xdist worker).

Fixtures:

- ``azurite_server``: session; starts ``azurite-blob`` on a free port with a
  fresh data folder and two storage accounts (``devstoreaccount1`` and
  ``SECOND_ACCOUNT_NAME``), yields the ``Azurite``, stops it and removes the folder.
- ``azurite``: the connection string of its first account (``devstoreaccount1``).
- ``azure_storage``: settings switched to the Azure backend on that Azurite,
  with a unique image container per test; returns ``get_storage()`` and
  deletes every container the test created.
- ``azure_second_account``: an ``AzureStorage`` on the second account of the
  same Azurite (for cross-account copies); its new containers are deleted too.
- ``local_storage``: settings switched to the local backend; returns ``get_storage()``.
- ``any_storage``: parametrized ``local`` / ``azure`` (marked ``azurite``): the
  same test on both backends.

Registered from the root ``conftest.py`` (``pytest_plugins``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
AZURITE_BIN = REPO_ROOT / "tools" / "azurite" / "node_modules" / ".bin" / "azurite-blob"
ACCOUNT_NAME = "devstoreaccount1"
# Azurite's well-known development account key (public, documented by Microsoft).
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
# A second account on the same Azurite, for copies across accounts (a test-only key).
SECOND_ACCOUNT_NAME = "labelhubsecond"
SECOND_ACCOUNT_KEY = "bGFiZWxodWItc2Vjb25kLWFjY291bnQta2V5LWZvci10ZXN0cy0wMDAwMDAwMDA="
ACCOUNTS = {ACCOUNT_NAME: ACCOUNT_KEY, SECOND_ACCOUNT_NAME: SECOND_ACCOUNT_KEY}
START_TIMEOUT = 30.0


def connection_string(host: str, port: int, account: str = ACCOUNT_NAME) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={account};AccountKey={ACCOUNTS[account]};"
        f"BlobEndpoint=http://{host}:{port}/{account};"
    )


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            sock.sendall(
                f"GET /{ACCOUNT_NAME}?comp=list HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
            )
            return sock.recv(12).startswith(b"HTTP/1.1")
    except OSError:
        return False


def _die_with_parent() -> None:
    """Linux: SIGTERM Azurite if the test process dies without tearing down (e.g. SIGKILL)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Azurite:
    """One running ``azurite-blob`` process (also used by bench/ingest.py)."""

    def __init__(self, location: Path, *, host: str = "127.0.0.1", binary: Path = AZURITE_BIN):
        self.host = host
        self.location = Path(location)
        self.binary = Path(binary)
        self.port: int | None = None
        self.process: subprocess.Popen | None = None

    @property
    def connection_string(self) -> str:
        return connection_string(self.host, self.port)

    def connection_string_for(self, account: str) -> str:
        return connection_string(self.host, self.port, account)

    def start(self) -> Azurite:
        self.location.mkdir(parents=True, exist_ok=True)
        last_error = ""
        for _attempt in range(3):  # another process may grab the free port first
            self.port = free_port(self.host)
            log = open(self.location / "azurite.log", "wb")
            # Naming accounts disables the default one unless it is listed too.
            accounts = ";".join(f"{name}:{key}" for name, key in ACCOUNTS.items())
            self.process = subprocess.Popen(
                [
                    str(self.binary),
                    "--blobHost",
                    self.host,
                    "--blobPort",
                    str(self.port),
                    "--location",
                    str(self.location / "data"),
                    "--skipApiVersionCheck",
                    "--disableTelemetry",
                    "--silent",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "AZURITE_ACCOUNTS": accounts},
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
            log.close()
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline and self.process.poll() is None:
                if _answers(self.host, self.port):
                    return self
                time.sleep(0.1)
            last_error = (self.location / "azurite.log").read_text(errors="replace")[-2000:]
            self.stop()
        raise RuntimeError(f"Azurite did not start on {self.host}: {last_error}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def __enter__(self) -> Azurite:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@pytest.fixture(scope="session")
def azurite_server(tmp_path_factory):
    """An Azurite started for this session (this xdist worker), serving both ``ACCOUNTS``."""
    if not os.access(AZURITE_BIN, os.X_OK):
        message = (
            f"Azurite is not installed at {AZURITE_BIN.relative_to(REPO_ROOT)}; "
            "`make test` installs it (npm install --prefix tools/azurite)."
        )
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    location = tmp_path_factory.mktemp("azurite")
    server = Azurite(location)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(location, ignore_errors=True)


@pytest.fixture(scope="session")
def azurite(azurite_server):
    """The connection string of the session's Azurite, first account."""
    return azurite_server.connection_string


@pytest.fixture
def azure_storage(settings, azurite):
    """The Azure backend on Azurite; every container the test creates is deleted afterwards."""
    from labelhub.storage import get_storage

    settings.STORAGE_BACKEND = "azure"
    settings.AZURE_STORAGE_CONNECTION_STRING = azurite
    settings.AZURE_STORAGE_IMAGESET_CONTAINER = f"images-{uuid.uuid4().hex[:12]}"
    yield from _deleting_new_containers(get_storage())


@pytest.fixture
def azure_second_account(azurite_server):
    """Azure storage on the second account of the session's Azurite; its new containers are deleted afterwards."""
    from labelhub.storage.azure import AzureStorage

    yield from _deleting_new_containers(
        AzureStorage(azurite_server.connection_string_for(SECOND_ACCOUNT_NAME), pool_size=4, retries=0)
    )


def _deleting_new_containers(storage):
    """Yield ``storage`` (a fixture's value), then delete every container created meanwhile."""
    before = set(storage.list_containers())
    yield storage
    for name in set(storage.list_containers()) - before:
        storage.delete_dropbox(name)


@pytest.fixture
def local_storage(settings):
    """The local backend on this test's MEDIA_ROOT."""
    from labelhub.storage import get_storage

    settings.STORAGE_BACKEND = "local"
    return get_storage()


@pytest.fixture(
    params=[pytest.param("local", id="local"), pytest.param("azure", marks=pytest.mark.azurite, id="azure")]
)
def any_storage(request):
    """The storage backend, once local and once Azure (Azurite)."""
    return request.getfixturevalue(f"{request.param}_storage")
