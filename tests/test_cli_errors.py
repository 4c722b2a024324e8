"""Bad input: one line on stderr naming the problem and where, exit 2, nothing on stdout."""

from __future__ import annotations

import pytest

from tests.cli import annexa

BAD_CONFIGS = {
    "invalid TOML": ("[aws\nenabled = true\n", "invalid TOML"),
    "unknown section": ("[awz]\nenabled = true\n", "awz: unknown key"),
    "unknown key": ('[aws]\nregion = "eu-west-1"\n', "[aws] region: unknown key"),
    "wrong type": ('[runner]\nworkers = "many"\n', "[runner] workers"),
    "out of range": ("[runner]\nworkers = 0\n", "[runner] workers"),
    "bad region": ('[aws]\nregions = ["Europe"]\n', "[aws] regions"),
    "bad account id": ('[aws]\naccounts = ["12345"]\n', "[aws] accounts"),
    "bad duration": ('[schedule]\ninterval = "soon"\n', "[schedule] interval"),
    "missing secret": (
        '[entra]\nenabled = true\ntenant_id = "t"\nclient_id = "c"\nclient_secret_env = "NO_SUCH_SECRET_VAR"\n',
        "[entra] client_secret_env: environment variable NO_SUCH_SECRET_VAR",
    ),
    "hr without subdomain": (
        '[hr]\nenabled = true\nprovider = "bamboohr"\napi_key_env = "X"\n',
        "[hr] subdomain",
    ),
    "unjustified exclusion": ('[controls.excluded]\n"A.7.4" = " "\n', "needs a justification"),
    "not a database url": ('[store]\nurl = "nonsense"\n', "[store] url"),
    "store directory missing": ('[store]\nurl = "sqlite:////no/such/dir/a.db"\n', "does not exist"),
    "unknown check parameter": (
        '[aws]\nenabled = true\n[checks.params."aws.iam.access_key_rotation"]\nmax_age = 3\n',
        "max_age: unknown parameter",
    ),
}


def assert_one_line_error(proc, *needles):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config_is_one_line_naming_key_and_file(tmp_path, case):
    text, needle = BAD_CONFIGS[case]
    path = tmp_path / "annexa.toml"
    path.write_text(text)
    assert_one_line_error(annexa("collect", "--config", str(path)), needle, str(path))


def test_missing_config_file(tmp_path):
    assert_one_line_error(annexa("collect", "--config", str(tmp_path / "nope.toml")), "config file not found")


def test_config_is_a_directory(tmp_path):
    assert_one_line_error(annexa("status", "--config", str(tmp_path)), "is a directory")


def test_bad_value_from_the_environment_names_the_variable(tmp_path):
    proc = annexa("collect", cwd=tmp_path, env={"ANNEXA_AWS__MAX_ATTEMPTS": "abc"})
    assert_one_line_error(proc, "environment variable ANNEXA_AWS__MAX_ATTEMPTS", "[aws] max_attempts")


BAD_INVOCATIONS = {
    "unknown option": (["collect", "--frob"], "No such option: --frob"),
    "bad severity": (["collect", "--fail-on", "huge"], "--fail-on"),
    "missing argument": (["nc", "show"], "Missing argument"),
    "bad nc id": (["nc", "show", "banana"], "not a nonconformity id"),
    "unknown nc": (["nc", "show", "NC-0042"], "no nonconformity NC-0042"),
    "bad state": (["nc", "list", "--state", "weird"], "--state 'weird'"),
    "bad log level": (["--log-level", "loud", "status"], "--log-level 'loud'"),
    "unknown command": (["collcet"], "No such command"),
    "nothing enabled": (["collect"], "nothing to collect"),
    "unknown source": (["collect", "--source", "nope.*"], "--source 'nope.*' matches no collector"),
}


@pytest.mark.parametrize("case", sorted(BAD_INVOCATIONS))
def test_bad_invocation_is_one_line(tmp_path, case):
    args, needle = BAD_INVOCATIONS[case]
    if case == "unknown source":
        (tmp_path / "annexa.toml").write_text("[aws]\nenabled = true\n")
    assert_one_line_error(annexa(*args, cwd=tmp_path), needle)


def test_init_refuses_to_overwrite(tmp_path):
    assert annexa("init", cwd=tmp_path).returncode == 0
    assert_one_line_error(annexa("init", cwd=tmp_path), "already exists")
    assert annexa("init", "--force", cwd=tmp_path).returncode == 0
