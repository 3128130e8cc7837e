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
- ``azurite_oauth_server``: session; a second Azurite, over HTTPS with a
  self-signed certificate for 127.0.0.1 made here (``tls_certificate``) and
  with ``--oauth basic``: it takes a bearer token whose claims (audience
  ``https://storage.azure.com``, an ``https://sts.windows.net/<tenant>/``
  issuer, times) are right, without checking a signature, and so serves user
  delegation keys and user-delegation SAS. Started with
  ``NODE_EXTRA_CA_CERTS`` naming the certificate: Azurite fetches a copy's
  source from itself.
- ``identity_endpoint``: session; a ``TokenEndpoint``, the managed-identity
  token service of App Service and Container Apps (``IDENTITY_ENDPOINT`` /
  ``IDENTITY_HEADER``) on 127.0.0.1, handing out such tokens.
- ``azure_keyless_storage``: settings switched to the Azure backend on the
  OAuth Azurite with ``AZURE_STORAGE_ACCOUNT_URL`` only (no connection
  string, no key anywhere), the environment of a managed identity and
  ``REQUESTS_CA_BUNDLE`` naming the test certificate; returns ``get_storage()``:
  labelhub's production path (``DefaultAzureCredential``, which finds the
  managed identity), and deletes every container the test created.
- ``local_storage``: settings switched to the local backend; returns ``get_storage()``.
- ``any_storage``: parametrized ``local`` / ``azure`` (marked ``azurite``): the
  same test on both backends.

Registered from the root ``conftest.py`` (``pytest_plugins``).
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
AZURITE_BIN = REPO_ROOT / "tools" / "azurite" / "node_modules" / ".bin" / "azurite-blob"
ACCOUNT_NAME = "devstoreaccount1"
# Azurite's well-known development account key (public, documented by Microsoft).
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
# A second account on the same Azurite, for copies across accounts (a test-only key).
SECOND_ACCOUNT_NAME = "labelhubsecond"
SECOND_ACCOUNT_KEY = "bGFiZWxodWItc2Vjb25kLWFjY291bnQta2V5LWZvci10ZXN0cy0wMDAwMDAwMDA="
ACCOUNTS = {ACCOUNT_NAME: ACCOUNT_KEY, SECOND_ACCOUNT_NAME: SECOND_ACCOUNT_KEY}
START_TIMEOUT = 30.0
# The audience of a storage token and the tenant of the test identity's tokens.
STORAGE_RESOURCE = "https://storage.azure.com"
TENANT_ID = "72f988bf-0000-4000-8000-00000000beef"


def connection_string(host: str, port: int, account: str = ACCOUNT_NAME) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={account};AccountKey={ACCOUNTS[account]};"
        f"BlobEndpoint=http://{host}:{port}/{account};"
    )


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _answers(host: str, port: int, *, tls: bool = False) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as raw:
            sock = raw
            if tls:  # only whether it answers: the certificate is checked by the tests
                context = ssl.create_default_context()
                context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
                sock = context.wrap_socket(raw, server_hostname=host)
            sock.sendall(
                f"GET /{ACCOUNT_NAME}?comp=list HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
            )
            return sock.recv(12).startswith(b"HTTP/1.1")
    except OSError:
        return False


def tls_certificate(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A self-signed certificate for the IP address ``host`` and its key: ``(cert.pem, key.pem)`` in ``folder``.

    Its own CA (basic constraints, key identifiers, serverAuth), so OpenSSL's
    strict verification in Python and Node accepts it as a trust anchor.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"labelhub test {host}")])
    now = datetime.now(UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def _die_with_parent() -> None:
    """Linux: SIGTERM Azurite if the test process dies without tearing down (e.g. SIGKILL)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Azurite:
    """One running ``azurite-blob`` process (also used by bench/ingest.py)."""

    def __init__(self, location: Path, *, host: str = "127.0.0.1", binary: Path = AZURITE_BIN, oauth: bool = False):
        """``oauth``: HTTPS with a certificate made here (``self.certificate``) and ``--oauth basic``."""
        self.host = host
        self.location = Path(location)
        self.binary = Path(binary)
        self.oauth = oauth
        self.certificate: Path | None = None
        self.port: int | None = None
        self.process: subprocess.Popen | None = None

    @property
    def connection_string(self) -> str:
        return connection_string(self.host, self.port)

    def account_url(self, account: str = ACCOUNT_NAME) -> str:
        """The blob endpoint of ``account`` (``https://`` in OAuth mode)."""
        return f"{'https' if self.oauth else 'http'}://{self.host}:{self.port}/{account}"

    def connection_string_for(self, account: str) -> str:
        return connection_string(self.host, self.port, account)

    def start(self) -> Azurite:
        self.location.mkdir(parents=True, exist_ok=True)
        options, env = [], {}
        if self.oauth:
            self.certificate, key = tls_certificate(self.location / "tls", self.host)
            options = ["--oauth", "basic", "--cert", str(self.certificate), "--key", str(key)]
            # Azurite requests a copy's source itself, over HTTPS to itself.
            env = {"NODE_EXTRA_CA_CERTS": str(self.certificate)}
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
                    *options,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **env, "AZURITE_ACCOUNTS": accounts},
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
            log.close()
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline and self.process.poll() is None:
                if _answers(self.host, self.port, tls=self.oauth):
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


class TokenEndpoint:
    """The managed-identity token service of App Service and Container Apps, on 127.0.0.1 (plain http, as there).

    ``GET <url>?api-version=2019-08-01&resource=<resource>`` with the header
    ``X-IDENTITY-HEADER: <secret>`` answers ``access_token``, ``expires_on``
    (epoch seconds), ``resource`` and ``token_type``, as azure-identity (through
    msal) expects. The token is an unsigned JWT with the claims Azurite's
    ``--oauth basic`` checks. ``requests`` lists the resources asked for.
    """

    def __init__(self, host: str = "127.0.0.1"):
        self.secret = secrets.token_urlsafe(16)
        self.object_id = str(uuid.uuid4())
        self.requests: list[str] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                if self.headers.get("X-IDENTITY-HEADER") != endpoint.secret or "resource" not in query:
                    self._answer(401, {"statusCode": 401, "message": "Unauthorized"})
                    return
                endpoint.requests.append(query["resource"])
                self._answer(200, endpoint.token_response(query["resource"]))

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # quiet
                pass

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self._server.server_address[1]}/msi/token"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def token_response(self, resource: str, *, valid_for: int = 3600) -> dict:
        issued = int(time.time())
        claims = {
            "aud": resource,
            "iss": f"https://sts.windows.net/{TENANT_ID}/",
            "iat": issued - 60,
            "nbf": issued - 60,
            "exp": issued + valid_for,
            "oid": self.object_id,
            "sub": self.object_id,
            "tid": TENANT_ID,
            "appid": self.object_id,
            "ver": "1.0",
        }
        header = {"alg": "RS256", "typ": "JWT"}
        token = ".".join(_b64url(json.dumps(part).encode()) for part in (header, claims)) + "." + _b64url(b"unsigned")
        return {
            "access_token": token,
            "expires_on": str(issued + valid_for),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": self.object_id,
        }

    def start(self) -> TokenEndpoint:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _require_azurite() -> None:
    if not os.access(AZURITE_BIN, os.X_OK):
        message = (
            f"Azurite is not installed at {AZURITE_BIN.relative_to(REPO_ROOT)}; "
            "`make test` installs it (npm install --prefix tools/azurite)."
        )
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)


def _started(location: Path, **options):
    server = Azurite(location, **options)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(location, ignore_errors=True)


@pytest.fixture(scope="session")
def azurite_server(tmp_path_factory):
    """An Azurite started for this session (this xdist worker), serving both ``ACCOUNTS``."""
    _require_azurite()
    yield from _started(tmp_path_factory.mktemp("azurite"))


@pytest.fixture(scope="session")
def azurite_oauth_server(tmp_path_factory):
    """An Azurite over HTTPS taking bearer tokens (``--oauth basic``), for this session (this xdist worker)."""
    _require_azurite()
    yield from _started(tmp_path_factory.mktemp("azurite-oauth"), oauth=True)


@pytest.fixture(scope="session")
def identity_endpoint():
    """A managed-identity token endpoint on 127.0.0.1 (``TokenEndpoint``) for this session."""
    endpoint = TokenEndpoint().start()
    yield endpoint
    endpoint.stop()


@pytest.fixture(scope="session")
def azurite(azurite_server):
    """The connection string of the session's Azurite, first account."""
    return azurite_server.connection_string


@pytest.fixture
def azure_storage(settings, azurite):
    """The Azure backend on Azurite; every container the test creates is deleted afterwards."""
    from integrations.storage import get_storage

    settings.STORAGE_BACKEND = "azure"
    settings.AZURE_STORAGE_CONNECTION_STRING = azurite
    settings.AZURE_STORAGE_IMAGESET_CONTAINER = f"images-{uuid.uuid4().hex[:12]}"
    yield from _deleting_new_containers(get_storage())


def managed_identity_environment(monkeypatch, endpoint: TokenEndpoint, certificate: Path) -> None:
    """The environment of a pod with a managed identity, trusting ``certificate``; no other Azure credential."""
    for name in (
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_TENANT_ID",
        "AZURE_FEDERATED_TOKEN_FILE",
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "AZURE_USERNAME",
        "MSI_ENDPOINT",
        "IDENTITY_SERVER_THUMBPRINT",
        "SSL_CERT_FILE",
        "CURL_CA_BUNDLE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IDENTITY_ENDPOINT", endpoint.url)
    monkeypatch.setenv("IDENTITY_HEADER", endpoint.secret)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate))


@pytest.fixture
def azure_keyless_storage(settings, monkeypatch, azurite_oauth_server, identity_endpoint):
    """The Azure backend on the OAuth Azurite by account URL and managed identity; no account key anywhere."""
    from integrations.storage import get_storage

    managed_identity_environment(monkeypatch, identity_endpoint, azurite_oauth_server.certificate)
    settings.STORAGE_BACKEND = "azure"
    settings.AZURE_STORAGE_CONNECTION_STRING = ""
    settings.AZURE_STORAGE_ACCOUNT_URL = azurite_oauth_server.account_url()
    settings.AZURE_STORAGE_CREDENTIAL = "default"
    settings.AZURE_STORAGE_IMAGESET_CONTAINER = f"images-{uuid.uuid4().hex[:12]}"
    yield from _deleting_new_containers(get_storage())


@pytest.fixture
def azure_second_account(azurite_server):
    """Azure storage on the second account of the session's Azurite; its new containers are deleted afterwards."""
    from integrations.storage.azure import AzureStorage

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
    from integrations.storage import get_storage

    settings.STORAGE_BACKEND = "local"
    return get_storage()


@pytest.fixture(
    params=[pytest.param("local", id="local"), pytest.param("azure", marks=pytest.mark.azurite, id="azure")]
)
def any_storage(request):
    """The storage backend, once local and once Azure (Azurite)."""
    return request.getfixturevalue(f"{request.param}_storage")


@contextmanager
def requests_sent(storage):
    """Every HTTP request an ``AzureStorage`` sends meanwhile, as (method, url, headers)."""
    sent = []

    def record(response, *args, **kwargs):
        sent.append((response.request.method, response.request.url, dict(response.request.headers)))

    hooks = storage._session.hooks["response"]
    hooks.append(record)
    try:
        yield sent
    finally:
        hooks.remove(record)
