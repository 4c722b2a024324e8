"""What `annexa`'s entry point sets up in its own process before running a command."""

from __future__ import annotations

import gc

from agent.cli.app import YOUNG_COLLECTION_THRESHOLD, _fewer_young_collections


def test_the_youngest_generation_is_collected_less_often_and_the_older_ones_by_the_same_rule() -> None:
    saved = gc.get_threshold()
    try:
        gc.set_threshold(700, 7, 9)
        _fewer_young_collections()
        assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, 7, 9)
        assert YOUNG_COLLECTION_THRESHOLD > 700 and gc.isenabled()
    finally:
        gc.set_threshold(*saved)
