"""Sign-in through any OpenID Connect provider, with authlib: discovery, the authorisation code
flow with state and nonce, and the ID token checked against the provider's keys."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.starlette_client import OAuth, OAuthError
from joserfc.errors import JoseError
from starlette.requests import Request
from starlette.responses import Response

from agent.config.secrets import resolve_secret
from agent.config.sections import WebSettings
from agent.errors import ConfigError


class Oidc:
    def __init__(self, settings: WebSettings) -> None:
        try:
            secret = resolve_secret(
                env=settings.oidc_client_secret_env,
                what="OIDC client secret",
                key="[web] oidc_client_secret_env",
            )
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        self.groups_claim = settings.oidc_groups_claim
        self._oauth = OAuth()
        self._client: Any = self._oauth.register(
            "oidc",
            client_id=settings.oidc_client_id,
            client_secret=secret.get_secret_value(),
            server_metadata_url=f"{settings.oidc_issuer}/.well-known/openid-configuration",
            # PKCE as well as the client secret: a code intercepted on its way back is worthless.
            client_kwargs={"scope": settings.oidc_scopes, "code_challenge_method": "S256"},
        )

    async def redirect(self, request: Request, callback: str) -> Response:
        """To the provider (its discovery document is fetched first, once).

        Raises ValueError in one line when the provider cannot be asked."""
        with _provider_errors():
            response: Response = await self._client.authorize_redirect(request, callback)
        return response

    async def _claims(self) -> dict[str, Any]:
        """What the ID token must say. authlib checks `aud` only through `azp` (a token for another
        client passes when it names us as authorised party), so the audience is required here."""
        metadata: dict[str, Any] = await self._client.load_server_metadata()
        return {
            "iss": {"essential": True, "value": metadata.get("issuer")},
            "aud": {"essential": True, "value": self._client.client_id},
        }

    async def person(self, request: Request) -> tuple[str, list[str]]:
        """The signed-in person's name (e-mail, else username, else subject) and groups.

        Raises ValueError with the provider's reason when the answer does not hold."""
        with _provider_errors():
            token = await self._client.authorize_access_token(request, claims_options=await self._claims())
        claims: dict[str, Any] = dict(token.get("userinfo") or {})
        # An address the provider says it has not verified could be anyone's (self-registration):
        # roles are given by address, so it never names the person. Many providers omit the claim.
        email = claims.get("email") if claims.get("email_verified") is not False else None
        name = email or claims.get("preferred_username") or claims.get("sub")
        if not isinstance(name, str) or not name:
            raise ValueError("the provider's ID token names nobody")
        groups = claims.get(self.groups_claim, [])
        return name, [g for g in groups if isinstance(g, str)] if isinstance(groups, list) else []


@contextmanager
def _provider_errors() -> Iterator[None]:
    """Whatever goes wrong with the provider, as a one-line ValueError. Never httpx's own message:
    it names the URL."""
    try:
        yield
    except MismatchingStateError:  # a replayed callback, or one from a sign-in started elsewhere
        raise ValueError("this sign-in was not started here or was already used: sign in again") from None
    except OAuthError as exc:
        raise ValueError(f"the provider refused the sign-in: {exc.error}") from None
    except JoseError as exc:  # the ID token's signature, issuer, audience, expiry or nonce
        detail = f" ({exc.description})" if exc.description else ""
        raise ValueError(f"the provider's ID token is not valid: {exc.error}{detail}") from None
    except httpx.HTTPStatusError as exc:
        raise ValueError(f"the provider answered HTTP {exc.response.status_code}") from None
    except httpx.HTTPError as exc:
        raise ValueError(f"the provider could not be reached ({type(exc).__name__})") from None
