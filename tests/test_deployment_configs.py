"""The deployments documented under docs/deploy cannot rot: every dagster.yaml there is loaded as a
DagsterInstance (its storage on a fresh PostgreSQL database), with the run launcher, coordinator and
storage the docs name; each keeps the run queue, pools and run monitoring of the instance
phoenix-estate manages; the Helm values and the Compose file carry every variable the code location
needs, secrets from a Secret or the environment, never as values."""

import re
import shutil
from pathlib import Path

import dagster as dg
import pytest
import yaml
from services import fresh_postgres_database

from phoenix_dagster.automation.dagster_private import QueuedRunCoordinator, dagster_instance_config, serialize_value
from phoenix_dagster.automation.executors import celery_executor_config
from phoenix_dagster.cli.local_runs import instance_config
from phoenix_dagster.graph.job_names import WAREHOUSE_WRITER_TAG
from phoenix_dagster.settings import PROJECT_ROOT, Settings

DEPLOY = PROJECT_ROOT / "docs" / "deploy"
DEPLOYMENTS = ("docker", "kubernetes", "celery")
LAUNCHERS = {
    "docker": ("dagster_docker", "DockerRunLauncher"),
    "kubernetes": ("dagster_k8s", "K8sRunLauncher"),
    "celery": ("dagster._core.launcher.default_run_launcher", "DefaultRunLauncher"),
}
# What the code location reads on a deployment of several machines (docs/deploy/README.md): where
# the data is and what to collect, and the secrets of the county, MongoDB and the shared limiter.
REQUIRED_SETTINGS = (
    "PHOENIX_DATA_DIR",
    "PHOENIX_ZIP_CODES",
    "PHOENIX_FIRST_DATE",
    "PHOENIX_ASSESSOR_SOURCE",
    "PHOENIX_LISTING_SOURCE",
)
REQUIRED_SECRETS = ("MARICOPA_API_TOKEN", "MONGODB_URI", "PHOENIX_RATE_LIMIT_STORE")
KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: nowhere, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: nowhere, user: {token: not-a-token}}]
contexts: [{name: nowhere, context: {cluster: nowhere, user: nowhere}}]
current-context: nowhere
"""


def documented(deployment: str, name: str = "dagster.yaml"):
    return yaml.safe_load((DEPLOY / deployment / name).read_text())


def managed_instance(tmp_path: Path) -> dict:
    """The dagster.yaml phoenix-estate writes for its own instance (default settings)."""
    return yaml.safe_load(instance_config(Settings.from_env({"PHOENIX_DATA_DIR": str(tmp_path)})))


@pytest.mark.unit
def test_every_variable_the_docs_require_is_one_the_settings_read(tmp_path):
    read = (PROJECT_ROOT / "phoenix_dagster" / "settings.py").read_text()
    assert all(f'"{name}"' in read for name in REQUIRED_SETTINGS)
    values = {"MARICOPA_API_TOKEN": "t", "MONGODB_URI": "mongodb://db", "PHOENIX_RATE_LIMIT_STORE": "redis://r"}
    secrets = Settings.from_env({"PHOENIX_DATA_DIR": str(tmp_path), **values})
    assert all(secrets.has_secret(name) for name in REQUIRED_SECRETS)  # the platform's, or a source's (its descriptor)


@pytest.mark.unit
@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_documented_instance_is_valid_and_queues_like_the_managed_one(deployment, tmp_path):
    config, _ = dagster_instance_config(str(DEPLOY / deployment))  # raises on config Dagster refuses
    managed = managed_instance(tmp_path)
    assert config["concurrency"] == managed["concurrency"]
    assert config["run_monitoring"] == managed["run_monitoring"]
    assert config["storage"] == {"postgres": {"postgres_url": {"env": "PHOENIX_DAGSTER_POSTGRES_URL"}}}
    assert config["run_launcher"]["class"] == LAUNCHERS[deployment][1]


def loadable_copy(deployment: str, tmp_path: Path) -> Path:
    """The deployment's dagster.yaml in a directory of its own; the Kubernetes one reads a kubeconfig
    naming 127.0.0.1 instead of the in-cluster credentials (constructing the launcher then does no
    network I/O)."""
    home = tmp_path / deployment
    home.mkdir()
    shutil.copy(DEPLOY / deployment / "dagster.yaml", home / "dagster.yaml")
    if deployment == "kubernetes":
        (tmp_path / "kubeconfig").write_text(KUBECONFIG)
        config = documented(deployment)
        launcher = config["run_launcher"]["config"]
        launcher.update(load_incluster_config=False, kubeconfig_file=str(tmp_path / "kubeconfig"))
        (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return home


@pytest.mark.integration
@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_documented_instance_loads_with_postgres_storage_and_its_launcher(deployment, tmp_path, monkeypatch):
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

    with fresh_postgres_database() as url:  # skips, naming the address, without PostgreSQL
        monkeypatch.setenv("PHOENIX_DAGSTER_POSTGRES_URL", url)
        with dg.DagsterInstance.from_config(str(loadable_copy(deployment, tmp_path))) as instance:
            assert isinstance(instance.run_storage, PostgresRunStorage)
            assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
            assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
            assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
            concurrency = instance.get_concurrency_config()  # what the daemon's dequeuer reads
            assert concurrency.run_queue_config.max_concurrent_runs == 2
            limits = concurrency.run_queue_config.tag_concurrency_limits
            assert [(limit["key"], limit["limit"]) for limit in limits] == [(WAREHOUSE_WRITER_TAG, 1)]
            assert concurrency.pool_config.pool_granularity.value == "op"
            assert instance.run_monitoring_enabled
            launcher = instance.run_launcher
            assert type(launcher).__name__ == LAUNCHERS[deployment][1]
            assert type(launcher).__module__.startswith(LAUNCHERS[deployment][0])
            # A run's reference to the instance (what a Celery task or a run container gets) names
            # the variable, never the URL.
            reference = serialize_value(instance.get_ref())
            assert url not in reference and "PHOENIX_DAGSTER_POSTGRES_URL" in reference
            if deployment == "docker":
                assert set(REQUIRED_SETTINGS + REQUIRED_SECRETS) <= set(launcher.env_vars)
                assert launcher.container_kwargs["volumes"] == ["phoenix_data:/data"]
            if deployment == "kubernetes":
                assert launcher.env_secrets == ["phoenix-estate"]
                assert [m["mountPath"] for m in launcher.volume_mounts] == ["/data"]


def helm_env(values: dict) -> dict[str, dict]:
    [deployment] = values["dagster-user-deployments"]["deployments"]
    return {entry["name"]: entry for entry in deployment["env"]}


@pytest.mark.unit
def test_helm_values_run_the_code_location_with_every_variable_and_secrets_from_a_secret():
    values = documented("kubernetes", "values.yaml")
    [deployment] = values["dagster-user-deployments"]["deployments"]
    assert values["dagster-user-deployments"]["enabled"] and deployment["image"]["repository"]
    assert deployment["dagsterApiGrpcArgs"] == ["--module-name", "phoenix_dagster.code_location", "--attribute", "defs"]
    assert deployment["includeConfigInLaunchedRuns"]["enabled"]  # run pods get the same env and volume
    env = helm_env(values)
    assert set(REQUIRED_SETTINGS + REQUIRED_SECRETS) <= set(env)
    for name in REQUIRED_SECRETS:
        assert "value" not in env[name] and env[name]["valueFrom"]["secretKeyRef"] == {
            "name": "phoenix-estate",
            "key": name,
        }
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["postgresql"]["enabled"] is False and values["global"]["postgresqlSecretName"]


@pytest.mark.unit
def test_helm_values_queue_and_pool_like_the_documented_and_managed_instances(tmp_path):
    """What the chart renders into the instance's dagster.yaml equals kubernetes/dagster.yaml."""
    values, rendered = documented("kubernetes", "values.yaml"), documented("kubernetes")
    assert managed_instance(tmp_path)["concurrency"] == rendered["concurrency"]
    runs, concurrency = values["concurrency"]["runs"], rendered["concurrency"]
    assert values["concurrency"]["enabled"]
    assert runs["maxConcurrentRuns"] == concurrency["runs"]["max_concurrent_runs"]
    assert runs["tagConcurrencyLimits"] == concurrency["runs"]["tag_concurrency_limits"]
    assert values["concurrency"]["pools"] == concurrency["pools"]
    queue = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert set(queue) == {"dequeueUseThreads", "dequeueNumWorkers"}  # limits in one place: concurrency.runs
    assert queue["dequeueUseThreads"] == rendered["run_coordinator"]["config"]["dequeue_use_threads"]
    assert queue["dequeueNumWorkers"] == rendered["run_coordinator"]["config"]["dequeue_num_workers"]
    monitoring = values["dagsterDaemon"]["runMonitoring"]
    assert monitoring["enabled"] == rendered["run_monitoring"]["enabled"]
    assert monitoring["freeSlotsAfterRunEndSeconds"] == rendered["run_monitoring"]["free_slots_after_run_end_seconds"]
    launcher = rendered["run_launcher"]["config"]
    assert values["runLauncher"]["config"]["k8sRunLauncher"]["jobNamespace"] == launcher["job_namespace"]
    secret_names = {
        entry["valueFrom"]["secretKeyRef"]["name"] for entry in helm_env(values).values() if "valueFrom" in entry
    }
    assert secret_names == set(launcher["env_secrets"])


@pytest.mark.unit
def test_compose_file_runs_every_service_and_passes_each_variable_to_the_run_containers():
    compose = documented("docker", "docker-compose.yaml")
    services = compose["services"]
    assert set(services) == {"postgres", "rabbitmq", "user_code", "webserver", "daemon"}
    [server] = documented("docker", "workspace.yaml")["load_from"]
    command = services["user_code"]["command"]
    assert server["grpc_server"]["host"] == "user_code"
    assert str(server["grpc_server"]["port"]) == command[command.index("-p") + 1]
    assert "phoenix_dagster.code_location" in command
    launcher = documented("docker")["run_launcher"]["config"]
    assert compose["networks"][launcher["network"]]["name"] == launcher["network"]  # the runs' containers join it
    for service in ("user_code", "daemon", "webserver"):
        environment = services[service]["environment"]
        assert set(launcher["env_vars"]) <= set(environment), service  # the daemon passes what it has
    for name in (*REQUIRED_SECRETS, "PHOENIX_DAGSTER_POSTGRES_URL"):  # filled in from the shell or .env
        assert re.search(r"\$\{[A-Z_]+\}", services["daemon"]["environment"][name]), name


@pytest.mark.unit
def test_celery_executor_config_is_what_the_code_builds_and_dagster_celery_accepts(tmp_path):
    from dagster_celery import celery_executor

    from phoenix_dagster.automation.dagster_private import validate_config

    documented_config = documented("celery", "executor.yaml")["execution"]["config"]
    settings = Settings.from_env(
        {
            "PHOENIX_DATA_DIR": str(tmp_path),
            "PHOENIX_EXECUTOR": "celery",
            "PHOENIX_CELERY_BROKER": "pyamqp://user:password@broker//",
            "PHOENIX_CELERY_BACKEND": "rpc://",
        }
    )
    assert documented_config == celery_executor_config(settings)
    assert validate_config(celery_executor.config_schema.config_type, documented_config).success
