"""Deep inventory: each service account of every project and its user-managed keys (IAM API v1).

Only key metadata is listed (the API never returns private key material from a listing);
Google-managed keys are left out, Google rotates them itself. A project whose accounts cannot
be listed is one record carrying the error.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

from agent.errors import InputDataError
from agent.plugin import collector
from agent.plugin.model import Record
from collectors.gcp.client import GcpApi
from collectors.gcp.inventory import per_project
from collectors.gcp.targets import GcpRoot, Placed

USER_MANAGED = "USER_MANAGED"


def _field(doc: Mapping[str, Any], key: str, where: str) -> str:
    value = doc.get(key)
    if not isinstance(value, str) or not value:
        raise InputDataError(f"IAM API: {where} has no {key}")
    return value


def _key(key: Mapping[str, Any], where: str) -> dict[str, Any]:
    name = _field(key, "name", f"a key of {where}")
    return {
        "id": name.rsplit("/", 1)[-1],
        "created": key.get("validAfterTime"),
        "expires": key.get("validBeforeTime"),
        "disabled": bool(key.get("disabled", False)),
    }


def _account(api: GcpApi, accounts: Any, project: Placed, sa: dict[str, Any]) -> Record:
    """A listed service account with its user-managed keys, which take a call of their own."""
    sa_name = _field(sa, "name", f"a service account of {project.node.name}")
    doc = api.call(
        f"iam.serviceAccountKeys.list {sa_name}",
        lambda: accounts.keys().list(name=sa_name, keyTypes=USER_MANAGED).execute(),
    )
    keys = [_key(k, sa_name) for k in doc.get("keys", []) if k.get("keyType", USER_MANAGED) == USER_MANAGED]
    data = {
        "email": _field(sa, "email", sa_name),
        "project": project.project_id,
        "disabled": bool(sa.get("disabled", False)),
        "keys": sorted(keys, key=lambda k: k["id"]),
    }
    return Record(resource_id=sa_name, data=data)


@collector(
    "gcp.iam.service_account_keys",
    scope="gcp_deep_inventory",
    freshness=timedelta(hours=24),
    permissions=["iam.serviceAccounts.list", "iam.serviceAccountKeys.list"],
)
def service_account_keys(target: GcpRoot) -> Iterator[Record]:
    """Each service account with its user-managed keys: created, expiry, disabled."""
    yield from per_project(
        target,
        lambda api: api.discovery("iam").projects().serviceAccounts(),
        "iam.serviceAccounts.list",
        lambda accounts, project, token: accounts.list(name=project.node.name, pageToken=token),
        "accounts",
        _account,
    )
