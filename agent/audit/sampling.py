"""Drawing a sample an auditee cannot steer: the size rule, the reproducible selection, the document.

A population's members are ranked by SHA-256 over (seed, population digest, member id) and the
lowest ranks taken, as many as the size rule gives for the population's size. The digest is that
of the sorted member ids, so the same evidence, seed and rule always give the same members, on any
store, and anyone holding the sample document can redo the ranking by hand. The default seed is the
chain head at the period's end (agent/audit/samples.py), which the auditee cannot choose.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from agent.bundle.layout import evidence_path
from agent.canonical import canonical_json, content_hash
from agent.errors import AnnexaError
from agent.plugin.period_view import Member, Period
from agent.plugin.registry import PopulationSpec

FORMAT = "annexa-sample/1"
SELECTION = (
    "members ranked by the SHA-256 of the canonical JSON [seed, digest, member id], lowest first; "
    "digest: the SHA-256 of the canonical JSON of the sorted member ids"
)
ALL = "all"


class RuleError(ValueError):
    """A size rule that is not one (in a bundle's sample, or built by hand)."""


@dataclass(frozen=True)
class SizeRule:
    """How many members a population of a given size gives: the first tier whose `up_to` holds it
    takes "all", a count or "N%" (rounded up); larger populations give `beyond`. `override` (the
    `--size` of `annexa sample`) replaces the tiers. Never more than the population holds."""

    tiers: tuple[tuple[int, int | str], ...] = ((5, ALL), (50, 5), (250, "10%"))
    beyond: int = 25
    override: int | None = None

    def size(self, population: int) -> int:
        if self.override is not None:
            return min(self.override, population)
        for up_to, take in self.tiers:
            if population <= up_to:
                return min(_take(take, population), population)
        return min(self.beyond, population)

    def applied(self, population: int) -> str:
        """The clause of the rule that gave the size, in words."""
        if self.override is not None:
            return f"--size {self.override}"
        low = 0
        for up_to, take in self.tiers:
            if population <= up_to:
                return f"{low}-{up_to} members: {take}" + (" rounded up" if str(take).endswith("%") else "")
            low = up_to + 1
        return f"over {low - 1} members: {self.beyond}"

    def document(self) -> dict[str, Any]:
        if self.override is not None:
            return {"override": self.override}
        return {"sizes": [{"up_to": u, "take": t} for u, t in self.tiers], "beyond": self.beyond}

    @classmethod
    def of(cls, doc: Any) -> SizeRule:
        """The rule a sample document records, refusing anything else (a bundle is hostile)."""
        if not isinstance(doc, dict):
            raise RuleError("size_rule is not an object")
        if set(doc) == {"override"}:
            return cls(override=_count(doc["override"], "override"))
        if set(doc) != {"sizes", "beyond"} or not isinstance(doc["sizes"], list):
            raise RuleError("size_rule has neither sizes and beyond nor override")
        tiers: list[tuple[int, int | str]] = []
        for tier in doc["sizes"]:
            if not isinstance(tier, dict) or set(tier) != {"up_to", "take"}:
                raise RuleError("a size tier is not {up_to, take}")
            up_to, take = _count(tier["up_to"], "up_to"), tier["take"]
            if not isinstance(take, str) or take != ALL:
                take = _percent(take) if isinstance(take, str) else _count(take, "take")
            if tiers and up_to <= tiers[-1][0]:
                raise RuleError("size tiers are not in increasing order")
            tiers.append((up_to, take))
        return cls(tuple(tiers), _count(doc["beyond"], "beyond"))


def _count(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise RuleError(f"{what} is not a count of at least 1")
    return value


def _percent(take: str) -> str:
    number = take[:-1]
    if not take.endswith("%") or not number.isdigit() or not 1 <= int(number) <= 100:
        raise RuleError(f"take {take!r} is not all, a count or a percentage")
    return take


def _take(take: int | str, population: int) -> int:
    if take == ALL:
        return population
    if isinstance(take, str):
        return -(-population * int(take[:-1]) // 100)  # rounded up, in integers
    return take


def digest(ids: Sequence[str]) -> str:
    """The population's digest: SHA-256 of the canonical JSON of its sorted member ids."""
    return content_hash(sorted(ids))


def rank_key(seed: str, population_digest: str, member_id: str) -> str:
    return content_hash([seed, population_digest, member_id])


def select(ids: Sequence[str], seed: str, size: int) -> list[tuple[str, str]]:
    """The `size` members of lowest rank, each with its rank key, in rank order."""
    pop = digest(ids)
    return sorted((rank_key(seed, pop, i), i) for i in ids)[:size]


class SampleError(ValueError):
    """A population that cannot be derived from the period's evidence."""


class EvidenceUnreadable(Exception):
    """The period's evidence itself could not be read (a bundle's file is not what was sealed):
    not the population's answer, so it is raised to whoever built the period."""


def members_of(spec: PopulationSpec, period: Period) -> list[Member]:
    """The population's members, by id; what keeps it from being derived raises `SampleError`."""
    missing = [s for s in spec.needs if not period.listings.get(s)]
    if missing:
        raise SampleError(f"no sealed listing of {', '.join(missing)} in the period")
    try:
        found = list(spec.func(period.only(spec.sources)))
    except (EvidenceUnreadable, AnnexaError, SQLAlchemyError):  # reading failed, not the population
        raise
    except Exception as exc:  # a plugin's pure function over hostile data: its failure is the answer
        raise SampleError(f"{type(exc).__name__}: {exc}") from None
    by_id: dict[str, Member] = {}
    for member in found:
        if not isinstance(member, Member) or not isinstance(member.id, str) or not member.id:
            raise SampleError("the population yielded something that is not a Member with an id")
        if member.id in by_id:
            raise SampleError(f"member {member.id!r} listed twice")
        by_id[member.id] = member
    return [by_id[i] for i in sorted(by_id)]


def _read(spec: PopulationSpec, period: Period) -> dict[str, Any]:
    """Which listings the population read: how many of each source, first and last."""
    out: dict[str, Any] = {}
    for source in spec.sources:
        listings = period.listings.get(source, ())
        if listings:
            out[source] = {
                "listings": len(listings),
                "first": listings[0].collected_at.isoformat(),
                "last": listings[-1].collected_at.isoformat(),
            }
    return out


def _evidence(cited: Mapping[str, Any]) -> dict[str, Any]:
    """A citation, with the bundle file that holds a cited listing."""
    doc = dict(cited)
    if isinstance(doc.get("source"), str) and isinstance(doc.get("tree"), str):
        doc["file"] = evidence_path(doc["source"], doc["tree"])
    return doc


def sample_document(
    spec: PopulationSpec, period: Period, rule: SizeRule, seed: str, seed_from: str
) -> dict[str, Any]:
    """The sample: the population, its digest, the rule applied, the seed, and each member drawn
    with the evidence that answers the auditor's question for it. A population that cannot be
    derived gives a document saying why, with no members (never an empty population)."""
    doc: dict[str, Any] = {
        "format": FORMAT,
        "population": spec.name,
        "title": spec.title,
        "question": spec.question,
        "period": {"from": period.first.isoformat(), "to": period.last.isoformat()},
        "read": _read(spec, period),
        "seed": seed,
        "seed_from": seed_from,
        "selection": SELECTION,
        "size_rule": rule.document(),
    }
    try:
        members = members_of(spec, period)
    except SampleError as exc:
        return _as_read({**doc, "error": str(exc)})
    ids = [m.id for m in members]
    chosen = select(ids, seed, rule.size(len(ids)))
    by_id = {m.id: m for m in members}
    drawn = [
        {
            "rank": n,
            "key": key,
            "id": member_id,
            "label": by_id[member_id].label,
            "answer": dict(by_id[member_id].answer),
            "evidence": [_evidence(e) for e in by_id[member_id].evidence],
        }
        for n, (key, member_id) in enumerate(chosen, start=1)
    ]
    return _as_read(
        {
            **doc,
            "population_size": len(ids),
            "digest": digest(ids),
            "size": len(drawn),
            "size_applied": rule.applied(len(ids)),
            "members": ids,
            "sample": drawn,
        }
    )


def plain_json(value: Any) -> Any:
    """`value` as a JSON reader gets it back from a bundle (how export writes JSON, read again)."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _as_read(doc: dict[str, Any]) -> dict[str, Any]:
    read: dict[str, Any] = plain_json(doc)
    return read


def same(a: Any, b: Any) -> bool:
    return canonical_json(a) == canonical_json(b)
