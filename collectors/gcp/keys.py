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


def _project_accounts(api: GcpApi, project: Placed) -> list[Record]:
    accounts = api.discovery("iam").projects().serviceAccounts()
    name = project.node.name

    def page(token: str) -> tuple[list[Any], str]:
        doc = accounts.list(name=name, pageToken=token or None).execute()
        return doc.get("accounts", []), doc.get("nextPageToken", "")

    records = []
    for sa in api.pages(f"iam.serviceAccounts.list {name}", page):
        sa_name = _field(sa, "name", f"a service account of {name}")
        doc = api.call(
            f"iam.serviceAccountKeys.list {sa_name}",
            lambda n=sa_name: accounts.keys().list(name=n, keyTypes=USER_MANAGED).execute(),
        )
        keys = [
            _key(k, sa_name) for k in doc.get("keys", []) if k.get("keyType", USER_MANAGED) == USER_MANAGED
        ]
        data = {
            "email": _field(sa, "email", sa_name),
            "project": project.project_id,
            "disabled": bool(sa.get("disabled", False)),
            "keys": sorted(keys, key=lambda k: k["id"]),
        }
        records.append(Record(resource_id=sa_name, data=data))
    return records


@collector(
    "gcp.iam.service_account_keys",
    scope="gcp_deep_inventory",
    freshness=timedelta(hours=24),
    permissions=["iam.serviceAccounts.list", "iam.serviceAccountKeys.list"],
)
def service_account_keys(target: GcpRoot) -> Iterator[Record]:
    """Each service account with its user-managed keys: created, expiry, disabled."""
    yield from target.per_project(lambda p: _project_accounts(target.api, p))
