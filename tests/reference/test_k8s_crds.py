"""The custom resources of deploy/k8s (RabbitMQ Cluster Operator, CloudNativePG, KEDA, Prometheus
Operator) validated against the operators' own schemas in ``$DROPSHIP_REFERENCE_DIR/k8s/crd-schemas/``.
The built-in kinds are validated in the unit tier (tests/unit/test_k8s_manifests.py), which renders
the overlays the same way for both."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stub package for jsonschema is pinned
import pytest

from tests.reference.support import REFERENCE_ENV
from tests.unit.test_k8s_manifests import K8S, Doc, is_built_in, render

pytestmark = pytest.mark.reference

SCHEMAS = {
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"): "rabbitmq.com/rabbitmqcluster_v1beta1.json",
    ("postgresql.cnpg.io/v1", "Cluster"): "postgresql.cnpg.io/cluster_v1.json",
    ("keda.sh/v1alpha1", "ScaledObject"): "keda.sh/scaledobject_v1alpha1.json",
    ("keda.sh/v1alpha1", "TriggerAuthentication"): "keda.sh/triggerauthentication_v1alpha1.json",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "monitoring.coreos.com/servicemonitor_v1.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "monitoring.coreos.com/prometheusrule_v1.json",
}
FOLDERS = {"base": K8S / "base", "small": K8S / "overlays" / "small", "large": K8S / "overlays" / "large"}


@pytest.fixture(scope="module")
def crd_schemas() -> dict[tuple[str, str], Any]:
    """The schemas of every custom resource deploy/k8s uses (the test fails at once if one is missing)."""
    value = os.environ.get(REFERENCE_ENV)
    if not value:
        pytest.fail(f"the reference tier needs {REFERENCE_ENV}; tests/conftest.py should have deselected it")
    folder = Path(value) / "k8s" / "crd-schemas"
    missing = [name for name in SCHEMAS.values() if not (folder / name).is_file()]
    if missing:
        pytest.fail(
            f"{REFERENCE_ENV}={value} lacks {', '.join(f'k8s/crd-schemas/{m}' for m in missing)}", pytrace=False
        )
    return {key: json.loads((folder / name).read_text()) for key, name in SCHEMAS.items()}


def _errors(schema: Any, doc: Doc) -> list[str]:
    validator = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)(schema)
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(doc)]


def _custom(docs: list[Doc]) -> list[Doc]:
    return [d for d in docs if not is_built_in(d)]


@pytest.mark.parametrize("folder", FOLDERS.values(), ids=FOLDERS.keys())
def test_custom_resources_validate_against_the_operators_schemas(
    folder: Path, crd_schemas: dict[tuple[str, str], Any]
) -> None:
    custom = _custom(render(folder))
    kinds = {(d["apiVersion"], d["kind"]) for d in custom}
    assert kinds == set(SCHEMAS), f"custom resources without a schema here: {kinds - set(SCHEMAS)}"
    for doc in custom:
        errors = _errors(crd_schemas[(doc["apiVersion"], doc["kind"])], doc)
        assert not errors, f"{doc['kind']}/{doc['metadata']['name']}:\n" + "\n".join(errors)


def test_the_schemas_refuse_what_the_operators_would(crd_schemas: dict[tuple[str, str], Any]) -> None:
    """The check has teeth: a misspelt field, a missing required one and a wrong type are each refused."""
    docs = render(FOLDERS["small"])
    rabbitmq = next(d for d in docs if d["kind"] == "RabbitmqCluster")
    misspelt = copy.deepcopy(rabbitmq)
    misspelt["spec"]["replica"] = 3
    assert _errors(crd_schemas[("rabbitmq.com/v1beta1", "RabbitmqCluster")], misspelt)
    scaler = next(d for d in docs if d["kind"] == "ScaledObject")
    without_target = copy.deepcopy(scaler)
    del without_target["spec"]["scaleTargetRef"]
    assert _errors(crd_schemas[("keda.sh/v1alpha1", "ScaledObject")], without_target)
    cluster = next(d for d in docs if d["kind"] == "Cluster")
    wrong_type = copy.deepcopy(cluster)
    wrong_type["spec"]["instances"] = "three"
    assert _errors(crd_schemas[("postgresql.cnpg.io/v1", "Cluster")], wrong_type)
