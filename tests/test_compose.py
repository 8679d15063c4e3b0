"""docker-compose.yml hands every setting to the BFF (issue 21: it passed 13 of 101 and no
env_file, so template ids, the admin token and administrators put in .env never arrived).
`docker-compose config` validates and renders the file without a docker engine."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support import missing
from tests.test_docs_in_step import env_names

ROOT = Path(__file__).resolve().parent.parent
# The compose network's own values: they win over .env (the BFF must reach the mysql and redis services).
COMPOSE_OWNS = {
    "PORT": "8000",
    "BFF_HOST": "0.0.0.0",
    "BFF_DATABASE_URL": "mysql+asyncmy://bff:compose-db-password@mysql:3306/bff",
    "BFF_REDIS_URL": "redis://redis:6379/0",
}


def _compose() -> list[str]:
    """`docker compose` (the plugin) or Debian's `docker-compose` 1.29; either validates without an engine."""
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if not shutil.which("docker-compose"):
        missing("docker-compose (apt-get install -y docker-compose)")
    return ["docker-compose"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The compose file beside an .env carrying every setting, each with a value of its own."""
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    lines = [f"{name}=value-of-{name.lower()}" for name in sorted(env_names())]
    lines.append("MYSQL_PASSWORD=compose-db-password")
    (tmp_path / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def _config(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_compose(), "config"], cwd=project, env={"PATH": "/usr/bin:/bin:/usr/local/bin"},
                          capture_output=True, text=True, timeout=60)


def test_every_setting_in_env_reaches_the_bff(project: Path) -> None:
    result = _config(project)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    environment = {k: str(v) for k, v in services["bff"]["environment"].items()}
    expected = {name: COMPOSE_OWNS.get(name, f"value-of-{name.lower()}") for name in env_names()}
    assert {name: environment.get(name) for name in expected} == expected
    assert services["mysql"]["environment"]["MYSQL_PASSWORD"] == "compose-db-password"
    assert services["mysql"]["image"].startswith("mysql:8")
    assert services["bff"]["depends_on"]["mysql"]["condition"] == "service_healthy"
    grace = re.fullmatch(r"(\d+)s", str(services["bff"]["stop_grace_period"]))
    assert grace and int(grace.group(1)) > 10  # more than BFF_SHUTDOWN_GRACE_S's default: docker stop waits for the drain


def test_compose_refuses_to_run_without_env_or_database_password(project: Path) -> None:
    env = project / ".env"
    lines = env.read_text(encoding="utf-8").splitlines()
    env.write_text("\n".join(line for line in lines if not line.startswith("MYSQL_PASSWORD=")) + "\n", encoding="utf-8")
    result = _config(project)
    assert result.returncode != 0 and "MYSQL_PASSWORD" in result.stderr  # required, never defaulted
    env.unlink()
    assert _config(project).returncode != 0  # no .env: nothing would reach the BFF
