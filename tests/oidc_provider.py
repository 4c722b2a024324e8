"""A local OpenID Connect provider for the dashboard's sign-in tests.

It speaks the real protocol over real HTTP on a free loopback port: discovery, the authorisation
endpoint (no login page: the test says beforehand who signs in), the token endpoint with
client_secret_basic or client_secret_post, the key set and userinfo. ID tokens are RS256 JWTs signed
with a key made per provider. `fault` makes it misbehave the way a broken or hostile provider does,
so the client's checks (nonce, audience, expiry, signature, errors) are exercised for real. Signing
uses joserfc, the JOSE library authlib itself validates with.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import unquote, urlencode

from joserfc import jwt
from joserfc.jwk import RSAKey

from simulators.localserver import LocalServer, Reply, Request

KID = "annexa-test-key"


class Fault(Enum):
    """How the provider misbehaves for the next sign-ins (NONE: it behaves)."""

    NONE = "none"
    WRONG_NONCE = "wrong_nonce"
    WRONG_ISSUER = "wrong_issuer"
    WRONG_AUDIENCE = "wrong_audience"
    AZP_ONLY = "azp_only"  # issued for another audience, naming this client only as authorised party
    EXPIRED = "expired"
    FOREIGN_KEY = "foreign_key"  # signed by a key the provider does not publish (same kid)
    ACCESS_DENIED = "access_denied"  # the person declined: /authorize answers error=access_denied
    TOKEN_500 = "token_500"  # the token endpoint fails


@dataclass(frozen=True)
class Person:
    sub: str
    email: str = ""
    groups: tuple[str, ...] = ()
    email_verified: bool | None = None  # None: the claim is left out, as many providers do


@dataclass(frozen=True)
class Grant:
    """What an authorisation code stands for until the client redeems it (once)."""

    client_id: str
    redirect_uri: str
    nonce: str | None
    scope: str
    person: Person
    challenge: str | None = None  # PKCE (S256)


@dataclass
class Seen:
    """A request the provider answered, as received (for assertions on what the client sent)."""

    method: str
    path: str
    headers: dict[str, str]
    query: dict[str, str]
    form: dict[str, str]


def _oauth_error(status: int, error: str, description: str, **headers: str) -> Reply:
    """RFC 6749 5.2's error document."""
    return Reply(status, {"error": error, "error_description": description}, headers)


@functools.cache
def _keys() -> tuple[RSAKey, RSAKey]:
    """The provider's signing key and a stranger's with the same kid, made once per test process."""
    return tuple(
        RSAKey.generate_key(2048, parameters={"kid": KID, "use": "sig", "alg": "RS256"}) for _ in "ab"
    )


def _at_hash(access_token: str) -> str:
    """OIDC Core 3.1.3.6: the left half of the SHA-256 of the access token, base64url."""
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


class Provider(LocalServer):
    """One registered client (`client_id`, `client_secret`, `redirect_uri`) and one signing key."""

    def __init__(
        self, client_id: str, client_secret: str, redirect_uri: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.groups_claim = "groups"  # the claim the groups go in (Entra ID, for one, can use "roles")
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.clock = clock
        self.person = Person("nobody")
        self.fault = Fault.NONE
        self.seen: list[Seen] = []
        self.key, self.foreign_key = _keys()
        self._codes: dict[str, Grant] = {}
        self._tokens: dict[str, Person] = {}
        super().__init__()

    def signs_in(self, person: Person) -> None:
        """Who the next /authorize answers for, as if they had typed their password."""
        self.person = person

    def requests_to(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]

    # --- the endpoints ---

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "jwks_uri": f"{self.url}/jwks",
            "userinfo_endpoint": f"{self.url}/userinfo",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile", "groups"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "grant_types_supported": ["authorization_code"],
            "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nonce", "email", "groups"],
        }

    def authorize(self, query: dict[str, str]) -> Reply:
        # A wrong client or redirect URI is told to the browser, never redirected (RFC 6749 4.1.2.1).
        if query.get("client_id") != self.client_id:
            return Reply(400, "unknown client_id")
        if query.get("redirect_uri") != self.redirect_uri:
            return Reply(400, "redirect_uri is not registered for this client")
        back = {"state": query["state"]} if "state" in query else {}
        if query.get("response_type") != "code":
            return self._back({"error": "unsupported_response_type", **back})
        if "openid" not in query.get("scope", "").split():
            return self._back({"error": "invalid_scope", **back})
        if self.fault is Fault.ACCESS_DENIED:
            return self._back({"error": "access_denied", "error_description": "The user declined", **back})
        if "code_challenge" in query and query.get("code_challenge_method") != "S256":
            return self._back({"error": "invalid_request", "error_description": "S256 only", **back})
        code = secrets.token_urlsafe(24)
        with self.lock:
            self._codes[code] = Grant(
                self.client_id, self.redirect_uri, query.get("nonce"), query["scope"], self.person,
                query.get("code_challenge"),
            )  # fmt: skip
        return self._back({"code": code, **back})

    def _back(self, params: dict[str, str]) -> Reply:
        """The redirect back to the client, with no body."""
        return Reply(302, "", {"Location": f"{self.redirect_uri}?{urlencode(params)}"})

    def token(self, request: Request) -> Reply:
        form = request.form
        if not self._client_authenticated(request, form):
            return _oauth_error(
                401, "invalid_client", "Client authentication failed", **{"WWW-Authenticate": "Basic"}
            )
        if form.get("grant_type") != "authorization_code":
            return _oauth_error(400, "unsupported_grant_type", "Only authorization_code is supported")
        with self.lock:
            grant = self._codes.pop(form.get("code", ""), None)  # a code is redeemed once
        if grant is None or grant.redirect_uri != form.get("redirect_uri"):
            return _oauth_error(400, "invalid_grant", "The code is unknown, used, or not for this URI")
        if grant.challenge is not None and _s256(form.get("code_verifier", "")) != grant.challenge:
            return _oauth_error(400, "invalid_grant", "PKCE verification failed")
        if self.fault is Fault.TOKEN_500:
            return Reply(500, "<html><body>Internal Server Error</body></html>")
        access_token = secrets.token_urlsafe(32)
        with self.lock:
            self._tokens[access_token] = grant.person
        no_store = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        return Reply(
            200,
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": grant.scope,
                "id_token": self.id_token(grant, access_token),
            },
            no_store,
        )

    def _client_authenticated(self, request: Request, form: dict[str, str]) -> bool:
        """client_secret_basic (form-urlencoded id and secret, RFC 6749 2.3.1) or client_secret_post."""
        basic = request.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            who, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
            given = (unquote(who), unquote(secret))
        else:
            given = (form.get("client_id", ""), form.get("client_secret", ""))
        return given[0] == self.client_id and secrets.compare_digest(given[1], self.client_secret)

    def id_token(self, grant: Grant, access_token: str) -> str:
        now = int(self.clock())
        issued = now - 7200 if self.fault is Fault.EXPIRED else now  # an hour past expiry, beyond leeway
        claims: dict[str, Any] = {
            "iss": f"{self.url}/elsewhere" if self.fault is Fault.WRONG_ISSUER else self.url,
            "sub": grant.person.sub,
            "aud": "another-client"
            if self.fault in {Fault.WRONG_AUDIENCE, Fault.AZP_ONLY}
            else grant.client_id,
            "iat": issued,
            "exp": issued + 3600,
            "at_hash": _at_hash(access_token),
            self.groups_claim: list(grant.person.groups),
        }
        if self.fault is Fault.AZP_ONLY:
            claims["azp"] = grant.client_id
        if grant.person.email:
            claims["email"] = grant.person.email
        if grant.person.email_verified is not None:
            claims["email_verified"] = grant.person.email_verified
        if grant.nonce is not None:
            claims["nonce"] = "a-nonce-from-elsewhere" if self.fault is Fault.WRONG_NONCE else grant.nonce
        key = self.foreign_key if self.fault is Fault.FOREIGN_KEY else self.key
        return jwt.encode({"alg": "RS256", "kid": KID, "typ": "JWT"}, claims, key)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    def userinfo(self, request: Request) -> Reply:
        bearer = request.headers.get("Authorization", "")
        person = self._tokens.get(bearer[7:]) if bearer.startswith("Bearer ") else None
        if person is None:
            return Reply(401, "", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        info: dict[str, Any] = {"sub": person.sub, self.groups_claim: list(person.groups)}
        if person.email:
            info["email"] = person.email
        return Reply(200, info)

    # --- what LocalServer asks of it ---

    def record(self, request: Request) -> None:
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.seen.append(Seen(request.method, request.path, headers, request.query, request.form))

    def route(self, request: Request) -> Reply:
        if request.key == "GET /.well-known/openid-configuration":
            return Reply(200, self.discovery())
        if request.key == "GET /authorize":
            return self.authorize(request.query)
        if request.key == "POST /token":
            return self.token(request)
        if request.key == "GET /jwks":
            return Reply(200, self.jwks())
        if request.path == "/userinfo":
            return self.userinfo(request)
        return Reply(404, "not found")


def _s256(verifier: str) -> str:
    """The PKCE S256 challenge of `verifier` (RFC 7636 4.2)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
