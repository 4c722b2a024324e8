"""Scale-out: three `annexa collect --shard K/3` processes on one PostgreSQL store against a moto
Organization produce exactly what one agent produces on the same inputs."""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from agent.plugin.model import Status
from agent.plugin.scopes import target_key
from agent.run.shard import Shard
from agent.store import Store
from agent.store.results import latest_check_runs, results_of
from agent.store.schema import CheckRun, Nonconformity, Observation, Run
from tests.aws_org_seed import EXTERNAL_ID, REGIONS, ROLE, SeededOrg, seed_org
from tests.cli import ANNEXA, annexa, annexa_json

pytestmark = pytest.mark.slow


@pytest.fixture
def org(aws: str, monkeypatch: pytest.MonkeyPatch) -> SeededOrg:
    monkeypatch.delenv("MOTO_IAM_LOAD_MANAGED_POLICIES")  # member accounts need none
    return seed_org()


def _config(path: Path, url: str) -> Path:
    regions = ", ".join(f'"{r}"' for r in REGIONS)
    path.write_text(
        f'[store]\nurl = "{url}"\n\n[aws]\nenabled = true\ndiscover_organization = true\n'
        f'role_name = "{ROLE}"\nexternal_id = "{EXTERNAL_ID}"\nregions = [{regions}]\nmax_attempts = 3\n'
    )
    return path


def _collect(config: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNEXA_")}
    return subprocess.Popen(
        [ANNEXA, "collect", "--json", *args, "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _results(store: Store) -> dict[tuple[str, str], dict[str, Status]]:
    return {
        (cr.check_id, cr.scope): {r.resource_id: Status(r.status) for r in results_of(store, cr.result_set)}
        for cr in latest_check_runs(store)
    }


def _ncs(config: Path) -> set[tuple[str, str, str, str, tuple[str, ...]]]:
    docs = annexa_json("nc", "list", "--config", str(config))
    return {
        (d["check_id"], d["scope"], d["state"], d["severity"], tuple(d["failing_resources"])) for d in docs
    }


def _rows(
    store: Store,
) -> tuple[Counter[tuple[str, str]], Counter[tuple[str, str]], Counter[tuple[str, str]]]:
    with store.read() as s:
        observations = Counter(tuple(r) for r in s.execute(select(Observation.source, Observation.scope)))
        check_runs = Counter(tuple(r) for r in s.execute(select(CheckRun.check_id, CheckRun.scope)))
        ncs = Counter(tuple(r) for r in s.execute(select(Nonconformity.check_id, Nonconformity.scope)))
    return observations, check_runs, ncs


def test_three_shards_on_postgresql_equal_one_agent(org: SeededOrg, tmp_path: Path, pg_server) -> None:
    single = _config(tmp_path / "single.toml", pg_server.url(pg_server.create_database()))
    sharded = _config(tmp_path / "sharded.toml", pg_server.url(pg_server.create_database()))

    one = _collect(single)
    _out, err = one.communicate(timeout=240)
    assert one.returncode == 0, err
    agents = [_collect(sharded, "--shard", f"{k}/3") for k in (1, 2, 3)]  # all at once
    for agent in agents:
        _out, err = agent.communicate(timeout=240)
        assert agent.returncode == 0, err

    a = Store(_url_of(single))
    b = Store(_url_of(sharded))
    expected = _results(a)
    assert len(expected) > 100 and expected == _results(b)
    assert _ncs(single) == _ncs(sharded) and len(_ncs(single)) > 10

    # No lost or duplicated rows: every (source, scope) observed once, every (check, scope) judged
    # once, one NC per (check, scope), in both stores alike.
    rows_a, rows_b = _rows(a), _rows(b)
    for x, y in zip(rows_a, rows_b, strict=True):
        assert x == y, (
            sorted(set(x.items()) - set(y.items()))[:5],
            sorted(set(y.items()) - set(x.items()))[:5],
        )
    for counter in rows_b:
        assert set(counter.values()) == {1}

    # Each shard collected exactly its own targets (as the hash assigns them), and together all.
    with b.read() as s:
        runs = s.execute(select(Run).order_by(Run.id)).scalars().all()
        collected = [
            {
                target_key(scope)
                for scope in s.execute(select(Observation.scope).where(Observation.run_id == r.id)).scalars()
            }
            for r in runs
        ]
    assert len(runs) == 3 and all(r.root_hash and r.status in ("complete", "partial") for r in runs)
    owner = {
        f"aws:{acct}": next(k for k in (1, 2, 3) if Shard(k, 3).owns(f"aws:{acct}")) for acct in org.accounts
    }
    assert sorted(key for keys in collected for key in keys) == sorted(owner)  # disjoint and complete
    assert all(len({owner[key] for key in keys}) <= 1 for keys in collected)
    assert annexa("verify", "--store", "--config", str(sharded)).returncode == 0  # one linear chain


def _url_of(config: Path) -> str:
    line = next(line for line in config.read_text().splitlines() if line.startswith("url = "))
    return line.split('"')[1]
