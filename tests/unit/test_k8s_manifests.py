"""The Kubernetes manifests (deploy/k8s) checked offline: each overlay rendered as kustomize renders it,
the built-in kinds validated against Kubernetes 1.30's schemas, and the rules the project relies on
checked against the code itself: probes on the routes and ports the services serve, the image's
entrypoint, settings that exist, secrets only referenced, KEDA triggers on queues of the topology,
network policies that let exactly the calls the code makes through, and database connections that fit.

The renderer here is a small kustomize: resources, configMapGenerator (no name hash), patches (strategic
merge for built-in kinds, JSON merge for custom resources), images and namespace. Where ``kubectl`` or
``kustomize`` is installed, the real one renders the overlays too and must agree.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, get_args

import kubernetes_validate  # type: ignore[import-untyped]  # kubernetes-validate ships no type information
import pytest
import yaml
from prometheus_client import CollectorRegistry

from shared.messaging.subscriptions import SERVICE_QUEUES, service_queues
from shared.messaging.topology import Topology
from shared.settings import ServiceName, Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("small", "large")
SERVICES: tuple[ServiceName, ...] = get_args(ServiceName)
KUBERNETES_VERSION = "1.30"
Doc = dict[str, Any]

# ---------------------------------------------------------------------------------------------------
# A small kustomize


def _load_docs(path: Path) -> list[Doc]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def is_built_in(doc: Doc) -> bool:
    group = doc["apiVersion"].rpartition("/")[0]
    return "." not in group or group.endswith(".k8s.io")


def json_merge(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge, ``null`` removes, anything else (lists too) replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = json_merge(merged.get(key), value)
    return merged


def strategic_merge(target: Any, patch: Any) -> Any:
    """Kubernetes' strategic merge for what the overlays use: objects merge, lists of named objects
    (containers, env, volumes) merge by ``name``, other lists replace."""
    if isinstance(patch, dict) and isinstance(target, dict):
        merged = dict(target)
        for key, value in patch.items():
            merged[key] = strategic_merge(target.get(key), value) if key in target else copy.deepcopy(value)
        return merged
    if isinstance(patch, list) and isinstance(target, list) and all(_named(item) for item in [*patch, *target]):
        merged_list = [copy.deepcopy(item) for item in target]
        for item in patch:
            index = next((i for i, old in enumerate(merged_list) if old["name"] == item["name"]), None)
            if index is None:
                merged_list.append(copy.deepcopy(item))
            else:
                merged_list[index] = strategic_merge(merged_list[index], item)
        return merged_list
    return copy.deepcopy(patch)


def _named(item: Any) -> bool:
    return isinstance(item, dict) and "name" in item


CLUSTER_SCOPED = {"Namespace"}


def render(folder: Path) -> list[Doc]:
    """The documents ``kustomize build folder`` gives, for the features deploy/k8s uses."""
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    known = {"apiVersion", "kind", "namespace", "resources", "configMapGenerator", "generatorOptions", "patches"}
    known |= {"images"}
    assert set(kustomization) <= known, f"{folder}: the renderer does not know {set(kustomization) - known}"
    docs: list[Doc] = []
    for entry in kustomization.get("resources", []):
        path = (folder / entry).resolve()
        docs += render(path) if path.is_dir() else _load_docs(path)
    generated = kustomization.get("configMapGenerator", [])
    if generated:
        # Without the name hash the names stay as written, which is what this renderer can give.
        assert kustomization.get("generatorOptions", {}).get("disableNameSuffixHash") is True
    for generator in generated:
        data = {Path(name).name: (folder / name).read_text() for name in generator.get("files", [])}
        for literal in generator.get("literals", []):
            key, _, value = literal.partition("=")
            data[key] = value
        docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": generator["name"]}, "data": data})
    for entry in kustomization.get("patches", []):
        for patch in _load_docs(folder / entry["path"]):
            matches = [
                d for d in docs if (d["kind"], d["metadata"]["name"]) == (patch["kind"], patch["metadata"]["name"])
            ]
            assert len(matches) == 1, f"patch {patch['kind']}/{patch['metadata']['name']} matches {len(matches)}"
            merge = strategic_merge if is_built_in(patch) else json_merge
            docs[docs.index(matches[0])] = merge(matches[0], patch)
    for image in kustomization.get("images", []):
        for container in (c for doc in docs for c in pod_containers(doc, init=True)):
            if container["image"].split(":")[0] == image["name"]:
                container["image"] = f"{image.get('newName', image['name'])}:{image.get('newTag', 'latest')}"
    if "namespace" in kustomization:
        for doc in docs:
            if doc["kind"] not in CLUSTER_SCOPED:
                doc["metadata"]["namespace"] = kustomization["namespace"]
    return docs


def pod_spec(doc: Doc) -> Doc | None:
    if doc["kind"] in ("Deployment", "Job"):
        spec: Doc = doc["spec"]["template"]["spec"]
        return spec
    return None


def pod_containers(doc: Doc, *, init: bool = False) -> list[Doc]:
    spec = pod_spec(doc)
    if spec is None:
        return []
    return [*spec["containers"], *(spec.get("initContainers", []) if init else [])]


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture(scope="module")
def docs(overlay: str) -> list[Doc]:
    return render(K8S / "overlays" / overlay)


def find(docs: list[Doc], kind: str, name: str) -> Doc:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def of_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


def config(docs: list[Doc]) -> dict[str, str]:
    data: dict[str, str] = find(docs, "ConfigMap", "dropship-config")["data"]
    return data


# ---------------------------------------------------------------------------------------------------
# Rendering and schemas


def test_renderer_merges_as_kustomize_does(tmp_path: Path) -> None:
    base, over = tmp_path / "base", tmp_path / "over"
    base.mkdir()
    over.mkdir()
    (base / "kustomization.yaml").write_text("namespace: ns\nresources: [r.yaml]\n")
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "a", "image": "img", "env": [{"name": "X", "value": "1"}], "args": ["one", "two"]},
                        {"name": "b", "image": "other:1"},
                    ]
                }
            }
        },
    }
    custom = {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": "d"},
        "spec": {"triggers": [{"name": "t1", "type": "cpu"}, {"name": "t2", "type": "cpu"}], "min": 1},
    }
    (base / "r.yaml").write_text(yaml.safe_dump_all([deployment, custom]))
    (over / "kustomization.yaml").write_text(
        "resources: [../base]\npatches: [{path: p.yaml}]\nimages: [{name: img, newName: reg/img, newTag: '2'}]\n"
    )
    patches = [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "d"},
            "spec": {
                "template": {
                    "spec": {"containers": [{"name": "a", "env": [{"name": "Y", "value": "2"}], "args": ["three"]}]}
                }
            },
        },
        {
            "apiVersion": "keda.sh/v1alpha1",
            "kind": "ScaledObject",
            "metadata": {"name": "d"},
            "spec": {"triggers": [{"name": "t2", "type": "cpu"}], "min": None},
        },
    ]
    (over / "p.yaml").write_text(yaml.safe_dump_all(patches))
    rendered = render(over)
    containers = find(rendered, "Deployment", "d")["spec"]["template"]["spec"]["containers"]
    assert containers[0]["env"] == [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]
    assert containers[0]["args"] == ["three"]  # a list of strings replaces
    assert [c["image"] for c in containers] == ["reg/img:2", "other:1"]
    assert find(rendered, "ScaledObject", "d")["spec"] == {"triggers": [{"name": "t2", "type": "cpu"}]}
    assert {d["metadata"]["namespace"] for d in rendered} == {"ns"}


def _keyed(docs: list[Doc]) -> dict[tuple[str, str, str], Doc]:
    return {(d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"]): d for d in docs}


def test_overlays_render_as_the_real_kustomize_does(overlay: str, docs: list[Doc]) -> None:
    """With ``kustomize`` or ``kubectl`` on the machine, their rendering must equal ours; without either,
    this checks only that ours renders every kind the overlay is made of."""
    assert {d["kind"] for d in docs} >= {"Deployment", "Service", "Job", "NetworkPolicy", "ScaledObject"}
    if tool := shutil.which("kustomize"):
        command = [tool, "build"]
    elif tool := shutil.which("kubectl"):
        command = [tool, "kustomize"]
    else:
        return
    output = subprocess.run([*command, str(K8S / "overlays" / overlay)], capture_output=True, text=True, check=True)
    theirs = _keyed([d for d in yaml.safe_load_all(output.stdout) if d])
    ours = _keyed(docs)
    assert sorted(theirs) == sorted(ours)
    for key, doc in ours.items():
        assert doc == theirs[key], f"{key} renders differently"


def test_built_in_kinds_validate_against_the_kubernetes_schemas(docs: list[Doc]) -> None:
    built_in = [d for d in docs if is_built_in(d)]
    assert len(built_in) > 30
    for doc in built_in:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


# ---------------------------------------------------------------------------------------------------
# Each service: Deployment, Service, PodDisruptionBudget, probes, image and command


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def pod_labels(doc: Doc) -> dict[str, str]:
    labels: dict[str, str] = doc["spec"]["template"]["metadata"]["labels"]
    return labels


def default_port(service: ServiceName) -> int:
    port: int = Settings.model_fields[f"{service}_port"].default
    return port


def test_every_service_has_a_deployment_service_budget_and_policy(docs: list[Doc]) -> None:
    policies = of_kind(docs, "NetworkPolicy")
    for service in SERVICES:
        deployment = find(docs, "Deployment", service)
        labels = pod_labels(deployment)
        assert _selects(deployment["spec"]["selector"]["matchLabels"], labels)
        assert _selects(find(docs, "Service", service)["spec"]["selector"], labels)
        budget = find(docs, "PodDisruptionBudget", service)
        assert _selects(budget["spec"]["selector"]["matchLabels"], labels)
        # A drain may always take one pod: a budget of minAvailable 1 on one replica would block it.
        assert budget["spec"].get("maxUnavailable", 0) >= 1
        own = [p for p in policies if p["metadata"]["name"] == service]
        assert own and _selects(own[0]["spec"]["podSelector"]["matchLabels"], labels)
    job = find(docs, "Job", "migrate")
    assert any(_selects(p["spec"]["podSelector"].get("matchLabels", {}), pod_labels(job)) for p in policies)


def _named_port(container: Doc, port: int | str) -> int:
    if isinstance(port, int):
        return port
    numbers = [p["containerPort"] for p in container["ports"] if p["name"] == port]
    assert len(numbers) == 1, f"no container port named {port}"
    number: int = numbers[0]
    return number


def test_probes_hit_the_health_routes_on_the_port_the_service_listens_on(docs: list[Doc]) -> None:
    runtime_source = (ROOT / "shared" / "service.py").read_text()
    for route in ("/healthz", "/readyz"):
        assert f'web.get("{route}"' in runtime_source
    for service in SERVICES:
        container = pod_containers(find(docs, "Deployment", service))[0]
        assert container["name"] == service
        port = default_port(service)
        assert [p["containerPort"] for p in container["ports"]] == [port]
        expected = {"readinessProbe": "/readyz", "livenessProbe": "/healthz", "startupProbe": "/healthz"}
        for probe, path in expected.items():
            http = container[probe]["httpGet"]
            assert (http["path"], _named_port(container, http["port"])) == (path, port), f"{service} {probe}"
        (service_port,) = find(docs, "Service", service)["spec"]["ports"]
        assert service_port["port"] == port
        assert _named_port(container, service_port["targetPort"]) == port
        assert config(docs)[f"DROPSHIP_{service.upper()}_URL"] == f"http://{service}:{port}"


def dockerfile_entrypoint() -> list[str]:
    text = (ROOT / "deploy" / "Dockerfile").read_text()
    match = re.search(r"^ENTRYPOINT\s+(\[.*\])\s*$", text, re.MULTILINE)
    assert match, "the Dockerfile has an exec-form ENTRYPOINT"
    entrypoint: list[str] = json.loads(match.group(1))
    return entrypoint


def test_containers_run_the_images_entrypoint_with_a_module_that_exists(docs: list[Doc]) -> None:
    assert dockerfile_entrypoint() == ["python", "-m"]
    image = {c["image"] for d in docs for c in pod_containers(d, init=True)}
    assert len(image) == 1, f"one image for every process, found {image}"
    for service in SERVICES:
        (container,) = pod_containers(find(docs, "Deployment", service))
        assert "command" not in container  # the ENTRYPOINT stays: python -m
        assert container["args"] == [f"services.{service}"]
        assert (ROOT / "services" / service / "__main__.py").is_file()
    (migrate,) = pod_containers(find(docs, "Job", "migrate"))
    assert "command" not in migrate
    assert migrate["args"] == ["shared.runner", "prepare"]
    assert 'choices=["prepare", "up"]' in (ROOT / "shared" / "runner.py").read_text()


def _wait_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("wait_for_migrations", K8S / "base" / "wait_for_migrations.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_deployment_first_waits_for_its_own_migrations(docs: list[Doc]) -> None:
    script = _wait_script()
    generated = find(docs, "ConfigMap", "dropship-wait-for-migrations")["data"]
    assert generated["wait_for_migrations.py"] == (K8S / "base" / "wait_for_migrations.py").read_text()
    for service in SERVICES:
        spec = pod_spec(find(docs, "Deployment", service))
        assert spec is not None
        (init,) = spec["initContainers"]
        assert init["command"] == ["python"]
        script_path, name = init["args"]
        (mount,) = init["volumeMounts"]
        assert script_path == f"{mount['mountPath']}/wait_for_migrations.py"
        volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
        assert volume["configMap"]["name"] == "dropship-wait-for-migrations"
        assert name == service
        assert script.service_dir(name) == ROOT / "services" / service
    with pytest.raises(SystemExit):
        script.service_dir("nosuch")


# ---------------------------------------------------------------------------------------------------
# Settings and secrets


def settings_fields(service: str | None) -> set[str]:
    """``DROPSHIP_*`` names a process reads: the shared settings, and the service's own where it has any."""
    classes: list[type[Settings]] = [Settings]
    module_path = ROOT / "services" / str(service) / "settings.py"
    if service is not None and module_path.is_file():
        module = importlib.import_module(f"services.{service}.settings")
        classes += [
            value
            for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, Settings) and value is not Settings
        ]
    return {f"DROPSHIP_{name.upper()}" for cls in classes for name in cls.model_fields}


def container_env(docs: list[Doc], container: Doc) -> Iterator[tuple[str, Doc | None]]:
    """Every variable a container gets: (name, its env entry, or None when it comes from a ConfigMap)."""
    for source in container.get("envFrom", []):
        assert set(source) == {"configMapRef"}, "secrets come one by one through secretKeyRef, never envFrom"
        for key in find(docs, "ConfigMap", source["configMapRef"]["name"])["data"]:
            yield key, None
    for entry in container.get("env", []):
        yield entry["name"], entry


def processes(docs: list[Doc]) -> Iterator[tuple[str | None, Doc]]:
    """(service, container) for every container: the service's own settings apply to its main one."""
    for service in SERVICES:
        spec = pod_spec(find(docs, "Deployment", service))
        assert spec is not None
        yield service, spec["containers"][0]
        for init in spec.get("initContainers", []):
            yield None, init
    for container in pod_containers(find(docs, "Job", "migrate")):
        yield None, container


def test_every_variable_set_is_a_setting_of_that_process(docs: list[Doc]) -> None:
    for service, container in processes(docs):
        allowed = settings_fields(service)
        names = [name for name, _ in container_env(docs, container)]
        unknown = sorted(set(names) - allowed)
        assert not unknown, f"{container['name']} is given {unknown}, which its settings do not read"
    assert "DROPSHIP_SMTP_URL" in settings_fields("gateway")
    assert "DROPSHIP_SMTP_URL" not in settings_fields("intake")


SECRET_VARIABLES = {"DROPSHIP_AMQP_URL", "DROPSHIP_DATABASE_URL", "DROPSHIP_ADMIN_TOKEN", "DROPSHIP_SECRET_KEY"}
OPERATOR_SECRETS = {"postgres-app"}
"""Secrets the operators make: CloudNativePG's ``<cluster>-app`` (the ``uri`` of the database owner)."""
CREDENTIALS_IN_URL = re.compile(r"://[^/@\s]+:[^/@\s]+@")


def documented_secrets() -> set[str]:
    """The Secrets deploy/k8s/README.md tells the installer to create (its "Secrets" table)."""
    readme = (K8S / "README.md").read_text()
    section = readme.split("## Secrets", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z0-9-]+)` \|", section, re.MULTILINE))


def test_secrets_are_referenced_never_written_down(docs: list[Doc]) -> None:
    known = documented_secrets() | OPERATOR_SECRETS
    assert {"dropship-secrets", "dropship-amqp"} <= known
    for doc in of_kind(docs, "Secret"):
        assert not doc.get("data") and not doc.get("stringData"), f"Secret {doc['metadata']['name']} has values"
    for map_ in of_kind(docs, "ConfigMap"):
        for key, value in map_.get("data", {}).items():
            assert key not in SECRET_VARIABLES and not CREDENTIALS_IN_URL.search(value), f"{key} in a ConfigMap"
    referenced = set()
    for service, container in processes(docs):
        for name, entry in container_env(docs, container):
            if entry is None:
                continue
            assert not CREDENTIALS_IN_URL.search(str(entry.get("value", "")))
            ref = entry.get("valueFrom", {}).get("secretKeyRef")
            if name in SECRET_VARIABLES:
                assert ref is not None, f"{name} of {container['name']} is not from a Secret"
            if ref is not None:
                referenced.add(ref["name"])
        if service is not None:
            given = {name for name, _ in container_env(docs, container)}
            assert given >= SECRET_VARIABLES, f"{service} lacks {SECRET_VARIABLES - given}"
    for auth in of_kind(docs, "TriggerAuthentication"):
        referenced |= {ref["name"] for ref in auth["spec"]["secretTargetRef"]}
    assert referenced <= known, f"Secrets nobody creates: {referenced - known}"
    cluster = find(docs, "Cluster", "postgres")
    assert f"{cluster['metadata']['name']}-app" in OPERATOR_SECRETS
    assert cluster["spec"]["bootstrap"]["initdb"]["database"] == "dropship"


# ---------------------------------------------------------------------------------------------------
# KEDA


def test_keda_scales_each_consumer_on_the_queues_the_topology_names(docs: list[Doc]) -> None:
    topology = Topology(config(docs).get("DROPSHIP_NAMESPACE", ""))
    auths = {a["metadata"]["name"] for a in of_kind(docs, "TriggerAuthentication")}
    scaled = {s["spec"]["scaleTargetRef"]["name"]: s for s in of_kind(docs, "ScaledObject")}
    consumers = {spec.consumer for spec in SERVICE_QUEUES}
    assert set(scaled) == consumers | {"gateway"}
    for service, scaler in scaled.items():
        deployment = find(docs, "Deployment", service)
        # The autoscaler owns the count; a fixed one in the Deployment would be set back on each apply.
        assert "replicas" not in deployment["spec"]
        # The relay and scheduled work of each service run in its instances: never scaled to zero.
        assert scaler["spec"]["minReplicaCount"] >= 1
        assert scaler["spec"]["maxReplicaCount"] >= scaler["spec"]["minReplicaCount"]
        queues = {topology.queue(spec) for spec in service_queues(service)}
        triggered = set()
        for trigger in scaler["spec"]["triggers"]:
            if trigger["type"] != "rabbitmq":
                continue
            meta = trigger["metadata"]
            assert (meta["protocol"], meta["mode"]) == ("amqp", "QueueLength")
            assert meta["queueName"] in queues, f"{service} scales on {meta['queueName']}, not a queue it consumes"
            assert int(meta["value"]) > 0
            assert trigger["authenticationRef"]["name"] in auths
            triggered.add(meta["queueName"])
        assert triggered == queues, f"{service}: every queue it consumes scales it"
    for fixed in set(SERVICES) - set(scaled):
        assert find(docs, "Deployment", fixed)["spec"]["replicas"] >= 1


def test_the_gateway_scales_on_a_gauge_it_exports(docs: list[Doc]) -> None:
    from services.gateway.metrics import GatewayMetrics

    registry = CollectorRegistry()
    GatewayMetrics(registry)
    exported = {metric.name for metric in registry.collect()}
    (trigger,) = find(docs, "ScaledObject", "gateway")["spec"]["triggers"]
    assert trigger["type"] == "prometheus"
    metric = re.match(r"max\((\w+)\{", trigger["metadata"]["query"])
    assert metric and metric.group(1) == "gateway_oldest_undelivered_age_seconds"
    assert metric.group(1) in exported
    # The query selects the job the ServiceMonitor gives the gateway (its app.kubernetes.io/name).
    monitor = find(docs, "ServiceMonitor", "dropship-router")
    job = find(docs, "Service", "gateway")["metadata"]["labels"][monitor["spec"]["jobLabel"]]
    assert f'job="{job}"' in trigger["metadata"]["query"]


# ---------------------------------------------------------------------------------------------------
# Network policies


@dataclass(frozen=True)
class Peer:
    """One end of a connection: a pod (namespace and labels, and its container ports by name) or an
    address outside the cluster (``ip``)."""

    namespace: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    ports: tuple[tuple[str, int], ...] = ()
    ip: str = ""

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)


@dataclass
class Policies:
    docs: list[Doc]
    namespace: str = "dropship"

    def _selecting(self, pod: Peer, direction: str) -> list[Doc]:
        return [
            p
            for p in self.docs
            if pod.namespace == self.namespace
            and direction in p["spec"]["policyTypes"]
            and _selects(_match(p["spec"]["podSelector"]), pod.label_map)
        ]

    def _peer_matches(self, rule_peer: Doc, other: Peer) -> bool:
        if "ipBlock" in rule_peer:
            block = rule_peer["ipBlock"]
            return (
                bool(other.ip)
                and _in_cidr(other.ip, block["cidr"])
                and not any(_in_cidr(other.ip, excluded) for excluded in block.get("except", []))
            )
        if other.ip:
            return False
        if "namespaceSelector" in rule_peer:
            namespace_labels = {"kubernetes.io/metadata.name": other.namespace}
            if not _selects(_match(rule_peer["namespaceSelector"]), namespace_labels):
                return False
        elif other.namespace != self.namespace:
            return False
        return _selects(_match(rule_peer.get("podSelector", {})), other.label_map)

    def _rule_allows(self, rule: Doc, peers_key: str, other: Peer, port: int, target: Peer) -> bool:
        peers = rule.get(peers_key)
        if peers is not None and not any(self._peer_matches(peer, other) for peer in peers):
            return False
        ports = rule.get("ports")
        if ports is None:
            return True
        names = dict(target.ports)
        return any(p["port"] == port or names.get(str(p["port"])) == port for p in ports)

    def allowed(self, source: Peer, target: Peer, port: int) -> bool:
        egress = self._selecting(source, "Egress")
        if egress and not any(
            self._rule_allows(rule, "to", target, port, target) for p in egress for rule in p["spec"].get("egress", [])
        ):
            return False
        ingress = self._selecting(target, "Ingress")
        return not ingress or any(
            self._rule_allows(rule, "from", source, port, target)
            for p in ingress
            for rule in p["spec"].get("ingress", [])
        )


def _match(selector: Doc) -> dict[str, str]:
    assert set(selector) <= {"matchLabels"}, "the evaluator reads matchLabels only"
    labels: dict[str, str] = selector.get("matchLabels", {})
    return labels


def _in_cidr(ip: str, cidr: str) -> bool:
    import ipaddress

    return ipaddress.ip_address(ip) in ipaddress.ip_network(cidr)


def service_pod(docs: list[Doc], name: str) -> Peer:
    doc = find(docs, "Deployment", name)
    ports = tuple((p["name"], p["containerPort"]) for p in pod_containers(doc)[0]["ports"])
    return Peer("dropship", tuple(pod_labels(doc).items()), ports)


def calls_in_code() -> dict[str, set[str]]:
    """Which services each service calls over HTTP, read from its code (``service_url("<name>")``); the
    console calls every other one (``service_url(name) for name in others``)."""
    calls: dict[str, set[str]] = {}
    for service in SERVICES:
        found: set[str] = set()
        for path in (ROOT / "services" / service).rglob("*.py"):
            found |= set(re.findall(r"service_url\(\"(\w+)\"\)", path.read_text()))
        calls[service] = found - {service}
    assert "service_url(name) for name in others" in (ROOT / "services" / "console" / "app.py").read_text()
    calls["console"] = {str(service) for service in SERVICES} - {"console"}
    return calls


RABBITMQ = Peer("dropship", (("app.kubernetes.io/name", "rabbitmq"),))
POSTGRES = Peer("dropship", (("cnpg.io/cluster", "postgres"),))
DNS = Peer("kube-system", (("k8s-app", "kube-dns"),))
PROMETHEUS = Peer("monitoring", (("app.kubernetes.io/name", "prometheus"),))
KEDA = Peer("keda", (("app", "keda-operator"),))
INTERNET = Peer(ip="203.0.113.7")
PRIVATE_NETWORK = Peer(ip="10.20.30.40")
OTHER_NAMESPACE = Peer("shop", (("app", "web"),))
PUBLIC = {"intake", "shipstation", "gateway", "channels", "console"}
"""Reached from outside: channels' API, ShipStation's polls, the vendor API, platform webhooks, people."""
REACHES_OUTSIDE = {"intake", "gateway", "channels"}
"""Call the outside: channel webhooks, vendors' servers, the platforms' APIs."""


def test_network_policies_let_through_exactly_the_calls_the_code_makes(docs: list[Doc]) -> None:
    policies = Policies(of_kind(docs, "NetworkPolicy"))
    calls = calls_in_code()
    assert calls["channels"] == {"intake"} and calls["gateway"] == {"splitter"}
    for source in SERVICES:
        client = service_pod(docs, source)
        for target in SERVICES:
            if target == source:
                continue
            allowed = policies.allowed(client, service_pod(docs, target), default_port(target))
            assert allowed == (target in calls[source]), f"{source} → {target}: {'allowed' if allowed else 'denied'}"
        for infrastructure, port in ((RABBITMQ, 5672), (POSTGRES, 5432)):
            assert policies.allowed(client, infrastructure, port), f"{source} cannot reach port {port}"
        assert not policies.allowed(client, RABBITMQ, 15672), "the management API is nobody's business here"
        assert policies.allowed(client, DNS, 53)
        assert policies.allowed(client, INTERNET, 443) == (source in REACHES_OUTSIDE)
        assert not policies.allowed(client, PRIVATE_NETWORK, 443)
        server = service_pod(docs, source)
        port = default_port(source)
        assert policies.allowed(INTERNET, server, port) == (source in PUBLIC)
        assert policies.allowed(OTHER_NAMESPACE, server, port) == (source in PUBLIC)
        assert policies.allowed(PROMETHEUS, server, port), f"Prometheus cannot scrape {source}"
        assert not policies.allowed(PROMETHEUS, server, port + 1000)
    migrate = Peer("dropship", tuple(pod_labels(find(docs, "Job", "migrate")).items()))
    assert policies.allowed(migrate, POSTGRES, 5432) and policies.allowed(migrate, RABBITMQ, 5672)
    assert not policies.allowed(migrate, service_pod(docs, "intake"), 8001)
    assert policies.allowed(KEDA, RABBITMQ, 5672), "KEDA reads queue lengths over AMQP"
    assert not policies.allowed(OTHER_NAMESPACE, RABBITMQ, 5672)
    assert not policies.allowed(OTHER_NAMESPACE, POSTGRES, 5432)


# ---------------------------------------------------------------------------------------------------
# Data services, capacity and monitoring


def test_rabbitmq_and_postgresql_are_replicated(docs: list[Doc]) -> None:
    rabbitmq = find(docs, "RabbitmqCluster", "rabbitmq")["spec"]
    assert rabbitmq["replicas"] == 3
    assert "cluster_partition_handling = pause_minority" in rabbitmq["rabbitmq"]["additionalConfig"]
    assert "rabbitmq_prometheus" in rabbitmq["rabbitmq"]["additionalPlugins"]
    postgres = find(docs, "Cluster", "postgres")["spec"]
    assert postgres["instances"] == 3
    assert postgres["postgresql"]["synchronous"]["number"] >= 1


LISTENERS = {"intake": 2, "splitter": 3, "shipstation": 1, "tracking": 1, "gateway": 2, "channels": 2, "console": 1}
"""Connections an instance holds beside its pool: one LISTEN connection per relay loop
(shared/messaging/relay.py): the outbox relay of each, and intake's webhook deliverer, the splitter's
two scheduled rounds, the gateway's deliverer and the channels worker."""
RESERVED_CONNECTIONS = 3 + 10
"""PostgreSQL's superuser_reserved_connections, and room for the operator, the exporter and a person."""
PREPARE_CONNECTIONS = 2


def test_listener_counts_follow_the_code() -> None:
    with_loops = {
        service
        for service in SERVICES
        if any("RelayLoop(" in path.read_text() for path in (ROOT / "services" / service).rglob("*.py"))
    }
    assert with_loops == {service for service, count in LISTENERS.items() if count > 1}
    assert (ROOT / "services" / "splitter" / "app.py").read_text().count("    _schedule(runtime,") == 2


def test_database_connections_fit_at_the_most_instances(docs: list[Doc]) -> None:
    pool = int(config(docs)["DROPSHIP_DB_POOL_SIZE"])
    scaled = {s["spec"]["scaleTargetRef"]["name"]: s["spec"]["maxReplicaCount"] for s in of_kind(docs, "ScaledObject")}
    total = PREPARE_CONNECTIONS
    for service in SERVICES:
        deployment = find(docs, "Deployment", service)
        surge = deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
        instances = scaled.get(service, deployment["spec"].get("replicas", 1)) + surge
        total += instances * (pool + LISTENERS[service])
    limit = int(find(docs, "Cluster", "postgres")["spec"]["postgresql"]["parameters"]["max_connections"])
    assert total <= limit - RESERVED_CONNECTIONS, f"{total} connections at most, max_connections {limit}"


def _memory_mib(quantity: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(Mi|Gi)", quantity).groups()  # type: ignore[union-attr]
    return int(number) * (1024 if unit == "Gi" else 1)


def measured_idle_rss() -> dict[str, float]:
    """The idle resident memory docs/scaling.md gives per service (its "Memory" table)."""
    text = (ROOT / "docs" / "scaling.md").read_text()
    rows = re.findall(r"^\| (\w+) \| ([\d.]+) MiB \|", text, re.MULTILINE)
    return {name: float(mib) for name, mib in rows}


def test_memory_requests_cover_the_measured_idle_memory(overlay: str, docs: list[Doc]) -> None:
    measured = measured_idle_rss()
    assert set(measured) == set(SERVICES)
    for service in SERVICES:
        resources = pod_containers(find(docs, "Deployment", service))[0]["resources"]
        request, limit = _memory_mib(resources["requests"]["memory"]), _memory_mib(resources["limits"]["memory"])
        assert request >= measured[service] * 1.2, f"{service} ({overlay}): request below idle memory + 20 %"
        assert limit >= 2 * measured[service], f"{service} ({overlay}): limit leaves no room for load"


def test_overlays_are_sized_small_and_large() -> None:
    small, large = render(K8S / "overlays" / "small"), render(K8S / "overlays" / "large")
    for scaler in of_kind(small, "ScaledObject"):
        name = scaler["metadata"]["name"]
        bigger = find(large, "ScaledObject", name)["spec"]
        assert scaler["spec"]["maxReplicaCount"] < bigger["maxReplicaCount"]
        assert bigger["minReplicaCount"] >= 2, "a large install keeps serving while one instance goes"
    for service in SERVICES:
        low, high = (pod_containers(find(d, "Deployment", service))[0]["resources"] for d in (small, large))
        assert _memory_mib(low["limits"]["memory"]) < _memory_mib(high["limits"]["memory"])
        replicas = find(large, "Deployment", service)["spec"].get("replicas")
        assert replicas is None or replicas >= 2
        assert find(small, "Deployment", service)["spec"].get("replicas", 1) == 1


def test_prometheus_rules_are_the_compose_setups_alerts(docs: list[Doc]) -> None:
    alerts = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    assert find(docs, "PrometheusRule", "dropship-router")["spec"]["groups"] == alerts["groups"]
    monitor = find(docs, "ServiceMonitor", "dropship-router")["spec"]
    for service in SERVICES:
        labels = find(docs, "Service", service)["metadata"]["labels"]
        assert _selects(monitor["selector"]["matchLabels"], labels)
    (endpoint,) = monitor["endpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")
    assert 'web.get("/metrics"' in (ROOT / "shared" / "service.py").read_text()
