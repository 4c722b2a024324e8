"""Identity resolution: which employee an account in Entra, AWS IAM or GCP belongs to.

Every cross-source check links accounts to people through this one module, so the rules are
the same everywhere and stated once:

1. an account carrying an employee id that HR knows is that employee's (`via="employee_id"`);
2. otherwise each identifier the account has (mail, UPN, IAM user name, GCP member email) is
   looked up, case-insensitively, in the configured aliases (`via="alias"`) and then in the
   employees' work emails (`via="email"`);
3. one person found: `matched`; none: `unmatched`; several: `ambiguous`, with the candidates —
   never a guess. A rehire's earlier, terminated record sharing the email with the current one
   is the same human and does not make the link ambiguous.

The `hr.employees` record shape the HR collectors produce (and this module reads):
resource_id `hr:<employee_id>`; data `employee_id`, `email`, `name`, `status` (`active`,
`leave`, `terminated`), `hire_date`, `termination_date` (ISO dates or null), `manager_email`,
`department`, `aliases` (account identifiers configured to belong to the person) and, when the
HR system holds them, `screening_completed`, `terms_signed`, `nda_signed`, `training_completed`
(an ISO date, true/false, or null when unknown).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from fnmatch import fnmatchcase

from agent.plugin.evidence import Evidence
from agent.plugin.model import Record
from checks._dates import days_ago

EMPLOYEES = "hr.employees"
ACTIVE, LEAVE, TERMINATED = "active", "leave", "terminated"
STATUSES = frozenset({ACTIVE, LEAVE, TERMINATED})
MATCHED, UNMATCHED, AMBIGUOUS = "matched", "unmatched", "ambiguous"


def employee_resource_id(employee_id: str) -> str:
    """The stable resource id of an employee record, whatever HR system it came from."""
    return f"hr:{employee_id}"


def normalize(identifier: str | None) -> str:
    """How identifiers are compared: trimmed and case-insensitive (mailboxes are, in practice)."""
    return (identifier or "").strip().lower()


def _date(value: object, what: str, employee_id: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value[:10])  # type: ignore[index]
    except (TypeError, ValueError):
        raise ValueError(f"employee {employee_id}: {what} {value!r} is not an ISO date") from None


@dataclass(frozen=True, slots=True)
class Person:
    """One employee from an `hr.employees` record."""

    employee_id: str
    email: str | None
    name: str
    status: str
    hire_date: date | None
    termination_date: date | None
    record: Record = field(compare=False, repr=False)

    @classmethod
    def from_record(cls, record: Record) -> Person:
        """Read a record; malformed data raises, so a check errors rather than misjudging."""
        data = record.data
        employee_id = str(data.get("employee_id") or "").strip()
        if not employee_id:
            raise ValueError(f"{record.resource_id}: employee record without employee_id")
        status = data.get("status")
        if status not in STATUSES:
            raise ValueError(f"employee {employee_id}: unknown status {status!r}")
        email = data.get("email")
        return cls(
            employee_id,
            normalize(email) or None if email else None,
            str(data.get("name") or employee_id),
            status,
            _date(data.get("hire_date"), "hire_date", employee_id),
            _date(data.get("termination_date"), "termination_date", employee_id),
            record,
        )

    def has_left(self, today: date) -> bool:
        """Terminated in HR, or past a recorded termination date (HR often updates status late)."""
        return self.status == TERMINATED or (
            self.termination_date is not None and self.termination_date <= today
        )

    @property
    def label(self) -> str:
        """How reasons name a person: name and employee id, never more personal data."""
        return f"{self.name} ({self.employee_id})"


@dataclass(frozen=True, slots=True)
class Match:
    status: str  # "matched" | "unmatched" | "ambiguous"
    person: Person | None
    via: str  # "employee_id" | "email" | "alias" | "" — how it was linked
    candidates: tuple[Person, ...] = ()

    @property
    def matched(self) -> bool:
        return self.status == MATCHED

    def describe(self) -> str:
        """A phrase for a result's reason: who the account belongs to, or why nobody."""
        if self.person is not None:
            return f"{self.person.label}, linked by {self.via.replace('_', ' ')}"
        if self.status == AMBIGUOUS:
            return "ambiguous: " + ", ".join(p.label for p in self.candidates)
        return "no employee in HR"


UNMATCHED_MATCH = Match(UNMATCHED, None, "")


class Directory:
    """The employees of the HR evidence, indexed for linking accounts in O(1) each."""

    def __init__(self, people: Iterable[Person], aliases: Mapping[str, str] | None = None) -> None:
        # One entry per employee, not a list each (tens of thousands of them are held while a whole
        # evaluation runs): the few emails several records carry are listed apart.
        self._by_id: dict[str, Person] = {}
        self._by_email: dict[str, Person] = {}
        self._sharing_email: dict[str, list[Person]] = {}
        self._aliases: dict[str, str] = {}
        self._matches: dict[str, dict[str, Match]] = {"employee_id": {}, "alias": {}, "email": {}}
        for person in people:
            if person.employee_id in self._by_id:
                raise ValueError(f"employee id {person.employee_id} appears twice in the HR evidence")
            self._by_id[person.employee_id] = person
            if person.email and self._by_email.setdefault(person.email, person) is not person:
                self._sharing_email.setdefault(person.email, [self._by_email[person.email]]).append(person)
            for alias in person.record.data.get("aliases") or ():
                self._aliases[normalize(alias)] = person.employee_id
        for alias, employee_id in (aliases or {}).items():
            self._aliases[normalize(alias)] = str(employee_id)
        for alias, employee_id in self._aliases.items():
            if employee_id not in self._by_id:
                raise ValueError(f"alias {alias} names employee id {employee_id}, which HR does not list")

    @classmethod
    def from_records(cls, employees: Iterable[Record], aliases: Mapping[str, str] | None = None) -> Directory:
        """Build from `hr.employees` records plus extra aliases (account identifier → employee id)."""
        return cls((Person.from_record(r) for r in employees), aliases)

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[Person]:
        return iter(self._by_id.values())

    def get(self, employee_id: str) -> Person | None:
        return self._by_id.get(str(employee_id).strip())

    def resolve(
        self,
        *,
        employee_id: str | None = None,
        emails: Iterable[str] = (),
        accounts: Iterable[str] = (),
    ) -> Match:
        """Link one account: by employee id, else by its emails/UPNs, else by other account names.

        `accounts` are identifiers that are not mailboxes (an IAM user name or ARN): they link
        only through aliases, or by email when they happen to be one.
        """
        if employee_id and (person := self._by_id.get(str(employee_id).strip())):
            return self._matched(person, "employee_id")
        found: dict[str, tuple[Person, str]] = {}
        for identifier in (*emails, *accounts):
            key = normalize(identifier)
            if not key:
                continue
            if key in self._aliases:
                person = self._by_id[self._aliases[key]]
                found.setdefault(person.employee_id, (person, "alias"))
                continue
            for person in self._with_email(key):
                found.setdefault(person.employee_id, (person, "email"))
        if not found:
            return UNMATCHED_MATCH
        if len(found) == 1:
            return self._matched(*next(iter(found.values())))
        candidates = tuple(sorted((p for p, _ in found.values()), key=lambda p: p.employee_id))
        return Match(AMBIGUOUS, None, "", candidates)

    def _with_email(self, email: str) -> list[Person]:
        """The employees with this work email: of several records sharing it, the one not
        terminated if exactly one is (a rehire), else all of them."""
        shared = self._sharing_email.get(email)
        if shared is not None:
            current = [p for p in shared if p.status != TERMINATED]
            return current if len(current) == 1 else shared
        person = self._by_email.get(email)
        return [person] if person is not None else []

    def _matched(self, person: Person, via: str) -> Match:
        """One match per person and way of linking, shared by every account linked that way."""
        known = self._matches[via]
        match = known.get(person.employee_id)
        if match is None:
            match = known[person.employee_id] = Match(MATCHED, person, via)
        return match


def directory(ev: Evidence) -> Directory:
    """The employees of every HR scope the check can see (aliases travel inside the records).

    Every people check of an evaluation reads the same HR evidence: its views build this once.
    """
    records = ev.records(EMPLOYEES)
    return ev.memo(("hr.directory", ev.fingerprint(EMPLOYEES)), lambda: Directory.from_records(records))


# --- how people checks word and time a leaver, and which accounts they leave alone ----------------


def exempt(name: str, patterns: Sequence[str]) -> bool:
    """Whether an account name matches one of a check's exemption globs (case-insensitive).

    Only `*` and `?` are wildcards; `[` and `]` are taken literally: account names carry them
    (GitHub Apps' logins end in `[bot]`), and as a character class `*[bot]` would exempt every name
    ending in b, o or t."""
    if not patterns:
        return False
    lowered = name.lower()
    return any(fnmatchcase(lowered, p.lower().replace("[", "[[]")) for p in patterns)


def days_late(person: Person, today: date, grace_days: int) -> int | None:
    """Days past the termination date plus grace; None while within grace. Unknown date: due now."""
    if person.termination_date is None:
        return 0
    late = (today - person.termination_date).days - grace_days
    return late if late > 0 else None


def in_grace(person: Person, today: date, grace_days: int) -> tuple[bool, str]:
    """Whether a leaver is still within the grace period, and the clause saying so."""
    late = days_late(person, today, grace_days)
    if person.termination_date is None:
        return False, "no grace period without a termination date"
    if late is not None:
        return False, f"{late} day(s) past the {grace_days}-day grace period"
    return True, f"within the {grace_days}-day grace period"


def termination(person: Person, today: date) -> str:
    """`terminated 2026-09-30 (32 days ago)`, or that HR holds no date."""
    if person.termination_date is None:
        return "terminated in HR (no termination date recorded)"
    ago = days_ago((today - person.termination_date).days)
    verb = "terminated" if person.termination_date <= today else "terminating"
    return f"{verb} {person.termination_date.isoformat()} ({ago})"
