"""Hostile strings from an HR export, a file name and arguments stay inert in every output.

The data goes through the real pipeline (HR file collector, checks, NCs) and out through the real
console script. Output is piped, so Rich emits no styling of its own: any ESC byte came from data.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

import pytest

from agent.bundle.signing import create_key_pair
from agent.literal import literal
from tests.browser import headless
from tests.cli import annexa, annexa_json

pytestmark = pytest.mark.slow

# The export's file stem is the scope (hr:file:<stem>): a screen clear and a markup tag.
STEM = "acme\x1b[2J[blink]"
SCOPE = f"hr:file:{STEM}"
OSC8_LINK = "\x1b]8;;https://evil.example\x07x\x1b]8;;\x07"
MARKUP_LINK = "[link=https://evil.example/]Erik[/link]"
HTML = "<img src=x onerror=alert(1)>"
PEOPLE = {  # employee id -> name; nobody has a signed NDA, so each is a failing resource
    "[/]": "[bold red]Mallory[/]",
    "e2": MARKUP_LINK,
    "e3": OSC8_LINK,
    "e4": "Eve\u202egnp.exe",
    HTML: "Ivy",
}
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]")  # anything but the newlines between lines


def test_literal_names_every_control_and_keeps_the_rest():
    assert literal("\x00\t\n\r\x1b[31m\x7f\x85\x9b") == "\\x00\\x09\\x0a\\x0d\\x1b[31m\\x7f\\x85\\x9b"
    assert literal("a\u202eb\u2066c\u2028d\u200f") == "a\\u202eb\\u2066c\\u2028d\\u200f"
    assert literal("C:\\Users\\ana [b]é 東京 👩\u200d💻") == "C:\\Users\\ana [b]é 東京 👩\u200d💻"
    assert literal(3) == "3"


def write_config(tmp_path: Path, hr_path: Path) -> Path:
    create_key_pair(tmp_path / "signing.key")
    config = tmp_path / "annexa.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "store.db"}"\n'
        f'[hr]\nenabled = true\nprovider = "file"\npath = {json.dumps(str(hr_path))}\n'
        '[export]\nsigning_key = "signing.key"\n'
    )
    return config


@pytest.fixture
def hostile(tmp_path) -> Path:
    """A store holding one NC whose scope, failing resources and reasons are hostile."""
    export = tmp_path / f"{STEM}.csv"
    with export.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["employee_id", "name", "status", "nda_signed"])
        writer.writerows([employee_id, name, "active", ""] for employee_id, name in PEOPLE.items())
    config = write_config(tmp_path, export)
    doc = annexa_json("collect", "--config", str(config))
    assert doc["observations"] == {"ok": 1, "error": 0}
    return config


def assert_inert(proc) -> None:
    """Neither stdout nor the logs carry a control character or bidi override from data."""
    assert not UNSAFE.search(proc.stdout), proc.stdout
    assert not UNSAFE.search(proc.stderr), proc.stderr


def test_collect_summary_shows_a_hostile_scope_literally(hostile):
    proc = annexa("check", "--config", str(hostile))
    assert proc.returncode == 0, proc.stderr
    assert_inert(proc)
    assert "hr:file:acme\\x1b[2J[blink]" in proc.stdout and "NC-0001" in proc.stdout


def test_nc_list_and_show_print_hostile_data_literally(hostile):
    listed = annexa("nc", "list", "--config", str(hostile))
    assert listed.returncode == 0, listed.stderr
    assert_inert(listed)
    assert "hr:file:acme\\x1b[2J[blink]" in listed.stdout
    shown = annexa("nc", "show", "NC-0001", "--config", str(hostile))
    assert shown.returncode == 0, shown.stderr
    assert_inert(shown)
    for text in (
        "scope: hr:file:acme\\x1b[2J[blink]",
        "- hr:[/]: [bold red]Mallory[/] ([/])",
        f"- hr:e2: {MARKUP_LINK} (e2)",
        "- hr:e3: \\x1b]8;;https://evil.example\\x07x\\x1b]8;;\\x07 (e3)",
        "- hr:e4: Eve\\u202egnp.exe (e4)",
        f"- hr:{HTML}: Ivy",
    ):
        assert text in shown.stdout, shown.stdout
    assert annexa_json("nc", "show", "NC-0001", "--config", str(hostile))["scope"] == SCOPE  # data is kept


def test_on_a_terminal_our_styles_apply_and_data_makes_no_link(hostile):
    proc = annexa(
        "nc", "show", "NC-0001", "--config", str(hostile), env={"FORCE_COLOR": "1", "TERM": "xterm-256color"}
    )
    assert proc.returncode == 0, proc.stderr
    assert "\x1b[1mNC-0001\x1b[0m" in proc.stdout  # our bold survives
    assert "\x1b]8;" not in proc.stdout and "\x07" not in proc.stdout  # no OSC 8 hyperlink at all
    assert f"hr:e2: {MARKUP_LINK}" in proc.stdout


def test_status_and_logs_show_a_hostile_source_error_literally(tmp_path):
    config = write_config(tmp_path, Path(f"{STEM}{OSC8_LINK}.csv"))  # no such file; short, so not cropped
    collected = annexa("collect", "--config", str(config), cwd=tmp_path)
    assert "collector_failed" in collected.stderr  # the log line quoting the error, escaped
    assert_inert(collected)
    proc = annexa("status", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    assert_inert(proc)
    assert "acme\\x1b[2J[blink]\\x1b]8;;https:" in proc.stdout  # the error names the file
    assert "evil.example\\x07x\\x1b]8;;\\x07" in proc.stdout  # the scope is the file's stem


def test_error_lines_show_arguments_literally(tmp_path):
    proc = annexa("status", "--config", str(tmp_path / f"{OSC8_LINK}[/].toml"))
    assert proc.returncode == 2
    assert not UNSAFE.search(proc.stderr) and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert "/\\x1b]8;;https:/evil.example\\x07x\\x1b]8;;\\x07[/].toml: config file not found" in proc.stderr


def test_statement_of_applicability_holds_no_formula(tmp_path):
    config = tmp_path / "annexa.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "store.db"}"\n'
        '[controls.excluded]\n"A.7.4" = "@SUM(1+9)*cmd|\' /C calc\'!A0"\n'
    )
    policy = tmp_path / '=HYPERLINK("evil.example","x")'
    policy.write_bytes(b"policy v3")
    assert annexa("attest", "A.5.1", "--file", str(policy), "--config", str(config)).returncode == 0

    rows = {
        r["control"]: r for r in csv.DictReader(io.StringIO(annexa("soa", "--config", str(config)).stdout))
    }
    assert rows["A.5.1"]["attestation"] == '\'=HYPERLINK("evil.example","x")'
    assert rows["A.7.4"]["justification"] == "'@SUM(1+9)*cmd|' /C calc'!A0"
    assert rows["A.5.1"]["resources_failing"] == "0"

    out = tmp_path / "soa.xlsx"
    assert annexa("soa", "--format", "xlsx", "--out", str(out), "--config", str(config)).returncode == 0
    with zipfile.ZipFile(out) as zf:
        sheets = [zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any("<f>" in s or "<f " in s for s in sheets)
    from openpyxl import load_workbook

    sheet = load_workbook(out).active
    by_control = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert by_control["A.5.1"][12] == '\'=HYPERLINK("evil.example","x")'
    assert by_control["A.7.4"][4].startswith("'@SUM")
    assert by_control["A.5.1"][8] == 0  # numbers stay numbers


def test_html_report_has_a_strict_csp_and_escapes_hostile_strings(hostile, tmp_path):
    bundle = tmp_path / "audit.zip"
    annexa_json("export", "--out", str(bundle), "--config", str(hostile))
    with zipfile.ZipFile(bundle) as zf:
        html = zf.read("index.html").decode()
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html)
    assert policy, html[:600]
    directives = dict(d.strip().split(" ", 1) for d in policy.group(1).split(";"))
    assert directives["default-src"] == "'none'" and "script-src" not in directives
    assert directives["base-uri"] == "'none'" and directives["form-action"] == "'none'"
    (style,) = re.findall(r"<style>(.*?)</style>", html, re.S)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert directives["style-src"] == f"'sha256-{digest}'"
    assert "<img" not in html and "hr:&lt;img src=x onerror=alert(1)&gt;" in html

    page = tmp_path / "index.html"
    page.write_text(html, encoding="utf-8")
    browser = headless(page, tmp_path / "profile", "--dump-dom")
    assert "Content Security Policy" not in browser.stderr  # the hash admits our stylesheet, nothing else
    assert "Content-Security-Policy" in browser.stdout and "<img" not in browser.stdout
    assert "hr:&lt;img src=x onerror=alert(1)&gt;" in browser.stdout
