"""The OAuth token endpoint's JWT-bearer grant, as a service account with domain-wide delegation uses it.

The assertion must be RS256-signed by the key registered for its `iss`, addressed to this endpoint
(`aud`), short-lived and current (`iat`, `exp`), for scopes the delegation authorises, and its `sub`
a user of the customer; the token issued carries those scopes and acts as that user.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import urllib.parse
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from simulators.google_workspace.world import Grant, WorkspaceWorld
from simulators.localserver import Reply

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# google-auth addresses every assertion to Google's endpoint, whatever the key file's token_uri says.
GOOGLE_TOKEN_ENDPOINT = "https://oauth2.googleapis.com/token"
CLOCK_SKEW = 300  # seconds an assertion's iat may be ahead of the endpoint's clock
BAD_JWT_TIME = (
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
    "Check your iat and exp values in the JWT claim."
)
UNAUTHORIZED_CLIENT = (
    "Client is unauthorized to retrieve access tokens using this method, or client not authorized "
    "for any of the scopes requested."
)


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _oauth_error(status: int, error: str, description: str) -> Reply:
    return Reply(status, {"error": error, "error_description": description})


def token_grant(world: WorkspaceWorld, body: bytes, token_url: str, now: float) -> Reply:
    """The JWT-bearer grant: a signed assertion for a scope set and a subject, traded for a token."""
    form = dict(urllib.parse.parse_qsl(body.decode(errors="replace")))
    if form.get("grant_type") != JWT_BEARER:
        return _oauth_error(400, "unsupported_grant_type", "Invalid grant_type")
    claims = _verified(world, form.get("assertion", ""), token_url, now)
    if isinstance(claims, Reply):
        return claims
    account = world.service_accounts[claims["iss"]]
    scopes = frozenset(str(claims.get("scope", "")).split())
    if not scopes or not scopes <= account.scopes:
        return _oauth_error(401, "unauthorized_client", UNAUTHORIZED_CLIENT)
    subject = claims.get("sub")
    if subject is not None and str(subject).lower() not in world.by_email:
        return _oauth_error(400, "invalid_grant", "Invalid email or User ID")
    token = "ya29.sim-" + secrets.token_urlsafe(24)
    world.tokens[token] = Grant(scopes, str(subject) if subject else account.client_email)
    return Reply(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})


def _verified(world: WorkspaceWorld, assertion: str, token_url: str, now: float) -> dict[str, Any] | Reply:
    """The assertion's claims once its signature, issuer, audience and lifetime check out."""
    parts = assertion.split(".")
    try:
        header, claims = (json.loads(_b64(p)) for p in parts[:2]) if len(parts) == 3 else ({}, {})
        signature = _b64(parts[2]) if len(parts) == 3 else b""
    except (ValueError, binascii.Error):
        header, claims, signature = {}, {}, b""
    if header.get("alg") != "RS256" or not isinstance(claims, dict):
        return _oauth_error(400, "invalid_grant", "Invalid JWT: not an RS256 signed token")
    account = world.service_accounts.get(str(claims.get("iss")))
    if account is None:
        return _oauth_error(400, "invalid_grant", "Invalid grant: account not found")
    signed = f"{parts[0]}.{parts[1]}".encode()
    try:
        account.public_key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return _oauth_error(400, "invalid_grant", "Invalid JWT Signature.")
    if claims.get("aud") not in (GOOGLE_TOKEN_ENDPOINT, token_url):
        return _oauth_error(400, "invalid_grant", "Invalid JWT: audience is not the token endpoint")
    iat, exp = claims.get("iat"), claims.get("exp")
    if (
        not isinstance(iat, int)
        or not isinstance(exp, int)
        or not iat - CLOCK_SKEW <= now < exp <= iat + 3600
    ):
        return _oauth_error(400, "invalid_grant", BAD_JWT_TIME)
    return claims
