"""The Kubernetes manifests (deploy/k8s/): both overlays render, every document is valid, and they say what the
deploying guide promises.

Rendering needs ``kubectl`` (``kubectl kustomize``; ``KUBECTL=/path/to/kubectl`` chooses another one, e.g.
Debian's 1.20 whose kustomize v2.0.3 the kustomizations are written for). Without it the tests are skipped,
except under ``CI=true`` where that is a failure (``.ci/run`` installs Debian's ``kubernetes-client``).
Validation is offline, against the OpenAPI schemas ``kubernetes-validate`` bundles, in strict mode: a field
the schema does not know fails, as does a value of the wrong type.
"""

from __future__ import annotations

import copy
import ipaddress
import os
import re
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from labelhub.settings import BASE_DIR

K8S = BASE_DIR / "deploy" / "k8s"
OVERLAYS = ("staging", "production")
# The Kubernetes minor the manifests are validated against: a version AKS supports. Raise it with the
# clusters (kubernetes-validate, pinned in requirements.txt, bundles the schemas up to 1.37).
KUBERNETES_VERSION = "1.33"
ROLES = ("web", "worker", "webhooks", "migrate")
# Settings that are secret: they reach the pods only as secretKeyRef of the Secret "labelhub".
SECRET_SETTINGS = {
    "DJANGO_SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "METRICS_TOKEN",
    "SENTRY_DSN",
    "AZURE_STORAGE_CONNECTION_STRING",
    "API_KEY_PEPPER",
    "AZURE_CLIENT_SECRET",
}
# The ones a pod may start without (labelhub runs without Sentry, and keyless storage needs no connection string).
OPTIONAL_SECRETS = {"SENTRY_DSN", "AZURE_STORAGE_CONNECTION_STRING"}
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _kubectl() -> str:
    kubectl = shutil.which(os.environ.get("KUBECTL", "kubectl"))
    if kubectl is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("kubectl is missing: .ci/run installs Debian's kubernetes-client")
        pytest.skip("kubectl is not installed (apt-get install kubernetes-client): the manifests cannot be rendered")
    return kubectl


def render(path: Path) -> list[dict]:
    """The documents ``kubectl kustomize path`` prints (deprecation warnings of a newer kustomize go to stderr)."""
    result = subprocess.run(
        [_kubectl(), "kustomize", str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"kubectl kustomize {path} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict]]:
    return {name: render(K8S / "overlays" / name) for name in OVERLAYS}


@pytest.fixture(scope="module")
def base() -> list[dict]:
    return render(K8S / "base")


def one(docs: list[dict], kind: str, name: str) -> dict:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} documents"
    return found[0]


def config_map(docs: list[dict]) -> dict:
    found = [d for d in docs if d["kind"] == "ConfigMap"]
    assert len(found) == 1
    return found[0]


def pod_templates(docs: list[dict]) -> dict[str, dict]:
    """Role -> pod template of its Deployment or Job."""
    templates = {}
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            templates[doc["metadata"]["labels"]["app.kubernetes.io/component"]] = doc["spec"]["template"]
    return templates


def env_of(container: dict) -> dict[str, dict]:
    return {entry["name"]: entry for entry in container.get("env", [])}


def validate(doc: dict) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


# --- rendering and schema validation -----------------------------------------------------------------


def test_both_overlays_render_every_role(rendered):
    for name, docs in rendered.items():
        kinds = sorted((d["kind"], d["metadata"]["name"]) for d in docs)
        assert kinds == sorted(
            [
                ("Namespace", f"labelhub-{name}"),
                ("ServiceAccount", "labelhub"),
                ("ConfigMap", config_map(docs)["metadata"]["name"]),
                ("Deployment", "labelhub-web"),
                ("Deployment", "labelhub-worker"),
                ("Deployment", "labelhub-webhooks"),
                ("Job", "labelhub-migrate"),
                ("Service", "labelhub-web"),
                ("Ingress", "labelhub"),
                ("HorizontalPodAutoscaler", "labelhub-web"),
                ("PodDisruptionBudget", "labelhub-web"),
            ]
        ), name
        # No Secret object at all: secrets are created in the cluster, never kept in the repository.
        assert not [d for d in docs if d["kind"] == "Secret"]


def test_every_document_validates_strictly(rendered, base):
    for docs in [*rendered.values(), base]:
        for doc in docs:
            # A kind without a schema would raise SchemaNotFoundError: nothing passes unchecked.
            validate(doc)


@pytest.mark.parametrize(
    "mistake, change",
    [
        # A misspelled field: the strict schemas refuse fields they do not know.
        ("misspelled field", lambda d: d["spec"]["template"]["spec"]["containers"][0].update(readinesProbe={})),
        ("misspelled top-level field", lambda d: d["spec"].update(replica=2)),
        # Wrong types.
        (
            "port as a string",
            lambda d: d["spec"]["template"]["spec"]["containers"][0]["ports"][0].update(containerPort="8080"),
        ),
        ("args not a list", lambda d: d["spec"]["template"]["spec"]["containers"][0].update(args="web")),
        ("boolean as a string", lambda d: d["spec"]["template"]["spec"]["securityContext"].update(runAsNonRoot="yes")),
        # A required field missing (a container's image is optional in the API; its name is not).
        ("container without name", lambda d: d["spec"]["template"]["spec"]["containers"][0].pop("name")),
    ],
)
def test_validation_catches_mistakes(rendered, mistake, change):
    web = copy.deepcopy(one(rendered["production"], "Deployment", "labelhub-web"))
    validate(web)
    change(web)
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(web)


def test_validation_catches_an_unknown_field_deep_in_a_probe():
    doc = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {
            "containers": [
                {
                    "name": "c",
                    "image": "i",
                    "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080, "pth": "x"}},
                }
            ]
        },
    }
    with pytest.raises(kubernetes_validate.ValidationError, match="pth"):
        validate(doc)


# --- what the issue names ----------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_web_probes_port_and_scrape_annotations(rendered, overlay):
    docs = rendered[overlay]
    template = one(docs, "Deployment", "labelhub-web")["spec"]["template"]
    (web,) = template["spec"]["containers"]
    assert web["args"] == ["web"]
    assert web["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert web["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert web["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert web["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    # /readyz gives the database, storage and broker 3 s each: the probe must wait longer than one check.
    assert web["readinessProbe"]["timeoutSeconds"] > 3
    assert template["metadata"]["annotations"] == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "8080",
        "prometheus.io/path": "/metrics",
        "prometheus.io/scheme": "http",
    }
    # The scraper's bearer token is the pod's METRICS_TOKEN, from the Secret.
    assert env_of(web)["METRICS_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "labelhub", "key": "METRICS_TOKEN"}
    service = one(docs, "Service", "labelhub-web")
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
    pod_labels = template["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert (
        one(docs, "PodDisruptionBudget", "labelhub-web")["spec"]["selector"]["matchLabels"].items()
        <= pod_labels.items()
    )
    hpa = one(docs, "HorizontalPodAutoscaler", "labelhub-web")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "labelhub-web"}
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    # The autoscaler owns the count: a replicas field would reset it on every apply.
    assert "replicas" not in one(docs, "Deployment", "labelhub-web")["spec"]
    ingress = one(docs, "Ingress", "labelhub")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "labelhub-web", "port": {"name": "http"}}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_web_stops_gracefully(rendered, overlay):
    docs = rendered[overlay]
    spec = one(docs, "Deployment", "labelhub-web")["spec"]["template"]["spec"]
    command = spec["containers"][0]["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    sleep = int(command[1])
    assert 3 <= sleep <= 15
    graceful = int(config_map(docs)["data"]["WEB_GRACEFUL_TIMEOUT"])
    # SIGTERM reaches gunicorn after the sleep; the requests in flight then get WEB_GRACEFUL_TIMEOUT.
    assert spec["terminationGracePeriodSeconds"] > sleep + graceful


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_is_non_root_read_only_with_a_writable_tmp(rendered, overlay):
    templates = pod_templates(rendered[overlay])
    assert sorted(templates) == sorted(ROLES)
    for role, template in templates.items():
        spec = template["spec"]
        assert spec["serviceAccountName"] == "labelhub", role
        assert spec["automountServiceAccountToken"] is False, role
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == 10001
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        (container,) = spec["containers"]
        assert container["args"] == [role]
        assert container["image"] == spec_image(rendered[overlay])
        context = container["securityContext"]
        assert context["runAsNonRoot"] is True and context["runAsUser"] == 10001, role
        assert context["readOnlyRootFilesystem"] is True, role
        assert context["allowPrivilegeEscalation"] is False, role
        assert context["capabilities"] == {"drop": ["ALL"]}, role
        # The one writable path: /tmp, an emptyDir (PROMETHEUS_MULTIPROC_DIR and CACHE_DIR live there).
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        assert mounts == {"/tmp": "tmp"}, role
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert "emptyDir" in volumes["tmp"], role
        resources = container["resources"]
        assert {"cpu", "memory"} <= resources["requests"].keys(), role
        assert {"cpu", "memory"} <= resources["limits"].keys(), role
        # The workload identity webhook acts on this label only.
        assert template["metadata"]["labels"]["azure.workload.identity/use"] == "true", role
        # Sentry's environment is the namespace, from the downward API.
        assert env_of(container)["SENTRY_ENVIRONMENT"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}


def spec_image(docs: list[dict]) -> str:
    images = {c["image"] for t in pod_templates(docs).values() for c in t["spec"]["containers"]}
    assert len(images) == 1, images
    return images.pop()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_only_by_reference(rendered, overlay):
    docs = rendered[overlay]
    data = config_map(docs)["data"]
    assert not SECRET_SETTINGS & data.keys()
    # Nothing in the ConfigMap looks like a credential: no password in a URL, no account key, no SAS signature.
    for key, value in data.items():
        assert not re.search(r"://[^/@\s]*:[^/@\s]*@|AccountKey=|SharedAccessSignature|[?&]sig=", value), key
    for role, template in pod_templates(docs).items():
        (container,) = template["spec"]["containers"]
        env = env_of(container)
        for name in SECRET_SETTINGS & env.keys():
            entry = env[name]
            assert "value" not in entry, (role, name)
            reference = entry["valueFrom"]["secretKeyRef"]
            assert reference["name"] == "labelhub" and reference["key"] == name, (role, name)
            assert reference.get("optional", False) is (name in OPTIONAL_SECRETS), (role, name)
        assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= env.keys(), role
        assert ("METRICS_TOKEN" in env) is (role == "web"), role
        # Literal values are only the composition of ALLOWED_HOSTS (web), never a secret.
        literal = {name for name, entry in env.items() if "value" in entry}
        assert literal <= {"DJANGO_ALLOWED_HOSTS"}, (role, literal)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_config_map_holds_settings_labelhub_reads(rendered, overlay):
    """A misspelled setting would be silently ignored: every key is one labelhub (or the image) reads."""
    known = (BASE_DIR / "labelhub" / "settings.py").read_text() + (
        BASE_DIR / "labelhub" / "gunicorn_conf.py"
    ).read_text()
    data = config_map(rendered[overlay])["data"]
    for key in data:
        assert f'"{key}"' in known, key
    assert data["STORAGE_BACKEND"] == "azure"
    assert (data["WEB_WORKERS"], data["WEB_THREADS"]) == ("2", "4")
    assert data["DJANGO_SECURE_PROXY_SSL_HEADER"] == "1"
    assert data["DJANGO_DEBUG"] == "0"
    # Django's SSL redirect would answer the kubelet's plain-http probes with 301; the ingress redirects instead.
    assert data.get("DJANGO_SECURE_SSL_REDIRECT", "0") in ("0", "")
    # Every reference to the ConfigMap names the generated one (its name carries a hash of its content).
    name = config_map(rendered[overlay])["metadata"]["name"]
    for template in pod_templates(rendered[overlay]).values():
        (container,) = template["spec"]["containers"]
        assert container["envFrom"] == [{"configMapRef": {"name": name}}]
        for entry in container["env"]:
            reference = entry.get("valueFrom", {}).get("configMapKeyRef")
            if reference:
                assert reference["name"] == name
                assert reference["key"] in data


def expand(container: dict, config: dict[str, str], pod_ip: str) -> dict[str, str]:
    """The container's environment as the kubelet builds it: envFrom, then env in order, $(VAR) from earlier."""
    environment = dict(config)
    for entry in container["env"]:
        source = entry.get("valueFrom", {})
        if "value" in entry:
            environment[entry["name"]] = re.sub(
                r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: environment.get(m[1], m[0]), entry["value"]
            )
        elif source.get("fieldRef", {}).get("fieldPath") == "status.podIP":
            environment[entry["name"]] = pod_ip
        elif "configMapKeyRef" in source:
            environment[entry["name"]] = config[source["configMapKeyRef"]["key"]]
    return environment


@pytest.mark.django_db
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes_and_scrapes_are_allowed_hosts(rendered, overlay, client, settings):
    """The kubelet and Prometheus call the pod by its IP; Django refuses a Host it does not know with 400."""
    docs = rendered[overlay]
    data = config_map(docs)["data"]
    (web,) = one(docs, "Deployment", "labelhub-web")["spec"]["template"]["spec"]["containers"]
    pod_ip = "10.244.3.17"
    hosts = expand(web, data, pod_ip)["DJANGO_ALLOWED_HOSTS"].split(",")
    assert pod_ip in hosts
    ingress_host = one(docs, "Ingress", "labelhub")["spec"]["rules"][0]["host"]
    assert ingress_host in hosts
    assert data["DJANGO_CSRF_TRUSTED_ORIGINS"] == f"https://{ingress_host}"
    assert all(not h.startswith("$(") and h for h in hosts), hosts

    settings.ALLOWED_HOSTS = hosts
    assert client.get("/healthz", HTTP_HOST=f"{pod_ip}:8080").status_code == 200
    assert client.get("/healthz", HTTP_HOST=ingress_host).status_code == 200
    assert client.get("/healthz", HTTP_HOST="evil.example.net").status_code == 400
    # Without the pod's IP the probes would fail: that is why it is added.
    settings.ALLOWED_HOSTS = data["DJANGO_ALLOWED_HOSTS"].split(",")
    assert client.get("/healthz", HTTP_HOST=f"{pod_ip}:8080").status_code == 400
    ipaddress.ip_address(pod_ip)


def test_workload_identity_and_overlays_differ(rendered, base):
    base_client_id = one(base, "ServiceAccount", "labelhub")["metadata"]["annotations"][
        "azure.workload.identity/client-id"
    ]
    seen = {}
    for overlay, docs in rendered.items():
        namespace = f"labelhub-{overlay}"
        for doc in docs:
            if doc["kind"] != "Namespace":
                assert doc["metadata"]["namespace"] == namespace, (overlay, doc["kind"])
        assert one(docs, "Namespace", namespace)["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == (
            "restricted"
        )
        client_id = one(docs, "ServiceAccount", "labelhub")["metadata"]["annotations"][
            "azure.workload.identity/client-id"
        ]
        assert GUID.fullmatch(client_id) and client_id != base_client_id, overlay
        image = spec_image(docs)
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest", image
        hpa = one(docs, "HorizontalPodAutoscaler", "labelhub-web")["spec"]
        seen[overlay] = {
            "client_id": client_id,
            "tag": tag,
            "hpa": (hpa["minReplicas"], hpa["maxReplicas"]),
            "workers": one(docs, "Deployment", "labelhub-worker")["spec"]["replicas"],
            "web_memory": one(docs, "Deployment", "labelhub-web")["spec"]["template"]["spec"]["containers"][0][
                "resources"
            ]["limits"]["memory"],
            "host": one(docs, "Ingress", "labelhub")["spec"]["rules"][0]["host"],
        }
    staging, production = seen["staging"], seen["production"]
    for key in staging:
        assert staging[key] != production[key], key
    assert production["hpa"][0] >= 2  # the PodDisruptionBudget and a rollout always leave a pod serving
    assert production["workers"] > staging["workers"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_migrate_job_and_upgrade_phase(rendered, overlay):
    docs = rendered[overlay]
    job = one(docs, "Job", "labelhub-migrate")
    assert job["spec"]["backoffLimit"] >= 1
    assert job["spec"]["ttlSecondsAfterFinished"] > 0
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    # "Upgrading" applies the objects labelled labelhub/phase=migrate first: the Job and what it needs.
    phase = sorted(d["kind"] for d in docs if d["metadata"].get("labels", {}).get("labelhub/phase") == "migrate")
    assert phase == ["ConfigMap", "Job", "ServiceAccount"]
    # Only the web role serves HTTP; the others have no port and no probes.
    for role, template in pod_templates(docs).items():
        (container,) = template["spec"]["containers"]
        if role != "web":
            assert not {"ports", "readinessProbe", "livenessProbe", "startupProbe"} & container.keys(), role
