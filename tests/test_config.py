from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent.config.cadence import parse_cadence
from agent.config.durations import parse_duration
from agent.config.settings import load_settings
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


def test_cadences_by_glob_the_most_specific_wins_and_cron_sets_freshness(tmp_path):
    path = write(
        tmp_path,
        '[schedule]\ninterval = "12h"\n[schedule.sources]\n"aws.*" = "6h"\n"aws.iam.*" = "1h"\n'
        '"hr.employees" = "0 6 * * 1-5"\n',
    )
    settings, _ = load_settings(path)
    sched = settings.schedule
    assert sched.cadence_for("aws.iam.users").interval == timedelta(hours=1)
    assert sched.cadence_for("aws.s3.buckets").interval == timedelta(hours=6)
    assert sched.cadence_for("gcp.projects.iam_policies").interval == timedelta(hours=12)
    assert sched.cadence_for("hr.employees").cron == "0 6 * * 1-5"
    # Friday 06:00 to Monday 06:00 is the longest wait: freshness is twice that.
    assert settings.freshness_for("hr.employees", timedelta(days=1)) == timedelta(days=6)
    assert settings.freshness_for("aws.ec2.volumes", timedelta(days=1)) == timedelta(hours=12)


@pytest.mark.parametrize(
    ("crontab", "weekdays"),
    [("0 6 * * 0", "sun"), ("0 6 * * 7", "sun"), ("0 6 * * 1-5", "mon,tue,wed,thu,fri"),
     ("0 6 * * 5-7", "sun,fri,sat"), ("0 6 * * */2", "sun,tue,thu,sat"), ("0 6 * * sat,sun", "sun,sat")],
)  # fmt: skip
def test_crontab_weekdays_count_from_sunday(crontab, weekdays):
    trigger = parse_cadence(crontab).trigger(timedelta(0))
    assert str(trigger.fields[4]) == weekdays
    first = trigger.get_next_fire_time(None, datetime(2026, 11, 22, tzinfo=UTC))  # a Sunday
    assert first.strftime("%a").lower() == weekdays.split(",")[0] or crontab.endswith(
        ("1-5", "5-7", "sat,sun")
    )


@pytest.mark.parametrize("value", ["0 6 * * 8", "61 * * * *", "every day", "0s", "* * * *"])
def test_bad_cadences_are_refused(value):
    with pytest.raises(ValueError):
        parse_cadence(value)


def test_a_cadence_from_the_environment_is_plain_text(tmp_path, monkeypatch):
    monkeypatch.setenv("ANNEXA_SCHEDULE__INTERVAL", "6s")
    settings, _ = load_settings(write(tmp_path, ""))
    assert settings.schedule.interval.interval == timedelta(seconds=6)
    monkeypatch.setenv("ANNEXA_CHECKS__DISABLED", "not json")
    with pytest.raises(ConfigError, match="environment variable ANNEXA_CHECKS__DISABLED: not valid JSON"):
        load_settings(write(tmp_path, ""))


def test_environment_names_are_case_insensitive_and_whole_sections_are_json(tmp_path, monkeypatch):
    monkeypatch.setenv("annexa_runner__workers", "5")
    monkeypatch.setenv("ANNEXA_HR", '{"enabled": true, "path": "people.csv"}')
    monkeypatch.setenv("ANNEXA_SCHEDULE__SOURCES", '{"aws.iam.*": "0 3 * * *"}')
    settings, _ = load_settings(write(tmp_path, '[runner]\nworkers = 2\n[hr]\nprovider = "file"\n'))
    assert settings.runner.workers == 5
    assert settings.hr.enabled and settings.hr.path == "people.csv" and settings.hr.provider == "file"
    assert settings.schedule.cadence_for("aws.iam.users").cron == "0 3 * * *"


def test_an_environment_key_under_a_section_set_whole_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("ANNEXA_HR", '"not a table"')
    monkeypatch.setenv("ANNEXA_HR__ENABLED", "true")
    with pytest.raises(ConfigError, match="environment variable ANNEXA_HR__ENABLED: hr is set as a whole"):
        load_settings(write(tmp_path, ""))


def test_an_unknown_environment_key_in_a_section_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("ANNEXA_RUNNER__WORKRES", "3")
    with pytest.raises(
        ConfigError, match=r"^environment variable ANNEXA_RUNNER__WORKRES: \[runner\] workres: unknown key$"
    ):
        load_settings(write(tmp_path, ""))
