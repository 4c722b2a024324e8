"""Benchmark: Annexa against Prowler 5 on one seeded moto account (bench/vs_prowler_world.py).

Installs Prowler from PyPI into a venv of its own under --cache (reused when present), seeds one
account in a loopback moto server (eu-west-1 set up well, us-east-1 badly), then runs
`annexa collect` and `prowler aws --compliance iso27001_2022_aws` one after the other on the same
state and prints:
  - wall time and peak RSS of each (targets: Annexa <= 0.1x Prowler's wall time, <= 150 MB): the
    median wall time and the largest peak of --runs runs each, the two tools taking turns so that
    a machine whose speed drifts (a shared VM's) slows both alike
  - the Annex A controls each reports failing, and the difference
  - the failing resources each finds that the other misses, by check id: Prowler's only in the
    services Annexa collects, Annexa's all

Both tools reach only moto: AWS_ENDPOINT_URL points every AWS client at it, and HTTP(S)_PROXY sends
any other request to a loopback proxy that refuses and counts it (bench/vs_prowler_world.py's gate).

By default each tool makes one attempt per call: moto answers the calls it has not implemented
with HTTP 500, which both tools would retry with back-off sleeps that real AWS never causes
(--tool-retries keeps each tool's own retry policy).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.demo.setup import environment

PROWLER_VERSION = "5.46.0"
FRAMEWORK = "iso27001_2022_aws"
CACHE = Path(__file__).resolve().parents[1] / ".bench-cache"

# Prowler's service names where Annexa's source prefixes (aws.<service>.*) name them differently.
SERVICE_ALIASES = {"vpc": ("ec2",), "awslambda": ("lambda",), "inspector2": ("inspector",),
                   "cloudwatch": ("cloudwatch", "logs")}  # fmt: skip

# Identifiers Prowler makes up for a setting rather than a listed resource, rewritten to the one
# Annexa gives the same setting; and ARN spellings that differ between the two.
SAME_RESOURCE = (
    (r"^(.*):\*$", r"\1"),  # log groups: Prowler appends ':*'
    (r"^arn:aws:ec2:([^:]+):\d{12}:(image|snapshot)/", r"arn:aws:ec2:\1::\2/"),  # AWS's ARNs carry no account
    (r"^arn:aws:iam:[^:]*:(\d{12}):password-policy$", r"arn:aws:iam::\1:password-policy"),
    (r"^arn:aws:securityhub:([^:]+):(\d{12}):hub/unknown$", r"arn:aws:securityhub:\1:\2:hub/default"),
    (r"^arn:aws:guardduty:([^:]+):(\d{12}):detector/unknown$", r"arn:aws:guardduty:\1:\2:detector"),
    (r"^arn:aws:config:([^:]+):(\d{12}):recorder$", r"arn:aws:config:\1:\2:configuration-recorder"),
    (r"^arn:aws:ec2:([^:]+):(\d{12}):volume$", r"arn:aws:ec2:\1:\2:ebs-encryption-by-default"),
    (r"^arn:aws:organizations::(\d{12}):unknown$", r"arn:aws:organizations::\1:organization"),
    # no trail or log group to name: the account's audit trail / CIS alarms, one per account in Annexa
    (r"^arn:aws:cloudtrail:[^:]+:(\d{12}):trail$", r"aws:\1"),
    (r"^arn:aws:logs:[^:]+:(\d{12}):log-group$", r"aws:\1"),
)


def same_resource(resource: str) -> str:
    for pattern, replacement in SAME_RESOURCE:
        resource = re.sub(pattern, replacement, resource)
    return resource


@dataclass
class Side:
    """What one tool reported: wall seconds, peak RSS (bytes), failing controls and resources."""

    wall: float
    rss: int
    controls: set[str]
    evaluated: set[str]  # the controls it judged at all (pass or fail)
    failing: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # check -> resources


# --- Prowler -------------------------------------------------------------------------------------


def prowler_python(version: str, cache: Path) -> Path:
    """The interpreter of a venv holding prowler==version, installed on first use.

    A venv whose install did not finish (no marker) is removed and made again."""
    home = cache / f"prowler-{version}"
    python, marker = home / "bin" / "python", home / ".installed"
    if marker.is_file() and python.exists():
        return python
    shutil.rmtree(home, ignore_errors=True)
    print(f"installing prowler=={version} into {home} (once; takes minutes)", flush=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(home)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, f"prowler=={version}"], check=True)
    marker.write_text(version + "\n")
    print(f"installed in {time.perf_counter() - started:.0f} s", flush=True)
    return python


def run_prowler(python: Path, out: Path, regions: Iterable[str], retries: bool) -> tuple[float, int]:
    """`prowler aws` over the framework's checks; its output lands in `out`."""
    from bench.measure import measured_alone

    argv = [str(python), "-m", "prowler", "aws", "--compliance", FRAMEWORK, "--region", *regions,
            "--output-formats", "json-ocsf", "--output-directory", str(out), "--output-filename", "prowler",
            "--no-banner", "--no-color", "--ignore-exit-code-3",
            "--log-level", "ERROR", "--log-file", str(out / "prowler.log")]  # fmt: skip
    if not retries:
        argv += ["--aws-retries-max-attempts", "0"]
    with (out / "prowler.stderr").open("w") as err:
        wall, rss, stdout = measured_alone(argv, stderr=err)
    (out / "prowler.stdout").write_text(stdout)
    return wall, rss


def prowler_side(out: Path, wall: float, rss: int, services: set[str]) -> tuple[Side, dict[str, str]]:
    """Failing controls from Prowler's compliance CSV, failing resources from its OCSF findings
    (of the services Annexa collects). Also returns each check's service."""
    controls, evaluated = set(), set()
    for path in (out / "compliance").glob(f"*_{FRAMEWORK}.csv"):
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh, delimiter=";"):
                if row["STATUS"] in ("PASS", "FAIL"):
                    evaluated.add(row["REQUIREMENTS_ID"])
                if row["STATUS"] == "FAIL" and row["MUTED"] != "True":
                    controls.add(row["REQUIREMENTS_ID"])
    side, service_of = Side(wall, rss, controls, evaluated), {}
    for finding in json.loads((out / "prowler.ocsf.json").read_text(encoding="utf-8")):
        if finding["status_code"] != "FAIL" or finding.get("status") == "Suppressed":
            continue
        check, resource = finding["metadata"]["event_code"], finding["resources"][0]
        service_of[check] = resource["group"]["name"]
        if set(SERVICE_ALIASES.get(service_of[check], (service_of[check],))) & services:
            side.failing[check].add(same_resource(resource["uid"]))
    return side, service_of


# --- Annexa --------------------------------------------------------------------------------------


def run_annexa_collect(config: Path, store: Path) -> tuple[float, int]:
    """`annexa collect` measured, into a fresh store (`store`, the file the config names)."""
    from bench.measure import ANNEXA, measured_alone

    for stale in store.parent.glob(f"{store.name}*"):
        stale.unlink()
    with (config.parent / "annexa.stderr").open("w") as err:
        wall, rss, out = measured_alone(
            [ANNEXA, "collect", "--json", "--config", str(config)], stderr=err, ok=(0, 1)
        )
    summary = json.loads(out)
    print(
        f"annexa collect: {wall:.1f} s, run {summary['run']['status']}, observations {summary['observations']}",
        flush=True,
    )
    return wall, rss


def annexa_side(config: Path, wall: float, rss: int) -> Side:
    """Failing controls from `annexa controls`, failing resources from the store of the last collect."""
    from agent.config.settings import load_settings
    from agent.store import Store
    from agent.store.results import latest_check_runs, results_of
    from bench.measure import run_annexa

    _, _, controls = run_annexa(["controls", "--json", "--config", str(config)], ok=(0,))
    side = Side(
        wall,
        rss,
        {c["id"] for c in controls if c["status"] == "failing"},
        {c["id"] for c in controls if c["status"] in ("failing", "passing")},
    )
    settings, _ = load_settings(config)
    store = Store(settings.store.url)
    for run in latest_check_runs(store):
        if run.check_id.startswith("aws.") and run.failed:
            side.failing[run.check_id] |= {
                same_resource(r.resource_id) for r in results_of(store, run.result_set) if r.status == "fail"
            }
    return side


def annexa_config(tmp: Path, regions: Iterable[str], retries: bool) -> Path:
    """Collect the bench's regions into a fresh SQLite store; one attempt per call unless `retries`."""
    config, store = tmp / "annexa.toml", json.dumps(f"sqlite:///{tmp / 'annexa.db'}")
    attempts = "" if retries else "max_attempts = 1\n"
    config.write_text(
        f"[store]\nurl = {store}\n\n[aws]\nenabled = true\nregions = {json.dumps(list(regions))}\n{attempts}"
    )
    return config


def annexa_services() -> set[str]:
    """The AWS services Annexa collects: the <service> of every aws.<service>.<what> source."""
    from agent.plugin.loader import load_plugins

    return {s.split(".")[1] for s in load_plugins(systems=["aws"]).collectors if s.startswith("aws.")}


# --- The run -------------------------------------------------------------------------------------


@contextmanager
def moto_only(endpoint: str, proxy: str, tmp: Path) -> Iterator[None]:
    """Environment for both tools: AWS calls go to moto with fake credentials (s3control's by way
    of the proxy: see S3_CONTROL), every request not for moto's address to `proxy`
    (bench/vs_prowler_world.py's gate), and no AWS profile or config file is read."""
    from bench.vs_prowler_world import S3_CONTROL

    values = {"AWS_ENDPOINT_URL": endpoint, "AWS_ENDPOINT_URL_S3_CONTROL": f"http://{S3_CONTROL}",
              "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "eu-west-1",
              "HTTPS_PROXY": proxy, "HTTP_PROXY": proxy, "https_proxy": proxy, "http_proxy": proxy,
              "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1",
              "AWS_CONFIG_FILE": str(tmp / "no-aws-config"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "no-aws-config")}  # fmt: skip
    dropped = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ROLE_ARN", "AWS_REGION")
    with environment(values, drop=dropped):
        yield


def _typical(runs: list[tuple[float, int]]) -> tuple[float, int]:
    """The median wall time and the largest peak RSS of a tool's runs."""
    return statistics.median(wall for wall, _ in runs), max(rss for _, rss in runs)


def misses(ours: dict[str, set[str]], theirs: dict[str, set[str]]) -> dict[str, list[str]]:
    """Per check of `ours`, its failing resources that fail no check of `theirs`."""
    found = set().union(*theirs.values()) if theirs else set()
    out = {check: sorted(resources - found) for check, resources in sorted(ours.items())}
    return {check: resources for check, resources in out.items() if resources}


def report(annexa: Side, prowler: Side, service_of: dict[str, str], services: set[str]) -> dict[str, Any]:
    prowler_missed = misses(prowler.failing, annexa.failing)
    annexa_missed = misses(annexa.failing, prowler.failing)
    ratio, mb = annexa.wall / prowler.wall, annexa.rss / 1e6
    print(f"\n{'':24}{'wall s':>9}{'peak RSS MB':>13}{'controls failing':>18}")
    for name, side in (("annexa collect", annexa), (f"prowler {FRAMEWORK}", prowler)):
        print(f"{name:<24}{side.wall:9.1f}{side.rss / 1e6:13.1f}{len(side.controls):18}")
    print(f"annexa/prowler wall:    {ratio:9.3f}   (target <= 0.1: {'met' if ratio <= 0.1 else 'NOT met'})")
    print(f"annexa peak RSS:        {mb:9.1f} MB (target <= 150 MB: {'met' if mb <= 150 else 'NOT met'})")

    def ids(controls: set[str]) -> str:
        key = lambda c: [int(p) if p.isdigit() else p for p in c.split(".")]  # noqa: E731
        return ", ".join(sorted(controls, key=key)) or "-"

    both = annexa.controls & prowler.controls
    print(f"\nAnnex A controls failing in both ({len(both)}): {ids(both)}")
    for name, side, other in (("Annexa", annexa, prowler), ("Prowler", prowler, annexa)):
        only = side.controls - other.controls
        unjudged = only - other.evaluated
        print(f"failing in {name} only ({len(only)}): {ids(only)}")
        print(f"  of which the other tool does not evaluate ({len(unjudged)}): {ids(unjudged)}")

    in_scope = sum(len(r) for r in prowler.failing.values())
    print(f"\nfailing resources Prowler finds in services Annexa collects: {in_scope}; "
          f"not failed by any Annexa check: {sum(len(r) for r in prowler_missed.values())}")  # fmt: skip
    for check, resources in prowler_missed.items():
        print(f"  {check} [{service_of[check]}]")
        for resource in resources:
            print(f"      {resource}")
    total = sum(len(r) for r in annexa.failing.values())
    print(f"failing resources Annexa finds: {total}; not failed by any Prowler check: "
          f"{sum(len(r) for r in annexa_missed.values())}")  # fmt: skip
    for check, resources in annexa_missed.items():
        print(f"  {check}")
        for resource in resources:
            print(f"      {resource}")
    return {
        "annexa": {"wall_s": annexa.wall, "peak_rss_bytes": annexa.rss, "controls_failing": sorted(annexa.controls),
                   "controls_evaluated": sorted(annexa.evaluated), "failing": {k: sorted(v) for k, v in annexa.failing.items()}},
        "prowler": {"wall_s": prowler.wall, "peak_rss_bytes": prowler.rss, "controls_failing": sorted(prowler.controls),
                    "controls_evaluated": sorted(prowler.evaluated), "failing": {k: sorted(v) for k, v in prowler.failing.items()},
                    "service_of": service_of},
        "annexa_services": sorted(services), "prowler_missed_by_annexa": prowler_missed,
        "annexa_missed_by_prowler": annexa_missed,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--prowler-version", default=PROWLER_VERSION)
    parser.add_argument("--cache", type=Path, default=CACHE, help="where Prowler's venv is kept")
    parser.add_argument(
        "--keep", type=Path, help="a new or empty directory to keep both tools' outputs and report.json in"
    )
    parser.add_argument("--tool-retries", action="store_true", help="each tool's own retry policy")
    parser.add_argument(
        "--runs", type=int, default=3, help="runs of each tool, taking turns (median wall time)"
    )
    args = parser.parse_args()

    from bench.measure import served_in_child
    from bench.vs_prowler_world import REGIONS, gate, serve

    if args.keep and args.keep.exists() and any(args.keep.iterdir()):
        raise SystemExit(f"--keep {args.keep}: not empty; name a new or empty directory")
    python = prowler_python(args.prowler_version, args.cache)
    with ExitStack() as stack:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
        tmp = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        started = time.perf_counter()
        endpoint = stack.enter_context(served_in_child(serve, tmp / "moto.log"))
        proxy, refused = stack.enter_context(gate(endpoint))
        stack.enter_context(moto_only(endpoint, proxy, tmp))
        print(f"seeded one account in {', '.join(REGIONS)} at {endpoint} "
              f"in {time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
        services = annexa_services()
        config = annexa_config(tmp, REGIONS, args.tool_retries)
        annexa_runs, prowler_runs = [], []
        for n in range(1, max(args.runs, 1) + 1):
            annexa_runs.append(run_annexa_collect(config, tmp / "annexa.db"))
            out = tmp / f"prowler-{n}"
            out.mkdir()
            prowler_runs.append(run_prowler(python, out, REGIONS, args.tool_retries))
            print(f"prowler: {prowler_runs[-1][0]:.1f} s", flush=True)
        annexa = annexa_side(config, *_typical(annexa_runs))
        prowler, service_of = prowler_side(out, *_typical(prowler_runs), services)
        summary = report(annexa, prowler, service_of, services)
        summary["refused_destinations"] = sorted(set(refused))
        print(f"\nrequests for anything but moto, refused: {len(refused)} {sorted(set(refused))}")
        if args.keep:
            (args.keep / "report.json").write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
