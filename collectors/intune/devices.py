"""Intune managed devices: encryption, compliance, jailbreak state, last check-in, OS and primary user.

Only the fields the device checks need are selected (`$select`): no serial numbers, IMEIs, phone
numbers or Wi-Fi MAC addresses end up in the evidence.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.device_management.managed_devices.managed_devices_request_builder import (
    ManagedDevicesRequestBuilder,
)

from agent.plugin import collector
from agent.plugin.model import Record
from collectors.entra.client import enum_value, iso, require_id
from collectors.intune.targets import IntuneTenant

WHAT = "GET /deviceManagement/managedDevices"
SELECT = [
    "id",
    "deviceName",
    "operatingSystem",
    "osVersion",
    "complianceState",
    "isEncrypted",
    "jailBroken",
    "lastSyncDateTime",
    "userPrincipalName",
    "managedDeviceOwnerType",
]


def _synced(value: datetime | None) -> str | None:
    """Intune writes its minimum date (0001-01-01) for a device that never checked in: that is "never"."""
    return None if value is None or value.year == 1 else iso(value)


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
                data={
                    "id": device.id,
                    "deviceName": device.device_name,
                    "operatingSystem": device.operating_system,
                    "osVersion": device.os_version,
                    "complianceState": enum_value(device.compliance_state),
                    "isEncrypted": device.is_encrypted,
                    "jailBroken": device.jail_broken,
                    "lastSyncDateTime": _synced(device.last_sync_date_time),
                    "userPrincipalName": device.user_principal_name,
                    "managedDeviceOwnerType": enum_value(device.managed_device_owner_type),
                },
            )
