from __future__ import annotations

from datetime import timedelta

import pytest

from agent.config import load_settings, parse_duration
from agent.errors import ConfigError


def write(tmp_path, text):
    path = tmp_path / "annexa.toml"
    path.write_text(text)
    return path


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings, used = load_settings(None)
    assert used is None and settings.store.url == "sqlite:///annexa.db" and not settings.aws.enabled


def test_environment_overrides_the_file(tmp_path, monkeypatch):
    path = write(tmp_path, '[aws]\nenabled = true\nregions = ["eu-west-1"]\n')
    monkeypatch.setenv("ANNEXA_AWS__REGIONS", '["us-east-1", "eu-central-1"]')
    monkeypatch.setenv("ANNEXA_STORE__URL", "sqlite:////tmp/x.db")
    settings, _ = load_settings(path)
    assert settings.aws.enabled and settings.aws.regions == ["us-east-1", "eu-central-1"]
    assert settings.store.url == "sqlite:////tmp/x.db"


def test_annexa_config_names_the_file(tmp_path, monkeypatch):
    path = write(tmp_path, "[runner]\nworkers = 3\n")
    monkeypatch.setenv("ANNEXA_CONFIG", str(path))
    settings, used = load_settings(None)
    assert used == path and settings.runner.workers == 3


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("90s", 90), ("15m", 900), ("24h", 86400), ("7d", 604800), (30, 30), ("1.5h", 5400)],
)
def test_durations(value, seconds):
    assert parse_duration(value) == timedelta(seconds=seconds)


@pytest.mark.parametrize("value", ["soon", "-1h", "0s", True, "10y"])
def test_bad_durations(value):
    with pytest.raises(ValueError):
        parse_duration(value)


def test_freshness_defaults_to_twice_the_interval(tmp_path):
    path = write(
        tmp_path, '[schedule.sources]\n"aws.iam.users" = "6h"\n[schedule.freshness]\n"x.y.z" = "1h"\n'
    )
    settings, _ = load_settings(path)
    assert settings.freshness_for("aws.iam.users", timedelta(days=1)) == timedelta(hours=12)
    assert settings.freshness_for("x.y.z", timedelta(days=1)) == timedelta(hours=1)
    assert settings.freshness_for("other.a.b", timedelta(days=1)) == timedelta(days=1)


def test_unknown_check_parameter_is_a_config_error(tmp_path):
    path = write(tmp_path, '[checks.params."aws.iam.root_mfa"]\nmax = 3\n')
    settings, _ = load_settings(path)
    with pytest.raises(ConfigError, match="max: unknown parameter"):
        settings.check_params("aws.iam.root_mfa", {})


def test_secrets_are_resolved_by_reference_and_never_kept_in_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPH_SECRET", "s3cr3t-value")
    path = write(
        tmp_path,
        '[entra]\nenabled = true\ntenant_id = "t"\nclient_id = "c"\nclient_secret_env = "GRAPH_SECRET"\n',
    )
    settings, _ = load_settings(path)
    assert "s3cr3t" not in repr(settings)
