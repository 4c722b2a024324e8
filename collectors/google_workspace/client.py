"""Shared Google Workspace plumbing: credentials, the Admin SDK Directory client and paged listings.

Every call goes through `collectors.google_api` (the retries, backoff, pager and error reading GCP
uses too), so a quota answer (429, or 403 `rateLimitExceeded`) is retried, any other 403 is a
denial, and a failure is one line naming the Directory method and its customer or domain, never a
token. The Directory API comes from the discovery document bundled with google-api-python-client,
so building it makes no call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from google.auth.credentials import Credentials
from google.oauth2 import service_account
from google.oauth2.credentials import Credentials as TokenCredentials

from agent.errors import CollectorError, InputDataError
from agent.plugin import resolve_secret
from collectors.google_api import GoogleCalls, PerThread, discovery_service
from collectors.google_workspace.settings import GoogleWorkspaceSettings

USERS_SCOPE = "https://www.googleapis.com/auth/admin.directory.user.readonly"
ROLES_SCOPE = "https://www.googleapis.com/auth/admin.directory.rolemanagement.readonly"
# What a token is asked for: every scope a collector declares, as the delegation grants them.
SCOPES = sorted((USERS_SCOPE, ROLES_SCOPE))
SYSTEM = "google_workspace"

# Builds the request for one page (no token for the first) from the Directory service.
PageRequest = Callable[[Any, str | None], Any]


def load_credentials(settings: GoogleWorkspaceSettings) -> Credentials:
    """A static token from `access_token_env`, else the service account acting as `admin_email`
    (domain-wide delegation: google-auth signs a JWT with `sub` and trades it for a token)."""
    if settings.access_token_env:
        try:
            token = resolve_secret(
                env=settings.access_token_env, what="Google access token", key="access_token_env"
            )
        except ValueError as exc:
            raise CollectorError(f"[{SYSTEM}] {exc}") from None
        return TokenCredentials(token.get_secret_value())
    where = f"[{SYSTEM}] credentials_file {settings.credentials_file}"
    try:
        # google-auth leaves this classmethod unannotated.
        credentials: Credentials = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
            settings.credentials_file, scopes=SCOPES, subject=settings.admin_email
        )
    except OSError as exc:
        raise CollectorError(f"{where}: {exc.strerror}") from None
    except (ValueError, TypeError, KeyError):
        raise CollectorError(
            f"{where}: not a service-account key (JSON with client_email, private_key and token_uri)"
        ) from None
    return credentials


class WorkspaceApi:
    """One per customer, shared by its collectors: credentials, a Directory client per thread, calls."""

    def __init__(self, settings: GoogleWorkspaceSettings) -> None:
        self.settings = settings
        self.credentials = load_credentials(settings)
        self._static = isinstance(self.credentials, TokenCredentials)
        self._clients = PerThread()
        self.calls = GoogleCalls(SYSTEM, settings.max_attempts, settings.initial_backoff)

    def directory(self) -> Any:
        """The Admin SDK Directory v1 service (its resources: users, roles, roleAssignments)."""
        endpoint = self.settings.api_endpoint
        root = endpoint.rstrip("/") + "/" if endpoint else None  # the API's servicePath is ""
        return self._clients.get("directory", lambda: discovery_service(
            "admin", "directory_v1", self.credentials,
            endpoint=root, timeout=self.settings.timeout, refresh=not self._static,
        ))  # fmt: skip

    def listing(self, what: str, request: PageRequest, items: str) -> Iterator[dict[str, Any]]:
        """Every object under `items` of a paged Directory listing, page by page as consumed.

        Google leaves `items` out of a page with nothing in it (an empty listing is evidence); a
        page that is not an object, or whose items are not a list of objects, fails the listing.
        """

        def page(token: str) -> tuple[list[dict[str, Any]], str]:
            doc = request(self.directory(), token or None).execute()
            if not isinstance(doc, dict):
                raise InputDataError(f"{what}: a page that is not a JSON object")
            found = doc.get(items, [])
            if not isinstance(found, list) or not all(isinstance(item, dict) for item in found):
                raise InputDataError(f"{what}: `{items}` is not a list of objects")
            following = doc.get("nextPageToken", "")
            if not isinstance(following, str):
                raise InputDataError(f"{what}: a nextPageToken that is not a string")
            return found, following

        return self.calls.pages(what, page)


def text(item: dict[str, Any], key: str, what: str) -> str:
    """A field that must be a non-empty string, else the listing cannot be trusted."""
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise InputDataError(f"{what}: an item without {key}")
    return value
