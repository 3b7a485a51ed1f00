"""deploy/kubernetes/base against the Kubernetes API schemas (kubernetes-validate, offline) and the
settings' contract: no cluster runs here, so the manifests are rendered the way kustomize would
(its resources, images and labels) and every object validated strictly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from kubernetes_validate import utils as kubernetes_schemas
from kubernetes_validate import validate

from config.env import CONTRACT

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "deploy" / "kubernetes" / "base"
#: The oldest Kubernetes the manifests are written for (autoscaling/v2 and policy/v1 need 1.23+).
KUBERNETES_VERSIONS = ("1.28.0", kubernetes_schemas.latest_version())


def render():
    """The objects `kubectl apply -k deploy/kubernetes/base` would send: each resource file's
    documents, the kustomization's image replaced and its labels added."""
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    images = {image["name"]: f"{image['newName']}:{image['newTag']}" for image in kustomization.get("images", [])}
    labels = {k: v for entry in kustomization.get("labels", []) for k, v in entry["pairs"].items()}
    objects = []
    for name in kustomization["resources"]:
        for document in yaml.safe_load_all((BASE / name).read_text()):
            if document is None:
                continue
            document.setdefault("metadata", {}).setdefault("labels", {}).update(labels)
            for container in containers(document):
                container["image"] = images.get(container["image"], container["image"])
            objects.append(document)
    return objects


def pod_spec(document):
    spec = document.get("spec", {})
    if document["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return spec["template"]["spec"]
    return None


def containers(document):
    spec = pod_spec(document)
    return [] if spec is None else [*spec.get("initContainers", []), *spec["containers"]]


@pytest.fixture(scope="module")
def objects():
    return render()


def by_kind(objects, kind):
    return {document["metadata"]["name"]: document for document in objects if document["kind"] == kind}


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_is_valid_for_the_kubernetes_api(objects, version):
    for document in objects:
        validate(document, version, strict=True)


def test_the_base_holds_web_workers_one_beat_a_migration_job_and_the_configuration(objects):
    deployments = by_kind(objects, "Deployment")
    assert set(deployments) == {
        "portal-web",
        "portal-worker-reports",
        "portal-worker-imports",
        "portal-worker-webhooks",
        "portal-beat",
    }
    assert set(by_kind(objects, "Service")) == {"portal-web"}
    assert set(by_kind(objects, "Job")) == {"portal-migrate"}
    hpa = by_kind(objects, "HorizontalPodAutoscaler")["portal-web"]
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "portal-web"}
    assert hpa["spec"]["minReplicas"] >= 2
    beat = deployments["portal-beat"]
    assert beat["spec"]["replicas"] == 1 and beat["spec"]["strategy"]["type"] == "Recreate"
    assert "--scheduler=redbeat.RedBeatScheduler" in beat["spec"]["template"]["spec"]["containers"][0]["command"]


def test_every_container_reads_the_config_map_and_the_secret_and_they_hold_the_contract(objects):
    maps, secrets = by_kind(objects, "ConfigMap"), by_kind(objects, "Secret")
    for document in objects:
        for container in containers(document):
            sources = container.get("envFrom", [])
            names = {(next(iter(source)), next(iter(source.values()))["name"]) for source in sources}
            assert names == {("configMapRef", "portal-config"), ("secretRef", "portal-secrets")}, document
    keys = set(maps["portal-config"]["data"]) | set(secrets["portal-secrets"]["stringData"])
    assert set(CONTRACT) <= keys, f"missing: {set(CONTRACT) - keys}"
    assert not set(maps["portal-config"]["data"]) & {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "EMAIL_URL"}


def test_the_settings_load_from_the_rendered_environment(objects):
    """Django starts with exactly what a web pod gets (DEBUG off, a secret key, https behind a proxy)."""
    maps, secrets = by_kind(objects, "ConfigMap"), by_kind(objects, "Secret")
    env = {key: value for key, value in os.environ.items() if key not in CONTRACT}
    env.update(maps["portal-config"]["data"], **secrets["portal-secrets"]["stringData"])
    env.update(DJANGO_SETTINGS_MODULE="config.settings")
    code = (
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.SECURE_PROXY_SSL_HEADER[0])"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "HTTP_X_FORWARDED_PROTO"]


def test_web_is_probed_on_liveness_and_readiness_and_never_rolls_below_its_replicas(objects):
    web = by_kind(objects, "Deployment")["portal-web"]
    container = web["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][:2] == ["gunicorn", "config.wsgi"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert web["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    service = by_kind(objects, "Service")["portal-web"]
    assert service["spec"]["selector"] == web["spec"]["selector"]["matchLabels"]


def test_each_queue_the_settings_route_to_has_workers(objects):
    from django.conf import settings

    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    consumed = set()
    for name, document in by_kind(objects, "Deployment").items():
        if name.startswith("portal-worker-"):
            queues = next(arg for arg in containers(document)[0]["command"] if arg.startswith("--queues="))
            consumed |= set(queues.removeprefix("--queues=").split(","))
    assert routed | {settings.CELERY_TASK_DEFAULT_QUEUE} <= consumed


def test_pods_run_as_the_images_non_root_user_with_a_read_only_root(objects):
    for document in objects:
        spec = pod_spec(document)
        if spec is None:
            continue
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == 10001  # the Dockerfile's portal user
        for container in containers(document):
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["resources"]["limits"]["memory"]


def test_the_migration_job_runs_migrate(objects):
    job = by_kind(objects, "Job")["portal-migrate"]
    assert containers(job)[0]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_probes_ask_by_a_host_name_the_settings_allow(objects):
    """The kubelet would ask by the pod's IP address, which Django answers with a 400 (DisallowedHost)."""
    allowed = by_kind(objects, "ConfigMap")["portal-config"]["data"]["ALLOWED_HOSTS"].split(",")
    container = by_kind(objects, "Deployment")["portal-web"]["spec"]["template"]["spec"]["containers"][0]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        headers = {h["name"]: h["value"] for h in container[probe]["httpGet"].get("httpHeaders", [])}
        assert headers.get("Host") in allowed, probe
