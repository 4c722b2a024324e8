"""Intune managed devices: encryption, compliance, jailbreak state, last check-in, OS and primary user.

Only the fields the device checks need are selected (`$select`): no serial numbers, IMEIs, phone
numbers or Wi-Fi MAC addresses end up in the evidence.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.device_management.managed_devices.managed_devices_request_builder import (
    ManagedDevicesRequestBuilder,
)

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.entra.client import Item, fields, iso, require_id
from collectors.intune.targets import IntuneTenant

WHAT = "GET /deviceManagement/managedDevices"
PLAIN = [  # stored as Graph writes them
    "id",
    "deviceName",
    "operatingSystem",
    "osVersion",
    "complianceState",
    "isEncrypted",
    "jailBroken",
    "userPrincipalName",
    "managedDeviceOwnerType",
]
SELECT = [*PLAIN, "lastSyncDateTime"]


def _synced(device: Item) -> str | None:
    """Intune writes its minimum date (0001-01-01) for a device that never checked in: that is "never"."""
    synced = iso(device, "lastSyncDateTime", WHAT)
    return None if synced is None or synced.startswith("0001-") else synced


@collector(
    "intune.devices.managed",
    scope="intune_tenant",
    freshness=timedelta(hours=24),
    permissions=["DeviceManagementManagedDevices.Read.All"],
)
def managed_devices(tenant: IntuneTenant) -> Iterator[Record]:
    """Every device Intune manages, keyed by its Intune device id, with its security posture and user."""
    query = ManagedDevicesRequestBuilder.ManagedDevicesRequestBuilderGetQueryParameters(select=SELECT)
    with tenant.graph() as graph:
        builder = graph.client.device_management.managed_devices
        for device in graph.pages(WHAT, builder, RequestConfiguration(query_parameters=query)):
            yield Record(
                resource_id=require_id(device, WHAT),
                data={**fields(device, PLAIN), "lastSyncDateTime": _synced(device)},
            )
