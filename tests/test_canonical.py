from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.canonical import NotCanonicalisable, canonical_json, content_hash
from agent.store.hashing import HASHED_TOGETHER, result_set_hash

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def _reordered(value):
    if isinstance(value, dict):
        return {k: _reordered(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reordered(v) for v in value]
    return value


@given(json_values)
def test_key_order_never_changes_the_hash(value):
    assert content_hash(_reordered(value)) == content_hash(value)


@given(st.text(min_size=1, max_size=20))
def test_unicode_normal_forms_hash_equally(text):
    assert content_hash({"name": unicodedata.normalize("NFD", text)}) == content_hash(
        {"name": unicodedata.normalize("NFC", text)}
    )


@given(st.integers(-(2**52), 2**52))
def test_integral_floats_hash_like_integers(number):
    assert content_hash({"n": float(number)}) == content_hash({"n": number})


@given(json_values, json_values)
def test_different_data_hashes_differently(a, b):
    if canonical_json(a) != canonical_json(b):
        assert content_hash(a) != content_hash(b)


def test_a_changed_value_changes_the_hash():
    assert content_hash({"mfa_active": "true"}) != content_hash({"mfa_active": "false"})


def test_canonical_form_is_compact_and_sorted():
    assert canonical_json({"b": 1, "a": [1.0, "é"]}) == '{"a":[1,"é"],"b":1}'


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), {1: "x"}, object()])
def test_values_json_cannot_hold_are_rejected(bad):
    with pytest.raises(NotCanonicalisable):
        canonical_json({"v": bad})


@pytest.mark.parametrize("count", [0, 1, HASHED_TOGETHER, HASHED_TOGETHER + 1, 2 * HASHED_TOGETHER + 7])
def test_a_result_set_hashed_in_batches_hashes_as_its_whole_list(count):
    rows = [
        {
            "resource_id": f"r{n:05}",
            "status": "fail",
            "reason": f"é\u0301 {n}",
            "evidence": [f"{n:064x}"],
            "x": 1,
        }
        for n in range(count)
    ]
    whole = [{k: v for k, v in r.items() if k != "x"} for r in rows]  # other columns are not hashed
    assert result_set_hash(iter(rows)) == result_set_hash(rows) == content_hash(whole)
