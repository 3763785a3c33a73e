"""Writes deploy/k8s/plexus.yaml: the Kubernetes manifests of the suite, made from the
service list (plexus.suite) and the metrics ports (config.yaml), so a new service gets
its Deployment, Service and probes by being added there. Run it after such a change:

    .venv/bin/python deploy/k8s/generate.py

tests/deploy/test_k8s.py fails when the committed file is out of step, and validates it
against the Kubernetes schemas.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from plexus.config import load_config, metrics_port  # noqa: E402
from plexus.suite import SERVICES  # noqa: E402

OUTPUT = Path(__file__).with_name("plexus.yaml")
NAMESPACE = "plexus"
IMAGE = "plexus:0.1.0"
GATEWAY_PORT = 8000
LABEL = "app.kubernetes.io/name"


def k8s_name(service: str) -> str:
    return service.replace("_", "-")


def is_sender(service: str) -> bool:
    return service.startswith("sender_")


def metadata(name: str, **extra) -> dict:
    return {
        "name": name,
        "namespace": NAMESPACE,
        "labels": {LABEL: name, "app.kubernetes.io/part-of": "plexus"},
        **extra,
    }


def shared_objects() -> list[dict]:
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": metadata("plexus-config"),
            "data": {
                # config.yaml is in the image; these override its ${VAR:default}s.
                "PLEXUS_METRICS_HOST": "0.0.0.0",
                "PLEXUS_GATEWAY_HOST": "0.0.0.0",
                "PLEXUS_LOG_FORMAT": "json",
                "PLEXUS_LOG_LEVEL": "INFO",
                "PLEXUS_RPC_TIMEOUT": "10",
            },
        },
        # Placeholders: replace with your secret store (sealed-secrets, external-secrets).
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": metadata("plexus-secrets"),
            "type": "Opaque",
            "stringData": {
                "PLEXUS_DATABASE_URL": "postgresql://plexus:change-me@postgres:5432/plexus",
                "PLEXUS_BOOTSTRAP_KEY": "",
                # Messaging refuses this placeholder at start: 32+ random characters.
                "PLEXUS_TRACKING_SECRET": "change-me",
                # Signs the subscription form's confirmation links (every contacts replica).
                "PLEXUS_FORMS_SECRET": "change-me",
                # Contacts refuses this placeholder at start: 32+ random characters, kept with
                # the data (the key of erased contacts' suppressed addresses' hashes).
                "PLEXUS_SUPPRESSION_SECRET": "change-me",
                # Set it before PLEXUS_WEBPUSH_PROVIDER=webpush: every replica must sign with
                # the key browsers subscribed with (`plexus webpush public-key` prints it).
                "PLEXUS_VAPID_PRIVATE_KEY": "",
            },
        },
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": metadata("plexus-migrate"),
            "spec": {
                "backoffLimit": 4,
                "template": {
                    "spec": {
                        "restartPolicy": "OnFailure",
                        "securityContext": pod_security(),
                        "containers": [
                            {
                                "name": "migrate",
                                "image": IMAGE,
                                "command": ["plexus", "migrate"],
                                # The admin broker user: migrate declares every service's queues.
                                "envFrom": env_from(),
                                "env": [broker_uri("PLEXUS_AMQP_URI")],
                                "securityContext": container_security(),
                                "resources": resources("100m", "256Mi", "1", "512Mi"),
                            }
                        ],
                    }
                },
            },
        },
    ]


# Each pod's broker user, limited to its service's exchanges and queues, from the Secret
# that scripts/rabbitmq-users.sh's output makes (not in these manifests, so that applying
# them never overwrites it): kubectl -n plexus create secret generic plexus-amqp
# --from-env-file=rabbitmq-users.env. A pod reads its own key only.
BROKER_SECRET = "plexus-amqp"


def broker_uri(key: str) -> dict:
    return {
        "name": "PLEXUS_AMQP_URI",
        "valueFrom": {"secretKeyRef": {"name": BROKER_SECRET, "key": key}},
    }


def env_from() -> list[dict]:
    return [{"configMapRef": {"name": "plexus-config"}}, {"secretRef": {"name": "plexus-secrets"}}]


def pod_security() -> dict:
    return {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security() -> dict:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }


def resources(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> dict:
    return {
        "requests": {"cpu": cpu, "memory": memory},
        "limits": {"cpu": cpu_limit, "memory": memory_limit},
    }


def probes(service: str) -> dict:
    if service == "gateway":
        return {
            "livenessProbe": {
                "httpGet": {"path": "/health", "port": "http"},
                "periodSeconds": 10,
                "failureThreshold": 3,
            },
            # The gateway's own database and broker: a backing service away must not
            # take every gateway pod out of the Service (its routes answer 503 alone).
            "readinessProbe": {
                "httpGet": {"path": "/ready", "port": "http"},
                "periodSeconds": 5,
                "timeoutSeconds": 3,
            },
        }
    # A nameko worker has no HTTP of its own; its metrics listener lives in the same
    # process, so it answering means the process and its hub are alive.
    check = {"httpGet": {"path": "/metrics", "port": "metrics"}, "periodSeconds": 10}
    return {
        "livenessProbe": {**check, "failureThreshold": 3},
        "readinessProbe": {**check, "failureThreshold": 1},
    }


# The FCM service account's key file, for sender_app_push only (the one pod holding it):
# kubectl -n plexus create secret generic plexus-fcm
# --from-file=service-account.json=<the key file Google's console gave>. Optional, so the
# sender starts without it on its outbox provider (PLEXUS_APP_PUSH_PROVIDER unset).
FCM_SECRET, FCM_DIRECTORY = "plexus-fcm", "/etc/plexus/fcm"


def provider_files(service: str) -> tuple[list[dict], list[dict], list[dict]]:
    """(env, volume mounts, volumes) a sender's provider needs beyond the common ones."""
    if service != "sender_app_push":
        return [], [], []
    return (
        [
            {
                "name": "PLEXUS_FCM_SERVICE_ACCOUNT_FILE",
                "value": f"{FCM_DIRECTORY}/service-account.json",
            }
        ],
        [{"name": "fcm", "mountPath": FCM_DIRECTORY, "readOnly": True}],
        [{"name": "fcm", "secret": {"secretName": FCM_SECRET, "optional": True}}],
    )


def service_objects(service: str, entrypoint: str, port: int) -> list[dict]:
    name = k8s_name(service)
    env, mounts, volumes = provider_files(service)
    ports = [{"name": "metrics", "containerPort": port}]
    if service == "gateway":
        ports.insert(0, {"name": "http", "containerPort": GATEWAY_PORT})
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(name),
        "spec": {
            "replicas": 2 if service == "gateway" else 1,
            "selector": {"matchLabels": {LABEL: name}},
            "template": {
                "metadata": {
                    "labels": {LABEL: name, "app.kubernetes.io/part-of": "plexus"},
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(port),
                    },
                },
                "spec": {
                    "securityContext": pod_security(),
                    "terminationGracePeriodSeconds": 30,
                    "containers": [
                        {
                            "name": name,
                            "image": IMAGE,
                            "args": [entrypoint],
                            "envFrom": env_from(),
                            "env": [
                                {"name": "PLEXUS_SERVICE", "value": service},
                                broker_uri(f"PLEXUS_{service.upper()}_AMQP_URI"),
                                *env,
                            ],
                            "ports": ports,
                            "securityContext": container_security(),
                            "resources": resources("100m", "192Mi", "1", "512Mi"),
                            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}, *mounts],
                            **probes(service),
                        }
                    ],
                    "volumes": [{"name": "tmp", "emptyDir": {}}, *volumes],
                },
            },
        },
    }
    service_ports = [{"name": "metrics", "port": port, "targetPort": "metrics"}]
    if service == "gateway":
        service_ports.insert(0, {"name": "http", "port": 80, "targetPort": "http"})
    objects = [
        deployment,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": metadata(name),
            "spec": {"selector": {LABEL: name}, "ports": service_ports},
        },
    ]
    if is_sender(service):
        # Each channel scales on its own: a busy channel gets more sender pods.
        objects.append(
            {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": metadata(name),
                "spec": {
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                    "minReplicas": 1,
                    "maxReplicas": 10,
                    "metrics": [
                        {
                            "type": "Resource",
                            "resource": {
                                "name": "cpu",
                                "target": {"type": "Utilization", "averageUtilization": 70},
                            },
                        }
                    ],
                },
            }
        )
    return objects


def manifests() -> list[dict]:
    config = load_config()
    objects = shared_objects()
    for service, entrypoint in SERVICES.items():
        objects += service_objects(service, entrypoint, metrics_port(config, service))
    return objects


def render() -> str:
    header = (
        "# Generated by deploy/k8s/generate.py from plexus/suite.py and config.yaml.\n"
        "# Needs the Secret plexus-amqp, one broker user a service: made from the\n"
        "# output of scripts/rabbitmq-users.sh (docs/operations.md, Broker users).\n"
    )
    return header + yaml.safe_dump_all(manifests(), sort_keys=False)


if __name__ == "__main__":
    OUTPUT.write_text(render())
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
