"""deploy/k8s: in step with the suite, valid against the Kubernetes schemas, and each
service deployed with probes on /health and /ready (gateway) or its metrics listener."""

import importlib.util
import subprocess
import sys

import yaml

from plexus.config import PROJECT_ROOT
from plexus.suite import SERVICES

K8S = PROJECT_ROOT / "deploy" / "k8s"


def generator():
    spec = importlib.util.spec_from_file_location("k8s_generate", K8S / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_manifests_are_what_the_generator_makes():
    assert (K8S / "plexus.yaml").read_text() == generator().render(), (
        "run: .venv/bin/python deploy/k8s/generate.py"
    )


def test_manifests_validate_against_the_kubernetes_schemas():
    done = subprocess.run(
        [sys.executable, "-m", "kubernetes_validate", "--strict", str(K8S / "plexus.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_service_has_a_deployment_with_probes_and_senders_scale():
    objects = list(yaml.safe_load_all((K8S / "plexus.yaml").read_text()))
    by_kind: dict = {}
    for item in objects:
        by_kind.setdefault(item["kind"], {})[item["metadata"]["name"]] = item
    for service, entrypoint in SERVICES.items():
        name = service.replace("_", "-")
        container = by_kind["Deployment"][name]["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == [entrypoint]
        assert container["livenessProbe"] and container["readinessProbe"]
        assert name in by_kind["Service"]
        assert (name in by_kind.get("HorizontalPodAutoscaler", {})) == service.startswith("sender_")
    gateway = by_kind["Deployment"]["gateway"]["spec"]["template"]["spec"]["containers"][0]
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/health"


def test_each_pod_reads_only_its_own_broker_user():
    objects = list(yaml.safe_load_all((K8S / "plexus.yaml").read_text()))

    def containers(kind, name):
        item = next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)
        return item["spec"]["template"]["spec"]["containers"]

    def broker_key(container):
        (uri,) = [e for e in container.get("env", []) if e["name"] == "PLEXUS_AMQP_URI"]
        assert not any("plexus-amqp" in str(source) for source in container["envFrom"])
        ref = uri["valueFrom"]["secretKeyRef"]
        assert ref["name"] == "plexus-amqp"
        return ref["key"]

    for service in SERVICES:
        (container,) = containers("Deployment", service.replace("_", "-"))
        assert broker_key(container) == f"PLEXUS_{service.upper()}_AMQP_URI"
    (migrate,) = containers("Job", "plexus-migrate")
    assert broker_key(migrate) == "PLEXUS_AMQP_URI"  # the admin: it declares every queue
