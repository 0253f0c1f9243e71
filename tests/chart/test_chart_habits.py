"""What the platform team and the issue ask of every rendered object, checked on the objects themselves.

Hardening, probes, identities, autoscaling, disruption budgets, the CronJob, the migrations hook,
and that each service's environment is one its real settings class accepts.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from catalog.settings import CatalogSettings
from catalog.settings import MigrateSettings as CatalogMigrateSettings
from gateway.settings import GatewaySettings
from ingestion.settings import IngestionSettings, RunSettings
from ingestion.settings import MigrateSettings as IngestionMigrateSettings
from tests.chart.rendering import (
    CHART,
    NAMESPACE,
    Rendered,
    component_name,
    containers,
    pod_labels,
    pod_spec,
    render,
    workloads,
)
from tests.chart.scenarios import SCENARIOS

SERVICES = ("gateway", "catalog", "ingestion")
SETTINGS: dict[str, type[BaseSettings]] = {
    "gateway": GatewaySettings,
    "catalog": CatalogSettings,
    "ingestion": IngestionSettings,
}


@pytest.fixture(scope="module", params=["defaults", "production", "every-option-on"])
def rendered(request: pytest.FixtureRequest) -> Rendered:
    return render(SCENARIOS[request.param])


def test_every_pod_is_hardened_and_sized(rendered):
    for workload in workloads(rendered):
        name = f"{workload['kind']}/{workload['metadata']['name']}"
        spec = pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        for container in containers(workload):
            where = f"{name} container {container['name']}"
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["capabilities"]["drop"] == ["ALL"], where
            assert security["seccompProfile"] == {"type": "RuntimeDefault"}, where
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][bound]), f"{where} {bound}"


def test_no_container_sets_a_variable_twice(rendered):
    # Duplicates break `helm upgrade` (strategic merge patch) and server-side apply.
    for workload in workloads(rendered):
        for container in containers(workload):
            names = [variable["name"] for variable in container.get("env", [])]
            assert len(names) == len(set(names)), f"{workload['metadata']['name']}/{container['name']}"


def _port(container: dict[str, Any], name: str) -> int:
    (port,) = [p["containerPort"] for p in container["ports"] if p["name"] == name]
    return int(port)


def test_services_probe_grpc_health_on_the_plaintext_port(rendered):
    for service in SERVICES:
        deployment = rendered.get("Deployment", component_name(service))
        (container,) = pod_spec(deployment)["containers"]
        health = _port(container, "health")
        assert health != _port(container, "grpc")
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["grpc"]["port"] == health, f"{service} {probe}"
        # Startup and liveness ignore dependencies: a database outage must not restart or kill pods.
        assert container["livenessProbe"]["grpc"]["service"] == "liveness"
        assert container["startupProbe"]["grpc"]["service"] == "liveness"
        assert "service" not in container["readinessProbe"]["grpc"]


def test_each_service_has_its_own_service_account_and_service(rendered):
    accounts = rendered.names("ServiceAccount")
    used = set()
    for service in SERVICES:
        deployment = rendered.get("Deployment", component_name(service))
        account = pod_spec(deployment)["serviceAccountName"]
        assert account in accounts
        used.add(account)
        svc = rendered.get("Service", component_name(service))
        assert svc["spec"]["selector"].items() <= pod_labels(deployment).items()
        assert {p["name"] for p in svc["spec"]["ports"]} == {"grpc", "health", "metrics"}
    assert len(used) == 3


def test_replicas_spread_over_zones_and_nodes(rendered):
    for service in SERVICES:
        spec = pod_spec(rendered.get("Deployment", component_name(service)))
        keys = {c["topologyKey"] for c in spec["topologySpreadConstraints"]}
        assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}


def test_gateway_and_catalog_autoscale_on_cpu(rendered):
    for service in ("gateway", "catalog"):
        hpa = rendered.get("HorizontalPodAutoscaler", component_name(service))
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["scaleTargetRef"]["name"] == component_name(service)
        assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
        # The HPA owns the replica count; a fixed one would fight it on every upgrade.
        assert "replicas" not in rendered.get("Deployment", component_name(service))["spec"]


def test_in_flight_custom_metric_is_optional():
    on = render(SCENARIOS["every-option-on"])
    metrics = on.get("HorizontalPodAutoscaler", component_name("gateway"))["spec"]["metrics"]
    assert [m["pods"]["metric"]["name"] for m in metrics if m["type"] == "Pods"] == ["grpc_server_in_flight"]
    default = render({}).get("HorizontalPodAutoscaler", component_name("gateway"))["spec"]["metrics"]
    assert [m["type"] for m in default] == ["Resource"]


def test_disruption_budgets_select_their_pods(rendered):
    for pdb in rendered.of_kind("PodDisruptionBudget"):
        deployment = rendered.get("Deployment", pdb["metadata"]["name"])
        assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels(deployment).items()


def test_certificates_carry_spiffe_ids_and_service_names():
    rendered = render(SCENARIOS["production"])
    for service in SERVICES:
        name = component_name(service)
        spec = rendered.get("Certificate", name)["spec"]
        assert spec["uris"] == [f"spiffe://games.prod.example.com/{service}"]
        assert {name, f"{name}.{NAMESPACE}.svc"} <= set(spec["dnsNames"])
        issuer = {"name": "platform-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"}
        assert spec["issuerRef"] == issuer
        assert {"server auth", "client auth"} <= set(spec["usages"])
        # The pod mounts the Secret cert-manager writes (a directory mount, so rotation reaches it).
        volumes = pod_spec(rendered.get("Deployment", name))["volumes"]
        (tls,) = [v for v in volumes if v["name"] == "tls"]
        assert tls["secret"]["secretName"] == spec["secretName"]
    assert (
        "games-gateway.internal.example.com"
        in rendered.get("Certificate", component_name("gateway"))["spec"]["dnsNames"]
    )


def test_without_cert_manager_pods_mount_the_named_secrets():
    rendered = render(SCENARIOS["cert-manager-off"])
    assert not rendered.of_kind("Certificate")
    expected = {"gateway": "gw-tls", "catalog": "cat-tls", "ingestion": "ing-tls"}
    for service, secret in expected.items():
        volumes = pod_spec(rendered.get("Deployment", component_name(service)))["volumes"]
        assert {"name": "tls", "secret": {"secretName": secret, "defaultMode": 0o440}} in volumes


def _environment(container: dict[str, Any]) -> dict[str, str]:
    """The container's variables, with placeholder values for those read from Secrets or fields."""
    env = {}
    for variable in container.get("env", []):
        if "value" in variable:
            env[variable["name"]] = str(variable["value"])
        elif "secretKeyRef" in variable["valueFrom"]:
            env[variable["name"]] = "postgresql+psycopg://from-secret/db"
        else:
            env[variable["name"]] = "from-field"
    return env


def _load(settings: type[BaseSettings], env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(("CATALOG_", "GATEWAY_", "INGESTION_")):
                patch.delenv(name)
        for name, value in env.items():
            patch.setenv(name, value)
        settings()


@pytest.mark.parametrize("scenario", ["defaults", "production", "every-option-on", "cert-manager-off"])
def test_each_container_environment_is_accepted_by_its_settings(scenario, monkeypatch):
    rendered = render(SCENARIOS[scenario])
    for service, settings in SETTINGS.items():
        (container,) = pod_spec(rendered.get("Deployment", component_name(service)))["containers"]
        env = _environment(container)
        prefix = service.upper() + "_"
        known = {prefix + field.upper() for field in settings.model_fields}
        unknown = {name for name in env if name.startswith(prefix)} - known
        assert not unknown, f"{service} sets variables its settings do not read: {unknown}"
        _load(settings, env, monkeypatch)
    if scenario != "every-option-off":
        (run,) = containers(rendered.get("CronJob", component_name("ingestion-run")))
        assert run["args"] == ["run-once"]
        _load(RunSettings, _environment(run), monkeypatch)
    migrate = {c["name"]: c for c in containers(rendered.get("Job", component_name("migrate")))}
    _load(CatalogMigrateSettings, _environment(migrate["catalog"]), monkeypatch)
    _load(IngestionMigrateSettings, _environment(migrate["ingestion"]), monkeypatch)


def test_replicas_share_one_page_token_key(rendered):
    names = set()
    for service in ("catalog", "ingestion"):
        (container,) = pod_spec(rendered.get("Deployment", component_name(service)))["containers"]
        (variable,) = [v for v in container["env"] if v["name"].endswith("_PAGE_TOKEN_SECRET")]
        names.add(variable["valueFrom"]["secretKeyRef"]["name"])
    assert len(names) == 1


def test_services_trust_each_others_spiffe_ids():
    rendered = render(SCENARIOS["production"])
    (catalog,) = pod_spec(rendered.get("Deployment", component_name("catalog")))["containers"]
    env = _environment(catalog)
    assert env["CATALOG_GATEWAY_IDENTITIES"] == "spiffe://games.prod.example.com/gateway"
    assert env["CATALOG_INGESTION_IDENTITIES"] == "spiffe://games.prod.example.com/ingestion"
    (gateway,) = pod_spec(rendered.get("Deployment", component_name("gateway")))["containers"]
    env = _environment(gateway)
    assert env["GATEWAY_CATALOG_TARGET"] == f"{component_name('catalog')}:50061"
    assert env["GATEWAY_IDENTITY_SCOPES"] == "spiffe://games.prod.example.com/recommendations=games.read"
    # Three pods of two processes each (two cores requested): six count for the rate limits.
    assert env["GATEWAY_PROCESSES"] == "2"
    assert env["GATEWAY_REPLICAS"] == "6"


@pytest.mark.parametrize(
    ("gateway", "processes"),
    [
        ({}, "1"),
        ({"resources": {"requests": {"cpu": "1500m"}}}, "2"),
        ({"resources": {"requests": {"cpu": "3"}}}, "3"),
        ({"resources": {"requests": {"cpu": "100m"}}}, "1"),
        ({"processes": 4, "resources": {"requests": {"cpu": "1"}}}, "4"),
    ],
)
def test_gateway_runs_one_process_per_core_it_requests(gateway, processes):
    rendered = render({"gateway": gateway})
    (container,) = pod_spec(rendered.get("Deployment", component_name("gateway")))["containers"]
    env = _environment(container)
    assert env["GATEWAY_PROCESSES"] == processes
    assert env["GATEWAY_REPLICAS"] == str(2 * int(processes))  # two pods by default


def test_ingestion_cron_job_runs_once_a_day_without_overlap():
    rendered = render({"ingestion": {"cronJob": {"schedule": "15 2 * * *", "startingDeadlineSeconds": 600}}})
    cron = rendered.get("CronJob", component_name("ingestion-run"))
    spec = cron["spec"]
    assert spec["schedule"] == "15 2 * * *"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["startingDeadlineSeconds"] == 600
    assert spec["successfulJobsHistoryLimit"] >= 1
    assert spec["failedJobsHistoryLimit"] >= 1
    job = spec["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 2
    # A bad setting (exit code 2) fails the Job at once instead of retrying.
    (rule,) = job["podFailurePolicy"]["rules"]
    assert rule["action"] == "FailJob"
    assert rule["onExitCodes"]["values"] == [2]
    # The CronJob's pods must not be taken for API replicas by the ingestion Service.
    service = rendered.get("Service", component_name("ingestion"))
    assert not service["spec"]["selector"].items() <= pod_labels(cron).items()


def test_migrations_run_as_a_hook_before_install_and_upgrade():
    rendered = render({"database": {"url": "postgresql+psycopg://u:p@db/games"}})
    job = rendered.get("Job", component_name("migrate"))
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    spec = pod_spec(job)
    assert [(c["name"], c["args"]) for c in containers(job)] == [
        ("catalog", ["migrate"]),
        ("ingestion", ["migrate"]),
    ]
    assert [c["image"].rsplit("/", 1)[1] for c in containers(job)] == ["catalog:0.1.0", "ingestion:0.1.0"]
    # Hooks run before release objects exist: what the Job needs must be hooks too, created first.
    weight = int(annotations["helm.sh/hook-weight"])
    account = rendered.get("ServiceAccount", spec["serviceAccountName"])["metadata"]["annotations"]
    secret = rendered.get("Secret", component_name("database"))["metadata"]["annotations"]
    policy = rendered.get("NetworkPolicy", component_name("migrate"))["metadata"]["annotations"]
    for needed in (account, secret, policy):
        assert needed["helm.sh/hook"] == "pre-install,pre-upgrade"
        assert int(needed["helm.sh/hook-weight"]) < weight
    # What only the Job uses goes when it has succeeded; the Secret stays, the pods read it afterwards.
    for only_the_job in (annotations, account, policy):
        assert only_the_job["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
    assert secret["helm.sh/hook-delete-policy"] == "before-hook-creation"


def test_images_are_one_per_service():
    rendered = render({"image": {"repository": "r.example/games", "tag": "1.2.3"}})
    for service in SERVICES:
        (container,) = pod_spec(rendered.get("Deployment", component_name(service)))["containers"]
        assert container["image"] == f"r.example/games/{service}:1.2.3"
    overridden = render({"image": {"overrides": {"catalog": "local/catalog@sha256:" + "0" * 64}}})
    (container,) = pod_spec(overridden.get("Deployment", component_name("catalog")))["containers"]
    assert container["image"] == "local/catalog@sha256:" + "0" * 64


def test_helm_test_pod_checks_every_health_port():
    rendered = render({})
    (pod,) = rendered.of_kind("Pod")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    (container,) = pod["spec"]["containers"]
    assert container["command"] == ["gamectl", "health"]
    assert container["args"] == [
        f"{component_name('gateway')}:50052",
        f"{component_name('catalog')}:50062",
        f"{component_name('ingestion')}:50072",
    ]


def test_notes_tell_how_to_call_the_gateway():
    notes = render({}).notes
    assert f"port-forward svc/{component_name('gateway')} 50051:50051" in notes
    assert "games.catalog.v1.CatalogService/SearchGames" in notes
    assert "no API keys are configured" in notes
    quiet = render(SCENARIOS["production"]).notes
    assert "WARNING" not in quiet


def test_monitoring_objects_embed_the_one_copy_of_rules_and_dashboards():
    rendered = render(SCENARIOS["production"])
    (rule,) = rendered.of_kind("PrometheusRule")
    alerts = yaml.safe_load((CHART / "files" / "alerts.yaml").read_text())
    runbooks = "https://wiki.internal.example.com/games/operations"
    production_runbooks = SCENARIOS["production"]["metrics"]["prometheusRule"]["runbookBaseUrl"]
    assert production_runbooks == runbooks
    for rendered_group, group in zip(rule["spec"]["groups"], alerts["groups"], strict=True):
        for rendered_rule, alert in zip(rendered_group["rules"], group["rules"], strict=True):
            anchor = alert["annotations"]["runbook_url"].rpartition("#")[2]
            assert rendered_rule["annotations"]["runbook_url"] == f"{runbooks}#{anchor}"
            assert {**rendered_rule, "annotations": None} == {**alert, "annotations": None}
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    for service in SERVICES:
        monitor = rendered.get("ServiceMonitor", component_name(service))
        (endpoint,) = monitor["spec"]["endpoints"]
        svc = rendered.get("Service", component_name(service))
        assert endpoint["port"] in {p["name"] for p in svc["spec"]["ports"]}
        assert monitor["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items()
        (relabel,) = endpoint["relabelings"]
        assert relabel["targetLabel"] == "component"
    dashboards = {p.stem: json.loads(p.read_text()) for p in (CHART / "dashboards").glob("*.json")}
    assert set(dashboards) == set(SERVICES)
    for name, dashboard in dashboards.items():
        config_map = rendered.get("ConfigMap", component_name(f"dashboard-{name}"))
        assert config_map["metadata"]["namespace"] == "monitoring"
        assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert json.loads(config_map["data"][f"games-{name}.json"]) == dashboard
