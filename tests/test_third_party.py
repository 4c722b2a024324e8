"""A third-party system, installed like any plugin, is a first-class one.

examples/annexa-assets (the package README's "Adding a collector or a check" shows) is installed
with pip into a fresh virtual environment that sees the project's own environment, and driven
through the `annexa` console script: its `[assets]` section is validated like the built-in ones,
switched on by `enabled`, scheduled, judged, and its permissions generated.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[1] / "examples" / "annexa-assets"
ANNEXA = Path(sys.executable).with_name("annexa")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv whose only addition to the project's environment is the example, installed by pip
    offline (no build isolation: setuptools comes from the project's environment)."""
    tmp = tmp_path_factory.mktemp("third-party")
    root = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    project_site = sysconfig.get_paths()["purelib"]
    (Path(purelib) / "project-environment.pth").write_text(
        f"import site; site.addsitedir({project_site!r})\n"
    )
    source = shutil.copytree(EXAMPLE, tmp / "annexa-assets")  # pip builds in the tree: not in ours
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps"]
    installed = subprocess.run(
        [*pip, "--no-build-isolation", "--no-index", str(source)], capture_output=True, text=True, check=False
    )
    assert installed.returncode == 0, installed.stderr
    return root


def annexa(
    venv: Path, config: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The console script, run by the new venv's interpreter (as its own `bin/annexa` would be)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNEXA_")} | (env or {})
    return subprocess.run(
        [venv / "bin" / "python", ANNEXA, *args, "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def write_config(tmp_path: Path, assets: str) -> Path:
    config = tmp_path / "annexa.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "store.db"}"\n\n[assets]\n{assets}\n')
    return config


def test_the_system_is_collected_on_its_schedule_judged_and_opens_a_nonconformity(venv, tmp_path):
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps([{"id": "laptop-1", "owner": "ann"}, {"id": "nas-2"}]))
    config = write_config(
        tmp_path, f'enabled = true\npath = "{inventory}"\n\n[schedule.sources]\n"assets.*" = "6h"\n'
    )

    collected = annexa(venv, config, "collect", "--json")
    assert collected.returncode == 0, collected.stderr
    assert json.loads(collected.stdout)["observations"] == {"ok": 1, "error": 0}

    [nc] = json.loads(annexa(venv, config, "nc", "list", "--json").stdout)
    assert (nc["check_id"], nc["scope"], nc["failing_resources"]) == (
        "assets.inventory.owned",
        "assets:inventory",
        ["nas-2"],
    )
    controls = {c["id"]: c for c in json.loads(annexa(venv, config, "controls", "--json").stdout)}
    assert controls["A.5.9"]["status"] == "failing"
    [evidence] = json.loads(annexa(venv, config, "status", "--json").stdout)["evidence"]
    assert (evidence["source"], evidence["state"], evidence["limit_hours"]) == (
        "assets.inventory.items",
        "fresh",
        12.0,  # twice the source's 6-hour schedule
    )


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ('enabled = true\npath = "x.json"\ncolour = "blue"', "[assets] colour: unknown key"),
        (
            'enabled = "sometimes"',
            "[assets] enabled: Input should be a valid boolean, unable to interpret input",
        ),
        ("enabled = true", "[assets] path: required when [assets] is enabled"),
    ],
)
def test_its_section_is_validated_like_a_built_in_one(venv, tmp_path, section, message):
    config = write_config(tmp_path, section)
    proc = annexa(venv, config, "collect")
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [f"annexa: {config}: {message}"], proc.stderr
    assert not (tmp_path / "store.db").exists()


def test_the_environment_overrides_its_section_like_any_other(venv, tmp_path):
    config = write_config(tmp_path, 'enabled = true\npath = "x.json"')
    proc = annexa(venv, config, "collect", env={"ANNEXA_ASSETS__SHELF": "3"})
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "annexa: environment variable ANNEXA_ASSETS__SHELF: [assets] shelf: unknown key"
    ]


def test_switched_off_it_is_not_collected_and_the_error_names_its_section(venv, tmp_path):
    proc = annexa(venv, write_config(tmp_path, "enabled = false"), "collect")
    assert proc.returncode == 2
    assert "nothing to collect: enable at least one of [assets], [aws]," in proc.stderr


def test_its_permissions_are_generated(venv):
    proc = subprocess.run(
        [venv / "bin" / "python", "-m", "agent.plugin.permissions", "assets"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (proc.returncode, proc.stdout) == (0, "read access to the inventory export\n"), proc.stderr


def test_the_readme_shows_the_example_as_it_is():
    readme = (EXAMPLE.parents[1] / "README.md").read_text()
    modules = [p for p in sorted(EXAMPLE.rglob("*.py")) if p.name != "__init__.py"]
    for path in [*modules, EXAMPLE / "pyproject.toml"]:
        assert path.read_text() in readme, f"README's copy of {path.relative_to(EXAMPLE)} is out of date"
