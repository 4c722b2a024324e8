"""An evaluation's outcome as the period reads it: its own if the row still matches its sealed hash,
else `error` (an edited outcome proves nothing), as `latest_check_runs` reads the newest one.

A year of daily runs over hundreds of checks and scopes is some 100,000 rows to re-hash, and the
general canonicaliser spends most of its time making sure nothing needs normalising. When no text
of the row needs it (printable ASCII without quotes or backslashes: nothing to escape, nothing to
NFC-normalise) the canonical JSON of `agent.store.hashing.check_run_hash` is written out directly,
byte for byte the same; any other row goes through `check_run_hash` itself.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from agent.store.hashing import COUNTS, check_run_hash

_PLAIN = re.compile(r"[ !#-\[\]-~]*")  # printable ASCII but `"` and `\`: written as is, never normalised


def sealed_outcome(run_uid: str, row: tuple[Any, ...], digest: str) -> str:
    """The outcome of `row` (check id, scope, time in ISO 8601, outcome, passed, failed, errored,
    not applicable, result set: the columns `check_run_hash` takes) if its hash is `digest`, else
    `error`."""
    check, scope, at, outcome, passed, failed, errored, na, results = row
    texts = (run_uid, check, scope, at, outcome, results)
    counts = (passed, failed, errored, na)
    if (
        all(type(t) is str for t in texts)
        and all(type(n) is int for n in counts)
        and _PLAIN.fullmatch("".join(texts)) is not None
    ):
        text = (
            f'{{"at":"{at}","check":"{check}","counts":{{"errored":{errored},"failed":{failed},'
            f'"not_applicable":{na},"passed":{passed}}},"outcome":"{outcome}","results":"{results}",'
            f'"run":"{run_uid}","scope":"{scope}"}}'
        )
        found = hashlib.sha256(text.encode()).hexdigest()
    else:
        columns = ("check_id", "scope", "evaluated_at", "outcome", *COUNTS, "result_set")
        found = check_run_hash(
            run_uid, dict(zip(columns, (check, scope, at, outcome, *counts, results), strict=True))
        )
    return str(outcome) if found == digest else "error"
