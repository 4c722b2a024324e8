"""Reading the Intune records the collectors emit: device names, platform families, OS versions.

Devices report `operatingSystem` as Intune saw it (`Windows`, `iOS`, `iPadOS`, `Android`,
`AndroidForWork`, `macOS`, ...); compliance policies are written per platform. Both are reduced
to the same family names here, so the coverage and OS-version checks compare like with like.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from agent.plugin.model import Record

DEVICES = "intune.devices.managed"
POLICIES = "intune.policies.compliance"
UNKNOWN = "unknown"
_VERSION = re.compile(r"\d+(?:\.\d+)*")
# Family by prefix of the case-folded operating system name, first match wins. Windows Mobile and
# Windows Phone come before Windows: a Windows PC policy does not govern them (collectors/intune/policies.py).
_FAMILIES = (
    ("windows mobile", "Windows Mobile"),
    ("windowsmobile", "Windows Mobile"),
    ("windows phone", "Windows Mobile"),
    ("windowsphone", "Windows Mobile"),
    ("windows", "Windows"),
    ("mac", "macOS"),
    ("ios", "iOS"),
    ("ipados", "iOS"),
    ("android", "Android"),
)


def device_name(device: Record) -> str:
    return str(device.data.get("deviceName") or device.resource_id)


def family(operating_system: object) -> str:
    """`iOS` for iPadOS, `Android` for AndroidForWork: the platform a compliance policy is written for."""
    name = str(operating_system or "").strip()
    folded = name.casefold()
    return next((f for prefix, f in _FAMILIES if folded.startswith(prefix)), name or UNKNOWN)


def unknown(platform: object) -> bool:
    """A platform nobody named (no `operatingSystem`, no `@odata.type`): it matches no other."""
    return str(platform or "").strip().casefold() in ("", UNKNOWN)


def version(text: object) -> tuple[int, ...] | None:
    """The leading dotted number of a version (`14.4.1 (23E224)` → (14, 4, 1)); None if there is none."""
    found = _VERSION.match(str(text or "").strip())
    return tuple(int(part) for part in found.group().split(".")) if found else None


def at_least(current: tuple[int, ...], minimum: tuple[int, ...]) -> bool:
    """Numeric comparison, missing parts counting as zero (`10.0.19045` = `10.0.19045.0`)."""
    width = max(len(current), len(minimum))
    return current + (0,) * (width - len(current)) >= minimum + (0,) * (width - len(minimum))


def minimum_for(operating_system: object, minimums: Mapping[str, str]) -> tuple[str, str] | None:
    """The configured minimum for a device's OS (its exact name first, then its family) and the key
    it was found under; None when neither has one."""
    by_name = {str(k).casefold(): (str(k), str(v)) for k, v in minimums.items()}
    for key in (str(operating_system or "").strip(), family(operating_system)):
        if key.casefold() in by_name:
            name, minimum = by_name[key.casefold()]
            return name, minimum
    return None
