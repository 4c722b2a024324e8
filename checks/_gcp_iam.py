"""Reading GCP IAM policies as the collectors record them: grants, members, where they apply.

Every policy of an organisation is a record of its scope; each is judged on its own, so an
inherited grant is reported once, on the resource that sets it, with the number of projects
below that inherit it. A record carrying `error` (a policy, or a project's inventory, that could
not be read) is an `error` result for that resource alone, never a pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result, Status

POLICIES = "gcp.iam.policies"
KEYS = "gcp.iam.service_account_keys"
BUCKETS = "gcp.storage.bucket_policies"

PUBLIC_MEMBERS = frozenset({"allUsers", "allAuthenticatedUsers"})
BASIC_ROLES = ("roles/owner", "roles/editor")
PERSON_PREFIXES = ("user:", "group:", "domain:")


@dataclass(frozen=True)
class Grant:
    """One member holding one role, possibly under a condition."""

    role: str
    member: str
    condition: str | None

    def describe(self) -> str:
        when = f" if '{self.condition}'" if self.condition else ""
        return f"{self.member} as {self.role}{when}"


def grants(record: Record) -> Iterator[Grant]:
    for b in record.data.get("bindings") or ():
        cond = b.get("condition")
        title = (cond.get("title") or cond.get("expression") or "a condition") if cond else None
        for member in b["members"]:
            yield Grant(b["role"], member, title)


def undeleted(member: str) -> str:
    """`deleted:user:x@y?uid=1` is still `user:x@y` for whoever recreates that address."""
    if member.startswith("deleted:"):
        return member.removeprefix("deleted:").split("?", 1)[0]
    return member


def email_of(member: str) -> str | None:
    """The address of a user, group or service-account member; None for other kinds."""
    kind, _, value = undeleted(member).partition(":")
    return value.lower() if kind in ("user", "group", "serviceAccount") and "@" in value else None


def domain_of(member: str) -> str | None:
    """The mail domain of a user, group or `domain:` member; None for other kinds."""
    member = undeleted(member)
    if member.startswith("domain:"):
        return member.removeprefix("domain:").lower()
    email = email_of(member)
    return email.rsplit("@", 1)[1] if email and member.startswith(PERSON_PREFIXES) else None


def within(domain: str, allowed: Iterable[str]) -> bool:
    """`eu.acme.com` is within `acme.com`; `notacme.com` is not."""
    return any(domain == d or domain.endswith("." + d) for d in allowed)


def where(record: Record) -> str:
    """`folders/456 (Engineering), inherited by 7 projects`: the level a grant is set at."""
    data = record.data
    text = record.resource_id
    name = data.get("display_name")
    if name and name not in text:
        text += f" ({name})"
    below = data.get("projects_below")
    if below is not None:
        text += f", inherited by {below} project{'' if below == 1 else 's'}"
    return text


def judge(record: Record, bad: list[Grant], what: str, subject: str | None = None) -> Result:
    """Fail naming every offending grant, else pass: one result per policy."""
    place = subject or where(record)
    if bad:
        shown = "; ".join(g.describe() for g in bad)
        return Result.of(record, passed=False, reason=f"{place}: {what}: {shown}")
    return Result.of(record, passed=True, reason=f"{place}: no {what}")


def unreadable(record: Record) -> Result | None:
    """The `error` result of a record that says its resource could not be read."""
    error = record.data.get("error")
    if error is None:
        return None
    reason = f"{record.resource_id} could not be read: {error}"
    return Result(record.resource_id, Status.ERROR, reason, (record.hash,) if record.hash else ())


def each_readable(records: Iterable[Record], judge: Callable[[Record], Result]) -> Iterator[Result]:
    """`judge` each record, except that an unreadable one is its own `error` result."""
    for record in records:
        yield unreadable(record) or judge(record)


def judge_inventory(
    ev: Evidence, source: str, what: str, judge: Callable[[Record], Result]
) -> Iterator[Result]:
    """`judge` each resource of a deep inventory; a scope without any says so (not applicable)."""
    records = ev.records(source)
    if not records:
        yield none_in_scope(ev, what)
    yield from each_readable(records, judge)


def judge_policies(
    records: Iterable[Record], what: str, offends: Callable[[Grant], bool]
) -> Iterator[Result]:
    """One result per readable policy, failing it for every grant that `offends`."""
    yield from each_readable(records, lambda r: judge(r, [g for g in grants(r) if offends(g)], what))


def none_in_scope(ev: Evidence, what: str) -> Result:
    """The scope itself, not applicable: it has none of what the check judges, and says so."""
    resource = ev.scope.removeprefix("gcp:")
    return Result(resource, Status.NOT_APPLICABLE, f"{resource} has no {what}")
