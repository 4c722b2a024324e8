"""Intune checks: managed devices encrypted, compliant, current and accounted for.

One result per managed device (per platform in use for policy coverage), in the Intune tenant's
scope; leavers' devices are judged against the employees of every HR scope, linked through
`checks._identity` by the device's primary user.
"""

from __future__ import annotations

from collections.abc import Iterator

from agent.plugin import check
from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result, Status
from checks._accounts import ACCOUNT_SOURCES
from checks._dates import days_ago, days_between, parse_timestamp
from checks._directory import Timelines
from checks._identity import EMPLOYEES, directory, exempt, in_grace
from checks._intune import (
    DEVICES,
    POLICIES,
    at_least,
    device_name,
    family,
    minimum_for,
    unknown,
    version,
)
from checks._judging import or_nothing_to_judge

# What Intune's compliance states mean, as a reason says it.
FAILING_STATES = {
    "noncompliant": "noncompliant: it does not meet its compliance policies",
    "conflict": "in conflict: compliance policies assigned to it contradict each other",
    "error": "in error: Intune failed to evaluate its compliance",
}
# Intune judges jailbreak/root only on mobile platforms; elsewhere it reports "Unknown" by design.
JAILBREAK_DETECTED_ON = ["iOS", "Android"]
MIN_VERSIONS = {"Windows": "10.0.19045", "macOS": "14.0", "iOS": "17.0", "Android": "13"}
EXAMPLES = 10  # devices a coverage failure cites and names


@check(
    "intune.devices.encrypted",
    title="Managed devices encrypt their storage",
    controls={
        "A.8.1": "Information on user endpoint devices is protected; storage encryption is the baseline.",
        "A.8.24": "Disk encryption is the use of cryptography that protects data on a lost device.",
        "A.7.9": "Devices carried off-premises are protected against loss and theft by encryption.",
        "A.7.10": "Storage media inside devices stay unreadable to whoever ends up holding them.",
    },
    severity="major",
    needs=[DEVICES],
    rationale="A lost or stolen unencrypted laptop or phone hands its data to whoever holds it.",
    remediation="Enforce BitLocker, FileVault or the platform's encryption with an Intune configuration profile, "
    "require encryption in the compliance policy, and follow up each device until it reports encrypted.",
)
@or_nothing_to_judge("managed devices")
def devices_encrypted(ev: Evidence) -> Iterator[Result]:
    """Each device must report its storage encrypted; an unreported state cannot pass."""
    for device in ev.records(DEVICES):
        state = device.data.get("isEncrypted")
        if not isinstance(state, bool):
            yield Result.error(device.resource_id, f"{device_name(device)}: encryption state not reported")
            continue
        said = "encrypted" if state else "not encrypted"
        yield Result.of(device, passed=state, reason=f"{device_name(device)}: storage {said}")


@check(
    "intune.devices.compliant",
    title="Managed devices meet their compliance policies",
    controls={
        "A.8.1": "Endpoint devices are verified against the organisation's configuration rules.",
        "A.8.9": "Compliance evaluation shows the required security configuration is in place.",
        "A.6.7": "Remote workers' devices are held to the same rules wherever they are used.",
    },
    severity="minor",
    needs=[DEVICES],
    rationale="A noncompliant device is running without the protections the policy says every device has.",
    remediation="Have the device's user fix what the compliance report names (update, encrypt, set a passcode), "
    "resolve conflicting policy assignments, and block noncompliant devices with conditional access.",
    params={"fail_in_grace_period": False},
)
@or_nothing_to_judge("managed devices")
def devices_compliant(ev: Evidence) -> Iterator[Result]:
    """Compliant passes; noncompliant, conflict and error fail; unknown fails as not shown compliant."""
    # In its grace period a device already fails its policies, but the policy's own "mark noncompliant
    # after N days" leaves its user that long to fix it: the organisation's chosen remediation window,
    # as people checks grant `grace_days` to offboarding. It passes, saying so, unless
    # `fail_in_grace_period`; once the window lapses Intune reports it noncompliant and it fails.
    grace_fails = bool(ev.param("fail_in_grace_period"))
    for device in ev.records(DEVICES):
        name, state = device_name(device), device.data.get("complianceState")
        if state == "compliant":
            yield Result.of(device, passed=True, reason=f"{name}: compliant")
        elif state in FAILING_STATES:
            yield Result.of(device, passed=False, reason=f"{name}: {FAILING_STATES[str(state)]}")
        elif state == "inGracePeriod":
            reason = f"{name}: noncompliant, within the grace period its compliance policy allows to fix it"
            yield Result.of(device, passed=not grace_fails, reason=reason)
        elif state == "unknown":
            # Not evaluated (no policy applies, or no check-in since enrolment): nothing shows the
            # device meets the rules, so it cannot pass.
            reason = (
                f"{name}: compliance unknown, Intune has not evaluated it (no policy applies or no check-in)"
            )
            yield Result.of(device, passed=False, reason=reason)
        elif state == "configManager":
            yield Result.not_applicable(
                device,
                f"{name}: compliance is evaluated by Configuration Manager (co-management), not Intune",
            )
        else:
            yield Result.error(device.resource_id, f"{name}: unrecognised compliance state {state!r}")


@check(
    "intune.devices.not_jailbroken",
    title="Managed mobile devices are not jailbroken or rooted",
    controls={
        "A.8.1": "A jailbroken endpoint has lost the platform protections the device's security relies on.",
        "A.8.7": "Jailbreaking disables the sandboxing and code signing that keep malware out.",
    },
    severity="major",
    needs=[DEVICES],
    rationale="A jailbroken or rooted device runs unsigned code with its sandbox off: company data on it is exposed.",
    remediation="Remove company data and access from the device (retire it in Intune), have it restored to a "
    "supported OS before re-enrolment, and mark jailbroken devices noncompliant in the compliance policy.",
    params={"detected_on": JAILBREAK_DETECTED_ON},
)
@or_nothing_to_judge("managed devices")
def devices_not_jailbroken(ev: Evidence) -> Iterator[Result]:
    """`jailBroken` "False" passes, "True" fails; "Unknown" is an error where Intune detects jailbreaks."""
    detected_on = {str(p).casefold() for p in ev.param("detected_on")}
    for device in ev.records(DEVICES):
        name, state = device_name(device), str(device.data.get("jailBroken")).casefold()
        platform = family(device.data.get("operatingSystem"))
        if state in ("true", "false"):
            said = "jailbroken or rooted" if state == "true" else "not jailbroken"
            yield Result.of(device, passed=state == "false", reason=f"{name} ({platform}): {said}")
        elif state == "unknown" and platform.casefold() not in detected_on:
            yield Result.not_applicable(device, f"{name}: Intune does not detect jailbreaks on {platform}")
        else:
            reason = f"{name} ({platform}): jailbreak state {device.data.get('jailBroken')!r}, Intune could not tell"
            yield Result.error(device.resource_id, reason)


@check(
    "intune.devices.recent_sync",
    title="Managed devices have checked in with Intune recently",
    controls={
        "A.8.1": "Only a device that checks in receives policy updates and reports its real state.",
    },
    severity="minor",
    needs=[DEVICES],
    rationale="A device that stopped syncing reports a stale state and gets no new policy: lost, wiped or evading.",
    remediation="Find the device with its user: sync it, or retire it from Intune if it is lost or no longer used "
    "(and consider a device clean-up rule for stale devices).",
    params={"max_sync_days": 14},
)
@or_nothing_to_judge("managed devices")
def devices_recent_sync(ev: Evidence) -> Iterator[Result]:
    """The last check-in must be within `max_sync_days`; a device that never checked in fails."""
    limit = int(ev.param("max_sync_days"))
    for device in ev.records(DEVICES):
        name = device_name(device)
        try:
            synced = parse_timestamp(device.data.get("lastSyncDateTime"))
        except ValueError as exc:
            yield Result.error(device.resource_id, f"{name}: {exc}")
            continue
        if synced is None:
            yield Result.of(device, passed=False, reason=f"{name}: never checked in (limit {limit} days)")
            continue
        age = days_between(synced, ev.now)
        reason = f"{name}: last check-in {synced.date().isoformat()} ({days_ago(age)}, limit {limit} days)"
        yield Result.of(device, passed=age <= limit, reason=reason)


@check(
    "intune.devices.os_minimum",
    title="Managed devices run at least the minimum supported OS version",
    controls={
        "A.8.8": "Outdated operating systems carry known, exploitable vulnerabilities that updates fix.",
    },
    severity="minor",
    needs=[DEVICES],
    rationale="An OS below the supported minimum misses security fixes, often for vulnerabilities exploited in the wild.",
    remediation="Update the device (or replace it if it cannot run a supported version); enforce update rings and a "
    "minimum OS version in the compliance policy.",
    params={"min_versions": MIN_VERSIONS},
)
@or_nothing_to_judge("managed devices")
def devices_os_minimum(ev: Evidence) -> Iterator[Result]:
    """`osVersion` at or above the minimum set for the device's OS (or its family), compared numerically."""
    minimums = dict(ev.param("min_versions"))
    for device in ev.records(DEVICES):
        name, os_name = device_name(device), device.data.get("operatingSystem")
        found = minimum_for(os_name, minimums)
        if found is None:
            yield Result.not_applicable(
                device, f"{name}: no minimum version configured for {os_name or 'its OS'}"
            )
            continue
        key, minimum = found
        current, wanted = version(device.data.get("osVersion")), version(minimum)
        if wanted is None:
            yield Result.error(device.resource_id, f"min_versions {key}: {minimum!r} is not a version")
        elif current is None:
            reason = f"{name}: osVersion {device.data.get('osVersion')!r} is not a version"
            yield Result.error(device.resource_id, reason)
        else:
            reason = f"{name}: {os_name} {device.data.get('osVersion')} (minimum {minimum})"
            yield Result.of(device, passed=at_least(current, wanted), reason=reason)


@check(
    "intune.devices.leaver_enrolled",
    title="Leavers' devices are no longer enrolled to them",
    controls={
        "A.5.11": "Assets in a leaver's hands are returned (or wiped) when employment ends.",
        "A.6.5": "A device still enrolled to a former employee keeps company data and access after they left.",
    },
    severity="major",
    needs=[DEVICES, EMPLOYEES],
    context=ACCOUNT_SOURCES,
    rationale="A leaver's enrolled device still holds company data and, often, signed-in sessions.",
    remediation="Recover the device and wipe or retire it in Intune (or re-assign it to its new user), then fix the "
    "offboarding step that missed it.",
    params={"grace_days": 1},
)
@or_nothing_to_judge("devices of employees")
def devices_leaver_enrolled(ev: Evidence) -> Iterator[Result]:
    """Devices whose primary user links to an employee: a leaver's past grace fails, others pass."""
    days = int(ev.param("grace_days"))
    people = directory(ev)
    today = ev.now.date()
    timelines = Timelines(ev)
    for device in ev.records(DEVICES):
        user = device.data.get("userPrincipalName")
        person = people.resolve(emails=[str(user)]).person if user else None
        if person is None:
            continue  # no primary user, or nobody in HR: intune.devices.inventory and the people checks say so
        name = device_name(device)
        if not person.has_left(today):
            reason = f"{name}: primary user {person.label} is a current employee"
            yield Result.of(device, person.record, passed=True, reason=reason)
            continue
        within, clause = in_grace(person, today, days)
        told = timelines.of(person)
        reason = f"{name}: still enrolled to {told.text}; {clause}"
        yield Result.of(device, *told.records, passed=within, reason=reason)


@check(
    "intune.devices.inventory",
    title="Every managed device has a primary user",
    controls={
        "A.5.9": "The asset inventory names an owner for each device.",
    },
    severity="ofi",
    needs=[DEVICES],
    rationale="A device without a primary user is an asset nobody answers for: it is not returned, reviewed or wiped.",
    remediation="Set the device's primary user in Intune, or exempt documented shared or kiosk devices with "
    "exempt_devices (device name patterns).",
    params={"exempt_devices": []},
)
@or_nothing_to_judge("managed devices")
def devices_inventory(ev: Evidence) -> Iterator[Result]:
    """Each device must name its primary user (`userPrincipalName`)."""
    patterns = list(ev.param("exempt_devices"))
    for device in ev.records(DEVICES):
        name, user = device_name(device), device.data.get("userPrincipalName")
        if exempt(name, patterns):
            yield Result.not_applicable(device, f"{name} is exempted by exempt_devices")
        elif user:
            yield Result.of(device, passed=True, reason=f"{name}: primary user {user}")
        else:
            owner = device.data.get("managedDeviceOwnerType") or "unknown"
            reason = f"{name}: no primary user ({owner}-owned), an asset without an owner"
            yield Result.of(device, passed=False, reason=reason)


def _platforms(ev: Evidence) -> dict[str, list[Record]]:
    found: dict[str, list[Record]] = {}
    for device in ev.records(DEVICES):
        found.setdefault(family(device.data.get("operatingSystem")), []).append(device)
    return found


@check(
    "intune.policies.coverage",
    title="Every platform with managed devices has a compliance policy",
    controls={
        "A.8.1": "Each kind of endpoint in use has rules that define a securely configured device.",
        "A.8.9": "The required configuration is stated for every platform, so drift from it can be seen.",
    },
    severity="minor",
    needs=[POLICIES, DEVICES],
    rationale="Devices of a platform without a compliance policy are never evaluated (and read as compliant by "
    "default): nothing says what secure means for them.",
    remediation="Create a compliance policy for the platform (encryption, passcode, minimum OS, jailbreak) and "
    "assign it to its users; exempt a platform Intune cannot evaluate with exempt_platforms.",
    params={"exempt_platforms": []},
)
@or_nothing_to_judge("platforms with managed devices")
def policies_coverage(ev: Evidence) -> Iterator[Result]:
    """One result per platform in use: passes when at least one compliance policy is written for it."""
    exempted = {str(p).casefold() for p in ev.param("exempt_platforms")}
    policies = ev.records(POLICIES)
    for platform, devices in sorted(_platforms(ev).items()):
        resource = f"{ev.scope}:platform:{platform}"
        count = f"{len(devices)} managed device(s)"
        if platform.casefold() in exempted:
            yield Result(
                resource, Status.NOT_APPLICABLE, f"{platform} ({count}) is exempted by exempt_platforms"
            )
            continue
        if unknown(platform):
            # No operating system reported: which policy governs these devices cannot be told, and a
            # policy whose platform is unknown too must not read as covering them.
            yield Result.error(resource, f"{platform} ({count}): operating system not reported")
            continue
        covering = sorted(
            (p for p in policies if p.data.get("platform") == platform), key=lambda p: p.resource_id
        )
        if covering:
            names = ", ".join(repr(p.data.get("displayName")) for p in covering)
            yield Result.of(
                *covering, passed=True, reason=f"{platform} ({count}): {names}", resource_id=resource
            )
            continue
        shown = sorted(devices, key=lambda d: d.resource_id)[:EXAMPLES]
        more = f" and {len(devices) - len(shown)} more" if len(devices) > len(shown) else ""
        names = ", ".join(device_name(d) for d in shown) + more
        reason = f"{platform} ({count}: {names}): no compliance policy"
        yield Result.of(*shown, passed=False, reason=reason, resource_id=resource)
