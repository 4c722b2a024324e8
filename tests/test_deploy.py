"""deploy/ and the README's "Running it continuously": every manifest parses and points only at what exists.

Images are `annexa:<pyproject version>` or the official PostgreSQL image; every port is the daemon's;
every path is in the repository; the config is mounted where the image looks for it and is valid for
the real loader; and every `annexa ...` command line, wherever it is written, is accepted by the real
CLI (Click rejects an unknown command or option before it prints the help).
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.config.sections import DaemonSettings
from agent.config.settings import load_settings
from tests.cli import annexa

ROOT = Path(__file__).parents[1]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "kubernetes"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
IMAGE = f"annexa:{PYPROJECT['project']['version']}"
PORT = DaemonSettings().port
DOCKERFILE_PATH = "deploy/Dockerfile"
README_SECTION = "## Running it continuously"
USER_CREATED = {"deploy/.env"}  # the copy of compose.env.example a user makes; never committed
POSTGRES_IMAGE = re.compile(r"^(docker\.io/)?(library/)?postgres:\d+(\.\d+)?(-(alpine|bookworm|bullseye))?$")
STORE_URL = re.compile(r"^postgresql\+psycopg://annexa@[a-z0-9.-]+:5432/annexa$")  # no password in it


# --- parsers ----------------------------------------------------------------------------------------
@cache
def dockerfile(path: Path = DEPLOY / "Dockerfile") -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, with continuations joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1] if " " in ln else "") for ln in logical]


def instructions(kind: str) -> list[str]:
    return [args for name, args in dockerfile() if name == kind]


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), args
    return value


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for args in instructions("ENV"):
        for token in shlex.split(args):
            key, _, value = token.partition("=")
            env[key] = value
    return env


class _CloudFormationLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Ref, !GetAtt) as plain values."""


def _any_tag(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


_CloudFormationLoader.add_multi_constructor("!", _any_tag)


@cache
def k8s_docs() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    return docs


def k8s_objects() -> list[dict[str, Any]]:
    return [d for d in k8s_docs() if "apiVersion" in d and d.get("kind") != "Kustomization"]


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [d for d in k8s_objects() if d["kind"] == kind]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def workloads() -> list[dict[str, Any]]:
    return [d for d in k8s_objects() if d["kind"] in ("Deployment", "CronJob", "Job")]


@cache
def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


@cache
def systemd_unit() -> dict[str, dict[str, list[str]]]:
    """Section -> key -> every value given (systemd allows a key to repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for raw in (DEPLOY / "systemd" / "annexa.service").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        assert current is not None and "=" in line, f"not a key=value line: {line}"
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def readme_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.find(f"\n{README_SECTION}\n")
    if start < 0:
        return ""
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else len(text)]


def shell_blocks(markdown: str) -> list[str]:
    return re.findall(r"```(?:sh|bash|console)\n(.*?)```", markdown, re.DOTALL)


def shell_commands(script: str) -> Iterator[list[str]]:
    """Simple commands of a shell snippet: continuations joined, comments, operators and redirections
    dropped, arithmetic expansions replaced by 1 (`--shard $((JOB_COMPLETION_INDEX + 1))/3` -> `1/3`)."""
    arithmetic = re.sub(r"\$\(\([^)]*\)\)", "1", script.replace("\\\n", " "))
    for line in arithmetic.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        command: list[str] = []
        tokens = iter(lexer)
        for token in tokens:
            if token in ("&&", "||", "|", ";", "&"):
                if command:
                    yield command
                command = []
            elif token in (">", ">>", "<", ">&", "&>"):
                next(tokens, None)  # a redirection and its target
            else:
                command.append(token)
        if command:
            yield command


ENTRYPOINT_CMD = exec_form(instructions("ENTRYPOINT")[-1]) + exec_form(instructions("CMD")[-1])


IMAGE_TOKEN = re.compile(r"^(?:[a-z0-9.-]+(?::\d+)?/)*annexa:\w[\w.-]*$")  # [registry[:port]/path/]annexa:tag


def annexa_args(argv: list[str]) -> list[str] | None:
    """The arguments given to the `annexa` console script by this command, if it runs it."""
    while argv and (argv[0] == "exec" or re.match(r"^[A-Z_]+=", argv[0])):
        argv = argv[1:]
    if not argv:
        return None
    program = argv[0]
    if Path(program).name == "annexa":
        return argv[1:]
    if program in ("sudo", "runuser", "kubectl") and "--" in argv:
        return annexa_args(argv[argv.index("--") + 1 :])
    if program == "docker" and "run" in argv:
        image = next((i for i, t in enumerate(argv) if IMAGE_TOKEN.match(t)), None)
        return None if image is None else argv[image + 1 :] or [*ENTRYPOINT_CMD[1:]]
    if program == "docker" and "exec" in argv:
        rest = argv[argv.index("exec") + 1 :]
        while rest and rest[0].startswith("-"):
            rest = rest[1:]
        return annexa_args(rest[1:])  # after the container or service name
    return None


def container_argv(container: dict[str, Any]) -> list[str]:
    """What the container runs, given the image's ENTRYPOINT and CMD."""
    if "command" in container:
        argv = [*container["command"], *container.get("args", [])]
    else:
        argv = [*ENTRYPOINT_CMD[:1], *container.get("args", ENTRYPOINT_CMD[1:])]
    if argv[:2] == ["sh", "-c"]:
        [argv] = list(shell_commands(argv[2]))
    return argv


def command_lines() -> list[tuple[str, list[str]]]:
    """(where, annexa arguments) for every `annexa` invocation the deployment files and docs contain."""
    found = [("Dockerfile ENTRYPOINT+CMD", ENTRYPOINT_CMD[1:])]
    for run in instructions("RUN"):
        found += [("Dockerfile RUN", a) for c in shell_commands(run) if (a := annexa_args(c)) is not None]
    service = compose()["services"]["agent"]
    found.append(("docker-compose.yml", list(service.get("command", ENTRYPOINT_CMD[1:]))))
    for workload in workloads():
        for container in pod_spec(workload)["containers"]:
            args = annexa_args(container_argv(container))
            assert args is not None, f"{workload['kind']} {container['name']} does not run annexa"
            found.append((f"kubernetes {workload['kind']}", args))
    for exec_start in systemd_unit()["Service"]["ExecStart"]:
        args = annexa_args(shlex.split(exec_start))
        assert args is not None, f"ExecStart does not run annexa: {exec_start}"
        found.append(("systemd ExecStart", args))
    docs = [("deploy/README.md", (DEPLOY / "README.md").read_text()), ("README.md", readme_section())]
    for where, markdown in docs:
        for block in shell_blocks(markdown):
            for command in shell_commands(block):
                args = annexa_args(command)
                if args is not None:
                    found.append((where, args))
    return found


# --- tests ------------------------------------------------------------------------------------------
def test_every_manifest_parses() -> None:
    for path in sorted(DEPLOY.rglob("*.y*ml")):
        docs = list(yaml.load_all(path.read_text(), Loader=_CloudFormationLoader))
        assert docs and all(isinstance(d, dict) for d in docs if d is not None), path
    assert {d["kind"] for d in k8s_objects()} >= {
        "Namespace", "ServiceAccount", "ConfigMap", "Secret", "Deployment", "Service", "CronJob", "Job",
    }  # fmt: skip
    assert {"FROM", "COPY", "RUN", "USER", "ENTRYPOINT", "CMD", "HEALTHCHECK"} <= {n for n, _ in dockerfile()}
    assert set(systemd_unit()) == {"Unit", "Service", "Install"}
    json.loads((DEPLOY / "entra" / "graph-permissions.json").read_text())


def test_images_are_annexa_at_the_project_version_or_official_postgres() -> None:
    images = {name: s["image"] for name, s in compose()["services"].items()}
    images.update(
        {f"{w['kind']}/{c['name']}": c["image"] for w in workloads() for c in pod_spec(w)["containers"]}
    )
    for where, image in images.items():
        assert image == IMAGE or POSTGRES_IMAGE.match(image), f"{where}: unexpected image {image}"
    assert compose()["services"]["agent"]["image"] == IMAGE
    minimum = re.search(r">=\s*3\.(\d+)", PYPROJECT["project"]["requires-python"])
    assert minimum is not None
    bases = {args for args in instructions("ARG") if args.startswith("PYTHON_IMAGE=")}
    assert bases == {f"PYTHON_IMAGE=python:3.{minimum.group(1)}-slim"}
    assert instructions("FROM") == ["${PYTHON_IMAGE} AS builder", "${PYTHON_IMAGE}"]  # one base, two stages


def _k8s_ports() -> Iterator[tuple[str, int]]:
    for workload in workloads():
        for container in pod_spec(workload)["containers"]:
            named = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
            for name, port in named.items():
                yield f"{workload['kind']} port {name}", port
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                if probe in container:
                    port = container[probe]["httpGet"]["port"]
                    assert isinstance(port, int) or port in named, f"{probe} names an undeclared port {port}"
                    yield f"{workload['kind']} {probe}", named.get(port, port)
    for service in of_kind("Service"):
        for port in service["spec"]["ports"]:
            yield "Service port", port["port"]
            target = port["targetPort"]
            assert isinstance(target, int) or any(
                target in {p.get("name") for p in c.get("ports", [])}
                for w in workloads()
                for c in pod_spec(w)["containers"]
            ), f"Service targetPort {target} is no container's port name"


def test_every_port_is_the_daemons() -> None:
    ports: list[tuple[str, int]] = [("EXPOSE", int(p)) for p in instructions("EXPOSE")]
    [healthcheck] = instructions("HEALTHCHECK")
    ports += [("HEALTHCHECK", int(p)) for m in re.findall(r"'(\d+)'|:(\d+)/", healthcheck) for p in m if p]
    for mapping in compose()["services"]["agent"]["ports"]:
        ports.append(("compose", int(str(mapping).rsplit(":", 1)[-1])))
    ports += list(_k8s_ports())
    for where, markdown in (
        ("deploy/README.md", (DEPLOY / "README.md").read_text()),
        ("README", readme_section()),
    ):
        for block in shell_blocks(markdown):
            for command in (c for c in shell_commands(block) if c[:2] == ["docker", "run"]):
                for i, token in enumerate(command[:-1]):
                    if token in ("-p", "--publish"):
                        ports.append((f"{where}: docker run -p", int(command[i + 1].rsplit(":", 1)[-1])))
    assert len(ports) >= 8
    wrong = [(where, port) for where, port in ports if port != PORT]
    assert not wrong, f"ports other than the daemon's {PORT}: {wrong}"


def _dockerignored(path: str) -> bool:
    """Whether .dockerignore drops `path` from the build context (Docker's rules, closely enough for
    our patterns: the last matching line wins, `!` re-includes, a match on a parent covers children)."""
    ignored = False
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        parts = Path(path).parts
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(
            fnmatch.fnmatchcase(p, pattern.replace("**/", "*")) or fnmatch.fnmatchcase(p, pattern)
            for p in prefixes
        ):
            ignored = not negate
    return ignored


def _mentioned_deploy_paths(text: str) -> set[str]:
    return {m.rstrip(".,:)") for m in re.findall(r"(?<![\w/])deploy/[\w./-]*[\w/]", text)}


def test_every_path_referenced_exists() -> None:
    for args in instructions("COPY"):
        tokens = shlex.split(args)
        if any(t.startswith("--from=") for t in tokens):
            continue
        for source in tokens[:-1]:
            assert (ROOT / source).exists(), f"Dockerfile COPY {source}: not in the repository"
            assert not _dockerignored(source), f"Dockerfile COPY {source}: excluded by .dockerignore"
    agent = compose()["services"]["agent"]
    context = (DEPLOY / agent["build"]["context"]).resolve()
    assert context == ROOT and (context / agent["build"]["dockerfile"]) == DEPLOY / "Dockerfile"
    for volume in agent["volumes"]:
        source = volume.split(":", 1)[0]
        if source.startswith("."):
            assert (DEPLOY / source).is_file(), f"compose mounts {source}: not in deploy/"
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    for resource in kustomization["resources"]:
        assert (K8S / resource).is_file(), f"kustomization lists {resource}: not in deploy/kubernetes"
    texts = [readme_section(), *(p.read_text() for p in DEPLOY.rglob("*") if p.is_file())]
    mentioned = set().union(*(_mentioned_deploy_paths(t) for t in texts)) - USER_CREATED
    assert "deploy/Dockerfile" in mentioned
    missing = sorted(p for p in mentioned if not (ROOT / p).exists())
    assert not missing, f"referenced but not in the repository: {missing}"


def test_the_config_is_mounted_where_the_image_looks_for_it() -> None:
    config = dockerfile_env()["ANNEXA_CONFIG"]
    assert f"deploy/annexa.container.toml {config}" in instructions("COPY")
    mounts = [v.split(":")[1] for v in compose()["services"]["agent"]["volumes"] if v.startswith("./annexa")]
    assert mounts == [config]
    for workload in workloads():
        spec = pod_spec(workload)
        configmaps = {v["name"] for v in spec["volumes"] if "configMap" in v}
        [container] = spec["containers"]
        [mount] = [m for m in container["volumeMounts"] if m["name"] in configmaps]
        assert mount["mountPath"] == config and mount["subPath"] == Path(config).name, workload["kind"]
        assert mount.get("readOnly") is True
    [exec_start] = systemd_unit()["Service"]["ExecStart"]
    assert shlex.split(exec_start)[-2:] == ["--config", config]


def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("ANNEXA_")]:
        monkeypatch.delenv(key)


def test_the_container_configs_are_valid_for_the_real_loader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clean_env(monkeypatch)
    [configmap] = of_kind("ConfigMap")
    (tmp_path / "annexa.toml").write_text(configmap["data"]["annexa.toml"])
    for path in (DEPLOY / "annexa.container.toml", tmp_path / "annexa.toml"):
        settings, used = load_settings(path)
        assert used == path
        assert settings.daemon.port == PORT and settings.daemon.host == "0.0.0.0"
        assert settings.aws.enabled and not settings.aws.profile  # the standard credential chain
        assert settings.export.signing_key == "/etc/annexa/keys/annexa-signing.key"
    env = dockerfile_env()
    [volume] = exec_form(instructions("VOLUME")[0])
    assert env["ANNEXA_STORE__URL"] == f"sqlite:///{volume}/annexa.db"
    assert env["ANNEXA_DAEMON__HOST"] == "0.0.0.0" and env["PYTHONDONTWRITEBYTECODE"] == "1"
    monkeypatch.setenv("ANNEXA_STORE__URL", env["ANNEXA_STORE__URL"])
    settings, _ = load_settings(DEPLOY / "annexa.container.toml")
    assert settings.store.url == env["ANNEXA_STORE__URL"]


def test_every_annexa_command_line_is_accepted_by_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    """Each command line, plus `--help`, through `agent.cli.app.run`: what the console script runs.

    In-process, because a process per command line costs seconds; the next test runs the console
    script itself for the image's own command.
    """
    from agent.cli.app import run

    lines = command_lines()
    assert {where for where, _ in lines} >= {
        "Dockerfile ENTRYPOINT+CMD",
        "docker-compose.yml",
        "systemd ExecStart",
    }
    assert {"kubernetes Deployment", "kubernetes CronJob", "kubernetes Job", "deploy/README.md"} <= {
        where for where, _ in lines
    }
    rejected = {}
    for where, args in lines:
        code = run([*args, "--help"])
        out, err = capsys.readouterr()
        if code != 0 or not out.startswith("Usage: annexa"):
            rejected[f"{where}: annexa {shlex.join(args)}"] = err.strip() or out.strip()
    assert not rejected, f"command lines the CLI rejects: {rejected}"


def test_the_console_script_accepts_the_images_command() -> None:
    assert entry_points(group="console_scripts")["annexa"].value == "agent.cli.app:main"
    proc = annexa(*ENTRYPOINT_CMD[1:], "--help", timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("Usage: annexa"), proc.stderr


def test_the_dockerfile_builds_a_slim_non_root_read_only_image() -> None:
    stages = instructions("FROM")
    assert len(stages) == 2 and stages[0].endswith(" AS builder")
    froms = [i for i, (name, _) in enumerate(dockerfile()) if name == "FROM"]
    runtime = dockerfile()[froms[-1] :]
    runtime_copies = [a for n, a in runtime if n == "COPY"]
    assert "--from=builder /opt/annexa /opt/annexa" in runtime_copies
    assert not [a for n, a in runtime if n == "RUN" and "pip" in a], "the runtime stage installs nothing"
    [install] = [a for a in instructions("RUN") if "pip install" in a]
    assert "'.[postgres]'" in install and "postgres" in PYPROJECT["project"]["optional-dependencies"]
    [user] = instructions("USER")
    assert user == "10001:10001"
    assert exec_form(instructions("VOLUME")[0]) == ["/var/lib/annexa"]
    assert ENTRYPOINT_CMD == ["annexa", "run"]
    [healthcheck] = instructions("HEALTHCHECK")
    probe = exec_form(healthcheck.split(" CMD ", 1)[1])
    assert probe[:2] == ["python", "-c"] and "/healthz" in probe[2] and "curl" not in healthcheck


def test_compose_runs_read_only_after_a_healthy_postgres() -> None:
    services = compose()["services"]
    agent, db = services["agent"], services["postgres"]
    assert agent["read_only"] is True and agent["tmpfs"] == ["/tmp"] and agent["cap_drop"] == ["ALL"]
    assert agent["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert db["environment"]["POSTGRES_PASSWORD"].startswith("${PGPASSWORD:?")
    assert agent["environment"]["PGPASSWORD"].startswith("${PGPASSWORD:?")
    assert STORE_URL.match(agent["environment"]["ANNEXA_STORE__URL"])
    named = set(compose()["volumes"])
    assert {v.split(":")[0] for v in db["volumes"]} <= named and "annexa-state" in named
    grace = DaemonSettings().shutdown_grace.total_seconds()
    assert int(agent["stop_grace_period"].rstrip("s")) > grace + 5


def test_kubernetes_runs_the_daemon_and_collections_hardened_on_postgres() -> None:
    grace = DaemonSettings().shutdown_grace.total_seconds()
    secret_names = {s["metadata"]["name"] for s in of_kind("Secret")}
    for workload in workloads():
        spec = pod_spec(workload)
        assert spec["serviceAccountName"] == "annexa"
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["terminationGracePeriodSeconds"] > grace + 5
        [container] = spec["containers"]
        hardened = container["securityContext"]
        assert hardened["readOnlyRootFilesystem"] is True and hardened["allowPrivilegeEscalation"] is False
        assert hardened["capabilities"] == {"drop": ["ALL"]}
        assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
        tmp = [m["name"] for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
        assert [v for v in spec["volumes"] if v["name"] in tmp and "emptyDir" in v]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert STORE_URL.match(env["ANNEXA_STORE__URL"])
        assert {s["secretRef"]["name"] for s in container["envFrom"]} == secret_names
    [deployment] = of_kind("Deployment")
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"] == {"type": "Recreate"}
    [container] = pod_spec(deployment)["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    [cron] = of_kind("CronJob")
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert annexa_args(container_argv(pod_spec(cron)["containers"][0]))[:1] == ["collect"]  # type: ignore[index]
    [job] = of_kind("Job")
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed" and spec["completions"] == spec["parallelism"] == 3
    command = pod_spec(job)["containers"][0]["command"]
    assert command[:2] == ["sh", "-c"] and "--shard $((JOB_COMPLETION_INDEX + 1))/3" in command[2]
    [account] = of_kind("ServiceAccount")
    assert {"eks.amazonaws.com/role-arn", "iam.gke.io/gcp-service-account"} <= set(
        account["metadata"]["annotations"]
    )
    [secret] = of_kind("Secret")
    assert "PGPASSWORD" in secret["stringData"]
    assert all(v.startswith("REPLACE_ME") for v in secret["stringData"].values()), "placeholders only"
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    assert "secret.example.yaml" not in listed, "apply -k must never overwrite the real Secret"


def test_the_systemd_unit_is_hardened_and_outlasts_the_shutdown_grace(tmp_path: Path) -> None:
    unit = systemd_unit()
    service = {k: v[-1] for k, v in unit["Service"].items()}
    assert shlex.split(service["ExecStart"])[:2] == ["/opt/annexa/bin/annexa", "run"]
    expected = {
        "User": "annexa", "StateDirectory": "annexa", "ConfigurationDirectory": "annexa",
        "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "NoNewPrivileges": "yes",
        "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes", "ProtectKernelLogs": "yes",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "CapabilityBoundingSet": "",
        "KillSignal": "SIGTERM", "Restart": "on-failure", "RestartPreventExitStatus": "2",
        "EnvironmentFile": "-/etc/annexa/annexa.env",
    }  # fmt: skip
    assert {k: service.get(k) for k in expected} == expected
    assert "@system-service" in unit["Service"]["SystemCallFilter"]
    grace = DaemonSettings().shutdown_grace.total_seconds()
    assert int(service["TimeoutStopSec"]) > grace + 5
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        message = "systemd-analyze is not installed: the unit's directives are not verified"
        if os.environ.get("ANNEXA_REQUIRE_SYSTEM_DEPS") == "1":
            pytest.fail(message + " (make test installs it)")
        pytest.skip(message)
    # verify needs an ExecStart that exists: point it at this venv's console script.
    unit_text = (DEPLOY / "systemd" / "annexa.service").read_text()
    copy = tmp_path / "annexa.service"
    copy.write_text(unit_text.replace("/opt/annexa/bin/annexa", str(Path(annexa.__globals__["ANNEXA"]))))
    proc = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr


def _docker_commands(markdown: str, verb: str) -> list[list[str]]:
    commands = [c for block in shell_blocks(markdown) for c in shell_commands(block)]
    return [c for c in commands if c[:2] == ["docker", verb]]


def test_the_docs_build_and_run_the_image_the_files_define() -> None:
    section = readme_section()
    assert section, f"README.md has no '{README_SECTION}' section (merge it from the deploy report)"
    for markdown in (section, (DEPLOY / "README.md").read_text()):
        builds, runs = _docker_commands(markdown, "build"), _docker_commands(markdown, "run")
        assert builds and runs, "the docs show how to build and run the image"
        for build in builds:
            assert build[build.index("-f") + 1] == DOCKERFILE_PATH and build[-1] == "."
            assert build[build.index("-t") + 1] == IMAGE
        for run in runs:
            assert IMAGE in run, f"docker run without {IMAGE}: {shlex.join(run)}"
    [header] = re.findall(r"^#\s+(docker build .*)$", (DEPLOY / "Dockerfile").read_text(), re.MULTILINE)
    assert shlex.split(header) == _docker_commands(section, "build")[0]
    install = "pip install '.[postgres]'"
    assert install in section and any(install in run for run in instructions("RUN"))
    for path in ("deploy/docker-compose.yml", "deploy/kubernetes", "deploy/systemd/annexa.service"):
        assert path in section
