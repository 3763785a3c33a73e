"""KEDA's objects checked as the Kubernetes API server checks a custom resource, strictly:
against the JSON schema of cloudcoil's models of KEDA's CRDs (generated from KEDA's
openAPIV3Schema), with every object closed to fields it does not name, as
`kubernetes-validate --strict` closes the built-in kinds (a misspelt or HPA-style field,
`minReplicas` for `minReplicaCount`, is an error, not silently dropped)."""

from __future__ import annotations

from functools import cache

import jsonschema
from cloudcoil.models.keda import v1alpha1

KINDS = {
    "ScaledObject": v1alpha1.ScaledObject,
    "TriggerAuthentication": v1alpha1.TriggerAuthentication,
}


def closed(schema):
    """The schema with additionalProperties false wherever it lists properties and says
    nothing of others (a map, such as a trigger's metadata, keeps its own rule)."""
    if isinstance(schema, dict):
        schema = {key: closed(value) for key, value in schema.items()}
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
    elif isinstance(schema, list):
        schema = [closed(value) for value in schema]
    return schema


@cache
def validator(kind: str) -> jsonschema.Draft202012Validator:
    schema = closed(KINDS[kind].model_json_schema(by_alias=True, mode="validation"))
    return jsonschema.Draft202012Validator(schema)


def errors(item: dict) -> list[str]:
    """What is wrong with one KEDA object, each error with where it is; none if valid."""
    found = validator(item["kind"]).iter_errors(item)
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in found]
