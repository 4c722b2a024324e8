"""Scenarios for the Intune checks, with records shaped exactly as the Intune collectors emit them."""

from __future__ import annotations

from typing import Any

from agent.plugin.model import Record, Status
from tests.scenarios import ERROR, FAIL, NA, PASS, Scenario
from tests.scenarios.entra import stamp
from tests.scenarios.hr import EMPLOYEES, employee

TENANT = "intune:11111111-2222-3333-4444-555555555555"
DEVICES, POLICIES = "intune.devices.managed", "intune.policies.compliance"


def device(
    did: str,
    *,
    os: str = "Windows",
    version: str = "10.0.22631.4460",
    state: str = "compliant",
    encrypted: bool | None = True,
    jailbroken: str | None = "Unknown",
    synced: int | None = -1,
    upn: str | None = "alice@acme.com",
    owner: str = "company",
) -> Record:
    return Record(
        resource_id=did,
        data={
            "id": did,
            "deviceName": f"DEV-{did}",
            "operatingSystem": os,
            "osVersion": version,
            "complianceState": state,
            "isEncrypted": encrypted,
            "jailBroken": jailbroken,
            "lastSyncDateTime": stamp(synced) if synced is not None else None,
            "userPrincipalName": upn if upn is not None else "",
            "managedDeviceOwnerType": owner,
        },
    )


def policy(pid: str, platform: str) -> Record:
    return Record(
        resource_id=pid, data={"id": pid, "displayName": f"{platform} baseline", "platform": platform}
    )


def intune(
    check_id: str, name: str, records: dict[str, list[Record]], expected: dict[str, Status], **params: Any
) -> Scenario:
    return Scenario(check_id, name, records, expected, params=params, scope=TENANT)


def platform(name: str) -> str:
    return f"{TENANT}:platform:{name}"


ENCRYPTED = "intune.devices.encrypted"
COMPLIANT = "intune.devices.compliant"
JAILBROKEN = "intune.devices.not_jailbroken"
SYNC = "intune.devices.recent_sync"
OS_MINIMUM = "intune.devices.os_minimum"
LEAVER = "intune.devices.leaver_enrolled"
INVENTORY = "intune.devices.inventory"
COVERAGE = "intune.policies.coverage"

# Alice is current; Bob left a month ago; Dan's date passed yesterday (HR status not updated yet).
ALICE = employee("E1", "alice@acme.com")
BOB = employee("E2", "bob@acme.com", status="terminated", left=-30)
DAN = employee("E4", "dan@acme.com", left=-1)

SCENARIOS: list[Scenario] = [
    intune(
        ENCRYPTED,
        "encrypted passes, unencrypted fails, an unreported state is an error",
        {DEVICES: [device("d1"), device("d2", encrypted=False), device("d3", encrypted=None)]},
        {"d1": PASS, "d2": FAIL, "d3": ERROR},
    ),
    intune(
        ENCRYPTED,
        "no managed devices: nothing to judge",
        {DEVICES: []},
        {TENANT: NA},
    ),
    intune(
        COMPLIANT,
        "compliant passes; noncompliant, conflict, error and unknown fail; grace passes; co-managed is not Intune's",
        {
            DEVICES: [
                device("ok", state="compliant"),
                device("non", state="noncompliant"),
                device("conflict", state="conflict"),
                device("err", state="error"),
                device("unknown", state="unknown"),
                device("grace", state="inGracePeriod"),
                device("sccm", state="configManager"),
                device("odd", state="unknownFutureValue"),
            ]
        },
        {
            "ok": PASS,
            "non": FAIL,
            "conflict": FAIL,
            "err": FAIL,
            "unknown": FAIL,
            "grace": PASS,
            "sccm": NA,
            "odd": ERROR,
        },
    ),
    intune(
        COMPLIANT,
        "fail_in_grace_period makes a device in its grace period fail",
        {DEVICES: [device("grace", state="inGracePeriod")]},
        {"grace": FAIL},
        fail_in_grace_period=True,
    ),
    intune(
        JAILBROKEN,
        '"True" fails, "False" passes, "Unknown" is an error on mobile and not applicable elsewhere',
        {
            DEVICES: [
                device("root", os="Android", version="14", jailbroken="True"),
                device("clean", os="iOS", version="17.5", jailbroken="False"),
                device("ipad", os="iPadOS", version="17.5", jailbroken="Unknown"),
                device("pc", os="Windows", jailbroken="Unknown"),
                device("none", os="Android", version="14", jailbroken=None),
            ]
        },
        {"root": FAIL, "clean": PASS, "ipad": ERROR, "pc": NA, "none": ERROR},
    ),
    intune(
        SYNC,
        "a check-in within the limit passes, an older one or none at all fails",
        {
            DEVICES: [
                device("d1", synced=-3),
                device("d2", synced=-14),
                device("d3", synced=-15),
                device("d4", synced=None),
            ]
        },
        {"d1": PASS, "d2": PASS, "d3": FAIL, "d4": FAIL},
    ),
    intune(
        SYNC,
        "the limit is a parameter; a malformed timestamp is an error",
        {
            DEVICES: [
                device("d1", synced=-3),
                Record("d2", {**device("d2").data, "lastSyncDateTime": "yesterday"}),
            ]
        },
        {"d1": FAIL, "d2": ERROR},
        max_sync_days=2,
    ),
    intune(
        OS_MINIMUM,
        "versions compare numerically per OS family; an OS without a minimum is not applicable",
        {
            DEVICES: [
                device("win11", version="10.0.22631.4460"),
                device("win10-old", version="10.0.19044.5011"),
                device("win10-min", version="10.0.19045"),
                device("mac-new", os="macOS", version="14.4.1 (23E224)"),
                device("mac-old", os="macOS", version="13.6.7"),
                device("ipad", os="iPadOS", version="16.7.8"),
                device("iphone", os="iOS", version="17.10"),
                device("android", os="Android", version="12"),
                device("linux", os="Linux", version="22.04"),
                device("garbled", os="Android", version="unknown"),
            ]
        },
        {
            "win11": PASS,
            "win10-old": FAIL,
            "win10-min": PASS,
            "mac-new": PASS,
            "mac-old": FAIL,
            "ipad": FAIL,
            "iphone": PASS,
            "android": FAIL,
            "linux": NA,
            "garbled": ERROR,
        },
    ),
    intune(
        OS_MINIMUM,
        "an exact OS name overrides its family's minimum; a malformed minimum is an error",
        {DEVICES: [device("ipad", os="iPadOS", version="16.7.8"), device("mac", os="macOS", version="15.0")]},
        {"ipad": PASS, "mac": ERROR},
        min_versions={"iOS": "17.0", "iPadOS": "16.7", "macOS": "latest"},
    ),
    intune(
        LEAVER,
        "a leaver's device past grace fails; within grace and current staff pass; unlinked devices are not judged",
        {
            DEVICES: [
                device("alice-pc", upn="alice@acme.com"),
                device("bob-pc", upn="Bob@acme.com"),
                device("dan-phone", os="iOS", version="17.5", upn="dan@acme.com"),
                device("stranger", upn="contractor@partner.com"),
                device("kiosk", upn=None),
            ],
            EMPLOYEES: [ALICE, BOB, DAN],
        },
        {"alice-pc": PASS, "bob-pc": FAIL, "dan-phone": PASS},
    ),
    intune(
        LEAVER,
        "zero grace fails yesterday's leaver; an alias links an admin device; no date is due at once",
        {
            DEVICES: [
                device("dan-phone", upn="dan@acme.com"),
                device("adm", upn="adm-erin@acme.onmicrosoft.com"),
            ],
            EMPLOYEES: [
                DAN,
                employee(
                    "E5", "erin@acme.com", status="terminated", aliases=("adm-erin@acme.onmicrosoft.com",)
                ),
            ],
        },
        {"dan-phone": FAIL, "adm": FAIL},
        grace_days=0,
    ),
    intune(
        LEAVER,
        "no device links to an employee: nothing to judge",
        {DEVICES: [device("kiosk", upn=None)], EMPLOYEES: [ALICE]},
        {TENANT: NA},
    ),
    intune(
        INVENTORY,
        "a device with a primary user passes, one without fails, exempted kiosks are not applicable",
        {
            DEVICES: [
                device("d1", upn="alice@acme.com"),
                device("d2", upn=None),
                device("KIOSK-1", upn=None),
            ]
        },
        {"d1": PASS, "d2": FAIL, "KIOSK-1": NA},
        exempt_devices=["dev-kiosk-*"],
    ),
    intune(
        COVERAGE,
        "one result per platform in use: covered platforms pass, a platform without a policy fails",
        {
            POLICIES: [policy("p-win", "Windows"), policy("p-ios", "iOS"), policy("p-mob", "Windows Mobile")],
            DEVICES: [
                device("pc1"),
                device("pc2"),
                device("ipad", os="iPadOS", version="17.5"),
                device("mac", os="macOS", version="14.5"),
                device("pixel", os="AndroidForWork", version="14"),
            ],
        },
        {
            platform("Windows"): PASS,
            platform("iOS"): PASS,
            platform("macOS"): FAIL,
            platform("Android"): FAIL,
        },
    ),
    intune(
        COVERAGE,
        "no policies at all fail every platform; an exempted platform is not applicable",
        {POLICIES: [], DEVICES: [device("pc1"), device("tux", os="Linux", version="22.04")]},
        {platform("Windows"): FAIL, platform("Linux"): NA},
        exempt_platforms=["linux"],
    ),
    intune(
        COVERAGE,
        "devices without an operating system are an error, never covered by a policy of unknown platform",
        {
            POLICIES: [policy("p-odd", "unknown"), policy("p-win", "Windows")],
            DEVICES: [
                device("pc1"),
                Record("blank", {**device("blank").data, "operatingSystem": None}),
                device("said-unknown", os="Unknown"),
            ],
        },
        {platform("Windows"): PASS, platform("unknown"): ERROR, platform("Unknown"): ERROR},
    ),
    intune(
        COVERAGE,
        "a Windows PC policy does not cover Windows Mobile or Windows Phone devices",
        {
            POLICIES: [policy("p-win", "Windows")],
            DEVICES: [device("pc1"), device("phone", os="Windows Phone"), device("mob", os="WindowsMobile")],
        },
        {platform("Windows"): PASS, platform("Windows Mobile"): FAIL},
    ),
    intune(
        COVERAGE,
        "no managed devices: no platform to cover",
        {POLICIES: [policy("p-win", "Windows")], DEVICES: []},
        {TENANT: NA},
    ),
]
