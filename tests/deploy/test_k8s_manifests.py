"""deploy/k8s, checked offline: both overlays render (`kubectl kustomize`), the core objects
pass `kubernetes-validate --strict`, every custom resource validates against its operator's
CRD schema (../shared/crds, or CRDS_DIR) with unknown fields refused, and the rendered
objects keep the rules of a deployment: probes, limits, a locked-down securityContext, a
PodDisruptionBudget and a ScaledObject per service, no `latest` image. No cluster needed."""

import copy
import os
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import jsonschema
import pytest
import yaml

from deploy.k8s import generate
from shared import broker_access

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
SERVICES = ("registry", "loans", "jobs", "training", "followup")
RPC_HEAVY = ("registry", "jobs")
SHUTDOWN_GRACE_SECONDS = 30
BIN = Path(sys.executable).parent


def tool(name):
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if not found:
        pytest.fail(
            f"{name} is not installed: `make venv` installs the deploy extra "
            "(pyproject.toml [project.optional-dependencies] deploy)"
        )
    return found


def crds_dir():
    """The operators' CRDs: CRDS_DIR, else ../shared/crds beside the clone (as in CI)."""
    path = Path(os.environ.get("CRDS_DIR") or ROOT.parent / "shared" / "crds")
    if not path.is_dir():
        pytest.fail(
            f"no CRD directory at {path}: the custom resources cannot be validated. "
            "Set CRDS_DIR to the operators' CRD YAML (shared/crds)."
        )
    return path


@cache
def rendered(overlay):
    done = subprocess.run(
        [tool("kubectl"), "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"kubectl kustomize {overlay}: {done.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)


def of_kind(overlay, kind):
    return {doc["metadata"]["name"]: doc for doc in rendered(overlay) if doc["kind"] == kind}


def is_core(doc):
    group = doc["apiVersion"].rpartition("/")[0]
    return group in ("", "apps", "batch", "policy", "autoscaling") or group.endswith(".k8s.io")


def strict(schema):
    """The schema with `additionalProperties: false` wherever it lists properties and does
    not preserve unknown fields: the API server's strict field validation, near enough."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if (
                "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


@cache
def crd_schemas():
    """{(apiVersion, kind): strict openAPIV3Schema} for every CRD in the directory."""
    schemas = {}
    for path in sorted(crds_dir().glob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                schemas[(f"{group}/{version['name']}", kind)] = strict(
                    version["schema"]["openAPIV3Schema"]
                )
    return schemas


def custom_resource_errors(doc):
    schema = crd_schemas().get((doc["apiVersion"], doc["kind"]))
    if schema is None:
        return [f"no CRD in {crds_dir()} for {doc['apiVersion']} {doc['kind']}"]
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in jsonschema.Draft7Validator(schema).iter_errors(doc)
    ]


def container(deployment):
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, deployment["metadata"]["name"]
    return containers[0]


def env_of(container_spec):
    return {item["name"]: item for item in container_spec.get("env", ())}


# --- rendering and validation ---------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_every_service_and_both_operators_clusters(overlay):
    kinds = {(doc["kind"], doc["metadata"]["name"]) for doc in rendered(overlay)}
    for name in SERVICES:
        assert {
            ("Deployment", name),
            ("PodDisruptionBudget", name),
            ("ScaledObject", name),
        } <= kinds
    assert {
        ("RabbitmqCluster", "vs-rabbitmq"),
        ("Cluster", "vs-postgres"),
        ("Job", "vs-migrate"),
        ("Ingress", "jobs-http"),
        ("NetworkPolicy", "default-deny"),
    } <= kinds
    namespaces = {doc["metadata"].get("namespace") for doc in rendered(overlay)}
    assert namespaces == {"veteran-services" if overlay == "prod" else "veteran-services-dev"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_core_objects_pass_kubernetes_validate_strict(overlay, tmp_path):
    core = [doc for doc in rendered(overlay) if is_core(doc)]
    assert {doc["kind"] for doc in core} >= {
        "Deployment",
        "Job",
        "PodDisruptionBudget",
        "Service",
        "Ingress",
        "NetworkPolicy",
    }
    path = tmp_path / f"{overlay}.yaml"
    path.write_text(yaml.safe_dump_all(core), encoding="utf-8")
    done = subprocess.run(
        [tool("kubernetes-validate"), "-k", "1.32.0", "--strict", "--quiet", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_kubernetes_validate_strict_refuses_a_misspelt_field(tmp_path):
    deployment = copy.deepcopy(of_kind("prod", "Deployment")["registry"])
    spec = deployment["spec"]["template"]["spec"]
    spec["terminationGracePeriodSecond"] = spec.pop("terminationGracePeriodSeconds")
    path = tmp_path / "typo.yaml"
    path.write_text(yaml.safe_dump(deployment), encoding="utf-8")
    done = subprocess.run(
        [tool("kubernetes-validate"), "-k", "1.32.0", "--strict", "--quiet", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0


# Custom resources of operators whose CRDs are not in ../shared/crds: checked by their own
# tests below, not against a schema.
WITHOUT_CRD = {("monitoring.coreos.com/v1", "PodMonitor")}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_custom_resources_validate_against_the_operators_crds(overlay):
    custom = [
        doc
        for doc in rendered(overlay)
        if not is_core(doc) and (doc["apiVersion"], doc["kind"]) not in WITHOUT_CRD
    ]
    assert {doc["kind"] for doc in custom} == {
        "RabbitmqCluster",
        "User",
        "Permission",
        "Policy",
        "Cluster",
        "ScaledObject",
        "TriggerAuthentication",
    }
    problems = {
        f"{doc['kind']}/{doc['metadata']['name']}": custom_resource_errors(doc) for doc in custom
    }
    assert {name: errors for name, errors in problems.items() if errors} == {}


def test_crd_validation_refuses_an_unknown_field():
    cluster = copy.deepcopy(of_kind("prod", "Cluster")["vs-postgres"])
    cluster["spec"]["postgresql"]["synchronous"]["numbr"] = 1
    assert any("numbr" in error for error in custom_resource_errors(cluster))


# --- the broker identities come from the permission table ------------------------------


def test_broker_access_manifest_is_the_generators_output():
    committed = (K8S / "base" / "broker-access.yaml").read_text(encoding="utf-8")
    assert committed == generate.render(), (
        "deploy/k8s/base/broker-access.yaml is stale: run python -m deploy.k8s.generate"
    )


def test_every_broker_identity_has_a_user_permission_and_policy_with_the_tables_rights():
    accesses = broker_access.accesses()
    users, permissions = of_kind("prod", "User"), of_kind("prod", "Permission")
    policies = of_kind("prod", "Policy")
    for user, access in accesses.items():
        name = generate.object_name(user)
        assert users[name]["spec"]["importCredentialsSecret"] == {"name": f"vs-broker-{user}"}
        assert users[name]["spec"]["tags"] == list(access.tags)
        assert permissions[name]["spec"]["userReference"] == {"name": name}
        assert permissions[name]["spec"]["permissions"] == {
            "configure": access.configure,
            "write": access.write,
            "read": access.read,
        }
        assert policies[name]["spec"]["pattern"] == access.configure
    assert len(users) == len(permissions) == len(policies) == len(accesses)


def test_policies_never_overlap_on_a_queue():
    names = (
        [f"rpc-{s}" for s in SERVICES]
        + [f"{s}.dlq" for s in SERVICES]
        + [
            "evt-registry--loans.assess",
            "evt-jobs--registry.on_hired",
            "rpc.reply-standalone_rpc_proxy-0f3a",
            "vetctl.tail.0a1b",
        ]
    )
    patterns = [p["spec"]["pattern"] for p in of_kind("prod", "Policy").values()]
    for queue in names:
        assert sum(bool(re.fullmatch(pattern, queue)) for pattern in patterns) == 1, queue


def test_the_table_names_a_topic_permission_the_crds_cannot_express():
    """broker init applies topic permissions; if the topology operator's CRDs ever gain a
    TopicPermission, the generator should write them instead (and this test will say so)."""
    assert any(access.topics for access in broker_access.accesses().values())
    assert not list(crds_dir().glob("*topicpermission*")), (
        "a TopicPermission CRD is available: generate TopicPermission objects"
    )
    job = of_kind("prod", "Job")["vs-migrate"]["spec"]["template"]["spec"]
    assert job["initContainers"][0]["args"] == ["vetctl", "broker", "init"]


# --- what every service's Deployment must keep -----------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_deployment_runs_one_service_of_the_pinned_image_with_probes(overlay, service):
    deployment = of_kind(overlay, "Deployment")[service]
    spec = container(deployment)
    image = spec["image"]
    assert re.fullmatch(r"veteran-services:\d+\.\d+\.\d+", image), image
    assert not image.endswith(":latest")
    assert spec["args"] == ["service", service]
    port = int(env_of(spec)["HEALTH_ADDRESS"]["value"].rpartition(":")[2])
    assert env_of(spec)["HEALTH_ADDRESS"]["value"].startswith("0.0.0.0:")
    assert {"name": "probes", "containerPort": port} in spec["ports"]
    for probe, path in (
        ("startupProbe", "/healthz"),
        ("livenessProbe", "/healthz"),
        ("readinessProbe", "/readyz"),
    ):
        assert spec[probe]["httpGet"] == {"path": path, "port": "probes"}, probe


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_deployment_has_limits_a_locked_down_context_and_a_writable_tmp(overlay, service):
    deployment = of_kind(overlay, "Deployment")[service]
    pod, spec = deployment["spec"]["template"]["spec"], container(deployment)
    resources = spec["resources"]
    assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}
    assert spec["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert pod["securityContext"]["runAsNonRoot"] is True
    tmp = next(v for v in pod["volumes"] if v["name"] == "tmp")
    assert "emptyDir" in tmp
    assert {"name": "tmp", "mountPath": "/tmp"} in spec["volumeMounts"]
    assert pod["terminationGracePeriodSeconds"] > SHUTDOWN_GRACE_SECONDS
    assert int(env_of(spec)["SHUTDOWN_GRACE_SECONDS"]["value"]) == SHUTDOWN_GRACE_SECONDS
    assert pod["topologySpreadConstraints"]
    assert pod["automountServiceAccountToken"] is False


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_takes_its_credentials_from_the_operators_secrets(service):
    env = env_of(container(of_kind("prod", "Deployment")[service]))
    assert env["BROKER_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": f"vs-broker-{service}",
        "key": "password",
    }
    assert env["BROKER_USERNAME"]["valueFrom"]["secretKeyRef"] == {
        "name": f"vs-broker-{service}",
        "key": "username",
    }
    assert env["AMQP_URI"]["value"].startswith(
        "pyamqp://$(BROKER_USERNAME):$(BROKER_PASSWORD)@vs-rabbitmq:5672/"
    )
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "vs-postgres-app",
        "key": "uri",
    }
    assert env["VET_AUTH_SECRET"]["valueFrom"]["secretKeyRef"]["name"] == "vs-auth"
    # the variables an env var refers to come before it (Kubernetes expands only those)
    names = list(env)
    assert names.index("BROKER_PASSWORD") < names.index("AMQP_URI")


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_a_pdb_and_a_queue_scaler(overlay, service):
    labels = {"app.kubernetes.io/name": service}
    pdb = of_kind(overlay, "PodDisruptionBudget")[service]
    assert pdb["spec"]["selector"]["matchLabels"] == labels
    assert pdb["spec"].get("maxUnavailable") == 1
    scaler = of_kind(overlay, "ScaledObject")[service]
    assert scaler["spec"]["scaleTargetRef"]["name"] == service
    assert 1 <= scaler["spec"]["minReplicaCount"] <= scaler["spec"]["maxReplicaCount"]
    triggers = {trigger["type"]: trigger for trigger in scaler["spec"]["triggers"]}
    queues = triggers["rabbitmq"]["metadata"]
    assert triggers["rabbitmq"]["authenticationRef"]["name"] in of_kind(
        overlay, "TriggerAuthentication"
    )
    # the trigger counts exactly this service's own queues (those its permission covers)
    configure = broker_access.accesses()[service].configure
    for queue in (f"rpc-{service}", f"evt-someone--{service}.on_event"):
        assert re.fullmatch(queues["queueName"], queue) and re.fullmatch(configure, queue)
    for other in set(SERVICES) - {service}:
        assert not re.fullmatch(queues["queueName"], f"rpc-{other}")
    assert ("cpu" in triggers) == (service in RPC_HEAVY)


def test_dev_runs_one_replica_of_everything_and_prod_three_nodes():
    for deployment in of_kind("dev", "Deployment").values():
        assert deployment["spec"]["replicas"] == 1
    assert all(s["spec"]["minReplicaCount"] == 1 for s in of_kind("dev", "ScaledObject").values())
    assert of_kind("dev", "RabbitmqCluster")["vs-rabbitmq"]["spec"]["replicas"] == 1
    assert of_kind("dev", "Cluster")["vs-postgres"]["spec"]["instances"] == 1
    assert "synchronous" not in of_kind("dev", "Cluster")["vs-postgres"]["spec"]["postgresql"]
    rabbit = of_kind("prod", "RabbitmqCluster")["vs-rabbitmq"]["spec"]
    assert rabbit["replicas"] == 3
    assert "cluster_partition_handling = pause_minority" in rabbit["rabbitmq"]["additionalConfig"]
    assert "max_message_size = 4194304" in rabbit["rabbitmq"]["additionalConfig"]
    assert not rabbit["image"].endswith(":latest") and ":3.13" in rabbit["image"]
    postgres = of_kind("prod", "Cluster")["vs-postgres"]["spec"]
    assert postgres["instances"] == 3
    assert postgres["postgresql"]["synchronous"]["method"] == "any"
    assert postgres["postgresql"]["synchronous"]["number"] == 1
    assert "backup" in postgres


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_migrate_job_runs_broker_init_then_migrate_with_every_users_password(overlay):
    pod = of_kind(overlay, "Job")["vs-migrate"]["spec"]["template"]["spec"]
    assert [c["args"] for c in pod["initContainers"] + pod["containers"]] == [
        ["vetctl", "broker", "init"],
        ["vetctl", "migrate"],
    ]
    for spec in pod["initContainers"] + pod["containers"]:
        env = env_of(spec)
        for user in broker_access.accesses():
            assert env[f"BROKER_PASSWORD_{user.upper()}"]["valueFrom"]["secretKeyRef"] == {
                "name": f"vs-broker-{user}",
                "key": "password",
            }
        assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "vs-postgres-app"
        assert spec["securityContext"]["readOnlyRootFilesystem"] is True
        assert not spec["image"].endswith(":latest")


# --- the network -----------------------------------------------------------------------


def test_default_deny_and_services_egress_only_to_the_broker_the_database_and_dns():
    policies = of_kind("prod", "NetworkPolicy")
    assert policies["default-deny"]["spec"] == {
        "podSelector": {},
        "policyTypes": ["Ingress", "Egress"],
    }
    ports = {
        port["port"] for rule in policies["app-egress"]["spec"]["egress"] for port in rule["ports"]
    }
    assert ports == {5672, 5432, 53}
    service_labels = {
        "app.kubernetes.io/part-of": "veteran-services",
        "app.kubernetes.io/component": "service",
    }
    for name, policy in policies.items():
        if "Egress" not in policy["spec"]["policyTypes"] or name == "default-deny":
            continue
        if selects(policy["spec"]["podSelector"], service_labels):
            assert name == "app-egress", f"{name} widens the services' egress"


def test_ingress_only_to_jobs_http_from_the_ingress_controller_and_probes_from_monitoring():
    policies = of_kind("prod", "NetworkPolicy")
    jobs = policies["jobs-ingress-http"]["spec"]
    assert jobs["ingress"] == [
        {
            "from": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}
                    }
                }
            ],
            "ports": [{"protocol": "TCP", "port": "http"}],
        }
    ]
    monitoring = policies["services-ingress-monitoring"]["spec"]
    assert monitoring["ingress"][0]["ports"] == [{"protocol": "TCP", "port": "probes"}]
    ingress = of_kind("prod", "Ingress")["jobs-http"]["spec"]
    assert ingress["tls"][0]["secretName"]
    backend = ingress["rules"][0]["http"]["paths"][0]["backend"]["service"]
    service = of_kind("prod", "Service")[backend["name"]]
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    jobs_ports = container(of_kind("prod", "Deployment")["jobs"])["ports"]
    assert {"name": "http", "containerPort": 8000} in jobs_ports


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_loans_serves_the_banks_http_on_8100_behind_its_ingress_from_the_controller_only(overlay):
    loans = container(of_kind(overlay, "Deployment")["loans"])
    assert {"name": "http", "containerPort": 8100} in loans["ports"]
    env = {item["name"]: item for item in loans["env"]}
    assert env["WEB_SERVER_ADDRESS"]["value"] == "0.0.0.0:8100"
    assert env["BANK_HMAC_SECRETS"]["valueFrom"]["secretKeyRef"]["name"] == "vs-banks"
    ingress = of_kind(overlay, "Ingress")["loans-http"]["spec"]
    assert ingress["tls"][0]["secretName"] and ingress["rules"][0]["host"].startswith("banks.")
    backend = ingress["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert of_kind(overlay, "Service")[backend["name"]]["spec"]["ports"][0]["port"] == 8100
    policy = of_kind(overlay, "NetworkPolicy")["loans-ingress-http"]["spec"]
    assert policy["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "loans"}
    assert policy["ingress"][0]["ports"] == [{"protocol": "TCP", "port": "http"}]


def selects(selector, labels):
    """Whether a LabelSelector (matchLabels + In/NotIn/Exists) matches these labels."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or ():
        value, operator = labels.get(expression["key"]), expression["operator"]
        if operator == "In" and value not in expression["values"]:
            return False
        if operator == "NotIn" and value in expression["values"]:
            return False
        if operator == "Exists" and value is None:
            return False
    return True


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_pod_monitor_scrapes_every_service_on_its_probe_port(overlay):
    [monitor] = of_kind(overlay, "PodMonitor").values()
    [endpoint] = monitor["spec"]["podMetricsEndpoints"]
    assert endpoint["path"] == "/metrics" and endpoint["honorLabels"] is True
    deployments = of_kind(overlay, "Deployment")
    assert set(deployments) >= set(SERVICES)
    for name, deployment in deployments.items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selects(monitor["spec"]["selector"], labels) == (name in SERVICES), name
        if name in SERVICES:
            ports = {p["name"] for p in container(deployment)["ports"]}
            assert endpoint["port"] in ports, name
