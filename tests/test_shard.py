"""Shard assignment: deterministic, disjoint, complete, and whole targets at a time."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.errors import UsageError
from agent.plugin.scopes import target_key, without_superseded
from agent.run.shard import Shard

scopes = st.builds(
    lambda system, target, parts: ":".join([system, target, *parts]),
    st.sampled_from(["aws", "gcp", "entra", "hr"]),
    st.text("0123456789abcdef/", min_size=1, max_size=14),
    st.lists(st.sampled_from(["eu-west-1", "us-east-1", "x"]), max_size=2),
)


@given(scopes, st.integers(1, 12))
def test_every_scope_belongs_to_exactly_one_shard_with_its_whole_target(scope, total):
    owners = [k for k in range(1, total + 1) if Shard(k, total).owns(scope)]
    assert len(owners) == 1
    assert Shard(owners[0], total).owns(target_key(scope))  # the account and its regions go together


def test_assignment_is_stable_and_spreads_targets():
    accounts = [f"aws:{n:012d}" for n in range(3000)]
    counts = [sum(Shard(k, 3).owns(a) for a in accounts) for k in (1, 2, 3)]
    assert sum(counts) == 3000 and min(counts) > 900
    assert Shard(2, 3).owns("aws:000000000007") == Shard.parse("2/3").owns("aws:000000000007:eu-west-1")


def test_bare_system_scopes_belong_to_every_shard():
    assert all(Shard(k, 4).owns("aws") for k in range(1, 5))


@pytest.mark.parametrize(
    ("text", "message"),
    [("0/3", "K must be between 1 and 3"), ("4/3", "K must be between 1 and 3"), ("1/0", "N must be"),
     ("two/3", "expected K/N"), ("1/2000", "N must be")],
)  # fmt: skip
def test_bad_shards_are_usage_errors(text, message):
    with pytest.raises(UsageError, match=message):
        Shard.parse(text)


def test_a_stand_in_scope_is_superseded_only_by_newer_parts():
    items = [("aws", 1), ("aws:1", 2), ("aws:1:eu-west-1", 3), ("aws:2", 5), ("aws:2:eu-west-1", 4)]
    kept = without_superseded(items, lambda i: i[0], lambda i: i[1])
    assert [i[0] for i in kept] == ["aws:1:eu-west-1", "aws:2", "aws:2:eu-west-1"]
