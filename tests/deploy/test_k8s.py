"""deploy/k8s, rendered by kustomize (kubectl kustomize, kustomize built in) as an operator
applies it: each overlay valid against the Kubernetes schemas and KEDA's, every service
deployed with probes and its own broker user, the senders scaled on their queues with a
writable DATA_DIR, no secret committed, and the release (image tag) naming the image and
the migration Job."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from plexus.config import PROJECT_ROOT
from plexus.suite import SERVICES
from services.messaging.queues import queue_name
from tests.deploy import keda_schema

K8S = PROJECT_ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "production")
SENDERS = [service for service in SERVICES if service.startswith("sender_")]
# make venv installs it (scripts/install_kubectl.py); the one kubectl these tests trust.
KUBECTL = Path(sys.executable).parent / "kubectl"


def k8s_name(service: str) -> str:
    return service.replace("_", "-")


def kustomize(directory: Path) -> list[dict]:
    if not KUBECTL.exists():
        pytest.fail(f"{KUBECTL} missing: run make venv")
    done = subprocess.run(
        [str(KUBECTL), "kustomize", str(directory)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return list(yaml.safe_load_all(done.stdout))


def with_example_env_files(tree: Path) -> Path:
    """A copy of deploy/k8s whose dev overlay has its git-ignored env files, made from
    the committed examples, as an operator's first `cp` does."""
    shutil.copytree(K8S, tree, ignore=shutil.ignore_patterns("*.env"))
    for example in (tree / "overlays" / "dev").glob("*.env.example"):
        shutil.copy(example, example.with_suffix(""))
    return tree


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, list[dict]]:
    tree = with_example_env_files(tmp_path_factory.mktemp("k8s") / "k8s")
    return {
        "base": kustomize(tree / "base"),
        **{overlay: kustomize(tree / "overlays" / overlay) for overlay in OVERLAYS},
    }


def find(objects: list[dict], kind: str, name: str | None = None) -> list[dict]:
    return [
        item
        for item in objects
        if item["kind"] == kind and name in (None, item["metadata"]["name"])
    ]


def deployment(objects: list[dict], service: str) -> dict:
    (found,) = find(objects, "Deployment", k8s_name(service))
    return found


def container(item: dict) -> dict:
    (only,) = item["spec"]["template"]["spec"]["containers"]
    return only


def overlay_image(overlay: str) -> str:
    (image,) = yaml.safe_load((K8S / "overlays" / overlay / "kustomization.yaml").read_text())[
        "images"
    ]
    return f"{image.get('newName', image['name'])}:{image['newTag']}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_is_valid_against_the_kubernetes_and_keda_schemas(rendered, overlay):
    problems = []
    for item in rendered[overlay]:
        where = f"{item['kind']} {item['metadata']['name']}"
        if item["kind"] in keda_schema.KINDS:
            problems += [f"{where}: {error}" for error in keda_schema.errors(item)]
            continue
        try:
            kubernetes_validate.validate(item, kubernetes_validate.latest_version(), strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{where}: {error.message}")
    assert not problems, "\n".join(problems)


def test_the_keda_check_refuses_a_field_keda_does_not_have(rendered):
    (scaled,) = find(rendered["production"], "ScaledObject", "sender-email")
    assert not keda_schema.errors(scaled)
    hpa_style = {**scaled, "spec": {**scaled["spec"], "minReplicas": 1}}
    assert keda_schema.errors(hpa_style) == [
        "spec: Additional properties are not allowed ('minReplicas' was unexpected)"
    ]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_is_deployed_with_probes(rendered, overlay):
    objects = rendered[overlay]
    for service, entrypoint in SERVICES.items():
        assert find(objects, "Deployment", k8s_name(service)), f"{service}: no Deployment"
        main = container(deployment(objects, service))
        assert main["args"] == [entrypoint]
        assert main["livenessProbe"] and main["readinessProbe"], service
        assert {"name": "PLEXUS_SERVICE", "value": service} in main["env"]
        assert find(objects, "Service", k8s_name(service)), f"{service}: no Service"
    gateway = container(deployment(objects, "gateway"))
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/health"
    sender = container(deployment(objects, "sender_email"))
    assert sender["livenessProbe"]["httpGet"] == {"path": "/metrics", "port": "metrics"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_senders_scale_on_their_queue_not_on_cpu(rendered, overlay):
    objects = rendered[overlay]
    assert not find(objects, "HorizontalPodAutoscaler"), "KEDA makes the senders' HPAs"
    (authentication,) = find(objects, "TriggerAuthentication")
    assert authentication["spec"]["secretTargetRef"] == [
        {"parameter": "host", "name": "plexus-amqp", "key": "PLEXUS_KEDA_AMQP_URI"}
    ]
    for sender in SENDERS:
        (scaled,) = find(objects, "ScaledObject", k8s_name(sender))
        assert scaled["spec"]["scaleTargetRef"] == {"name": k8s_name(sender)}
        assert 1 <= scaled["spec"]["minReplicaCount"] < scaled["spec"]["maxReplicaCount"]
        (trigger,) = scaled["spec"]["triggers"]
        assert trigger["type"] == "rabbitmq"
        assert trigger["metadata"]["queueName"] == queue_name(sender.removeprefix("sender_"))
        assert trigger["metadata"]["mode"] == "QueueLength"
        assert trigger["authenticationRef"] == {"name": authentication["metadata"]["name"]}
        # An apply must not reset what KEDA scaled to.
        assert "replicas" not in deployment(objects, sender)["spec"]
    assert len(find(objects, "ScaledObject")) == len(SENDERS)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_senders_write_data_dir_on_a_volume_under_a_read_only_root(rendered, overlay):
    objects = rendered[overlay]
    (config,) = find(objects, "ConfigMap", "plexus-config")
    data_dir = config["data"]["PLEXUS_DATA_DIR"]
    for service in SERVICES:
        pod = deployment(objects, service)["spec"]["template"]["spec"]
        main = container(deployment(objects, service))
        assert main["securityContext"]["readOnlyRootFilesystem"] is True
        mounts = {mount["mountPath"]: mount["name"] for mount in main["volumeMounts"]}
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        writable = {path for path, name in mounts.items() if "emptyDir" in volumes[name]}
        assert "/tmp" in writable, service
        if service in SENDERS:  # the outbox provider, a VAPID key made on first use
            assert data_dir in writable, f"{service}: DATA_DIR not writable"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_pod_reads_only_its_own_broker_user(rendered, overlay):
    objects = rendered[overlay]

    def broker_key(main):
        (uri,) = [e for e in main.get("env", []) if e["name"] == "PLEXUS_AMQP_URI"]
        assert not any("plexus-amqp" in str(source) for source in main["envFrom"])
        ref = uri["valueFrom"]["secretKeyRef"]
        assert ref["name"] == "plexus-amqp"
        return ref["key"]

    for service in SERVICES:
        assert broker_key(container(deployment(objects, service))) == (
            f"PLEXUS_{service.upper()}_AMQP_URI"
        )
    (job,) = find(objects, "Job")
    assert broker_key(container(job)) == "PLEXUS_AMQP_URI"  # the admin: it declares every queue


@pytest.mark.parametrize("view", ["base", "production"])
def test_no_secret_is_committed_outside_the_dev_overlays_ignored_files(rendered, view):
    assert not find(rendered[view], "Secret")
    committed = subprocess.run(  # what git has or would take: tracked, and new not ignored
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "deploy/k8s"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert committed, "git ls-files found nothing under deploy/k8s"
    for path in committed:
        assert "kind: Secret" not in (PROJECT_ROOT / path).read_text(), path
    for env_file in ("secrets.env", "rabbitmq-users.env"):
        ignored = subprocess.run(
            ["git", "check-ignore", "-q", f"deploy/k8s/overlays/dev/{env_file}"], cwd=PROJECT_ROOT
        )
        assert ignored.returncode == 0, f"git would commit deploy/k8s/overlays/dev/{env_file}"


def test_the_dev_overlay_makes_every_secret_key_the_pods_read(rendered):
    objects = rendered["dev"]
    made = {secret["metadata"]["name"]: set(secret["data"]) for secret in find(objects, "Secret")}
    pods = find(objects, "Deployment") + find(objects, "Job")
    for main in map(container, pods):
        for variable in main.get("env", []):
            ref = variable.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["key"] in made[ref["name"]], f"{ref['name']} lacks {ref['key']}"
        for source in main["envFrom"]:
            if "secretRef" in source:
                assert source["secretRef"]["name"] in made
    assert "PLEXUS_KEDA_AMQP_URI" in made["plexus-amqp"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_overlay_sets_the_image_and_names_the_migration_job_after_it(rendered, overlay):
    objects = rendered[overlay]
    image = overlay_image(overlay)
    pods = find(objects, "Deployment") + find(objects, "Job")
    assert {container(pod)["image"] for pod in pods} == {image}
    (job,) = find(objects, "Job")
    assert job["metadata"]["name"] == f"plexus-migrate-{image.rsplit(':', 1)[1]}"
    assert container(job)["command"] == ["plexus", "migrate"]


def test_the_base_leaves_the_image_tag_and_the_release_to_the_overlays(rendered):
    pods = find(rendered["base"], "Deployment") + find(rendered["base"], "Job")
    assert {container(pod)["image"] for pod in pods} == {"plexus"}
