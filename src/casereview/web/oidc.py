"""OpenID Connect sign-in for a shared installation: the client side, no web routes.

The web app's routes call three functions:

1. `discover(issuer)` once at start: the provider's metadata, from
   `<issuer>/.well-known/openid-configuration`, refused unless it names that issuer.
2. `begin(client, provider)` when someone asks to sign in: the URL to send their
   browser to (authorisation-code flow, PKCE with S256, `state` and `nonce`), and a
   `Pending` the app keeps server-side (in the session) until the provider sends the
   browser back.
3. `finish(client, provider, pending, params)` on the redirect back: checks `state`,
   exchanges the code (with the PKCE verifier) for tokens, and validates the ID token:
   its signature against the provider's published keys (JWKS), `iss` (the issuer),
   `aud` (this client), `exp` and `iat`, and `nonce` (the pending one, used once).
   Returns the verified `Identity(issuer, subject)`, or raises `SignInFailed`.

The identity is `iss` + `sub`, never an email address or a name (which the person or
their organisation can change); `services.identities.user_for` turns it into a
casereview user, or "ask your admin to add you". The OAuth client is authlib's; the ID
token is checked with joserfc (authlib's own JOSE library).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.integrations.httpx_client import OAuth2Client  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from casereview.domain.identities import Identity, issuer_problem
from casereview.errors import Refused

LEEWAY_SECONDS = 60
"""Clock difference tolerated between this server and the provider (exp, iat)."""

PENDING_SECONDS = 600
"""How long a sign-in may take between `begin` and `finish`."""

TIMEOUT_SECONDS = 10.0
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA")
"""ID token signatures accepted (never `none`, never a shared-secret HMAC)."""


class SignInFailed(Refused):
    """The provider's answer could not be trusted; the person is not signed in. The
    message says why for the server's log; a person is shown only that sign-in failed."""


@dataclass(frozen=True)
class Client:
    """This installation as registered with the provider (see docs/deployment.md)."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    scope: str = "openid"


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


@dataclass(frozen=True)
class Pending:
    """One sign-in under way: kept server-side, used once, by `finish`."""

    state: str
    nonce: str
    code_verifier: str
    started_at: float


@dataclass(frozen=True)
class Started:
    url: str
    pending: Pending


class NonceLedger:
    """The nonces of ID tokens already accepted (until the tokens would have expired),
    so that an ID token presented a second time is refused."""

    def __init__(self, keep_seconds: int = 3600 + LEEWAY_SECONDS) -> None:
        self._keep = keep_seconds
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def use(self, nonce: str, now: float) -> bool:
        """Record `nonce`; False if it had been used already."""
        with self._lock:
            for old in [n for n, at in self._seen.items() if at < now - self._keep]:
                del self._seen[old]
            if nonce in self._seen:
                return False
            self._seen[nonce] = now
            return True


def _get_json(url: str, http: httpx.Client | None) -> dict[str, Any]:
    if http is None:
        with httpx.Client(timeout=TIMEOUT_SECONDS) as own:
            return _get_json(url, own)
    try:
        response = http.get(url)
        response.raise_for_status()
        data = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise SignInFailed(f"could not read {url}: {type(exc).__name__}") from None
    if not isinstance(data, dict):
        raise SignInFailed(f"{url} did not return a JSON object")
    return data


def discover(issuer: str, *, http: httpx.Client | None = None) -> Provider:
    """The provider `issuer` names, from its discovery document; refused unless the
    document names exactly that issuer and gives every endpoint this client uses."""
    problem = issuer_problem(issuer)
    if problem is not None:
        raise SignInFailed(problem)
    data = _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration", http)
    if data.get("issuer") != issuer:
        raise SignInFailed(
            f"the provider at {issuer} says it is {data.get('issuer')!r}: not the issuer configured"
        )
    endpoints = {}
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = data.get(name)
        if not isinstance(value, str) or issuer_problem(value) is not None:
            raise SignInFailed(f"the provider's discovery document has no usable {name}")
        endpoints[name] = value
    return Provider(issuer, **endpoints)


def _oauth(client: Client) -> OAuth2Client:
    return OAuth2Client(
        client_id=client.client_id,
        client_secret=client.client_secret,
        scope=client.scope,
        redirect_uri=client.redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_post",  # noqa: S106 (a method's name)
        timeout=TIMEOUT_SECONDS,
    )


def begin(client: Client, provider: Provider, *, now: float | None = None) -> Started:
    """Where to send the browser to sign in, and what to keep until it comes back."""
    pending = Pending(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        code_verifier=secrets.token_urlsafe(64),
        started_at=time.time() if now is None else now,
    )
    with _oauth(client) as oauth:
        url, _state = oauth.create_authorization_url(
            provider.authorization_endpoint,
            state=pending.state,
            nonce=pending.nonce,
            code_verifier=pending.code_verifier,
        )
    return Started(url, pending)


def finish(
    client: Client,
    provider: Provider,
    pending: Pending,
    params: Mapping[str, str],
    *,
    ledger: NonceLedger,
    now: float | None = None,
) -> Identity:
    """The identity the provider vouches for, from the query parameters of its redirect
    back (`code`, `state`); `SignInFailed` for anything that does not check out."""
    at = time.time() if now is None else now
    if at - pending.started_at > PENDING_SECONDS:
        raise SignInFailed("the sign-in took too long; start again")
    if "error" in params:
        raise SignInFailed(f"the provider refused the sign-in: {params.get('error')!r}")
    state, code = params.get("state"), params.get("code")
    if not isinstance(state, str) or not hmac.compare_digest(state, pending.state):
        raise SignInFailed("the sign-in's state does not match the one this server sent")
    if not isinstance(code, str) or not code:
        raise SignInFailed("the provider sent no authorisation code")
    try:
        with _oauth(client) as oauth:
            token = oauth.fetch_token(
                provider.token_endpoint, code=code, code_verifier=pending.code_verifier
            )
    except Exception as exc:  # authlib raises OAuthError, httpx its own errors
        raise SignInFailed(f"the token exchange failed: {type(exc).__name__}") from None
    id_token = token.get("id_token") if isinstance(token, Mapping) else None
    if not isinstance(id_token, str):
        raise SignInFailed("the provider's token response has no ID token")
    return verify_id_token(client, provider, id_token, pending.nonce, ledger=ledger, now=at)


def verify_id_token(
    client: Client,
    provider: Provider,
    id_token: str,
    nonce: str,
    *,
    ledger: NonceLedger,
    now: float | None = None,
    http: httpx.Client | None = None,
) -> Identity:
    """Validate an ID token (signature, issuer, audience, expiry, nonce used once) and
    return who it is for."""
    at = time.time() if now is None else now
    if provider.issuer != client.issuer:
        raise SignInFailed("the provider is not the issuer this client is configured for")
    keys = KeySet.import_key_set(_get_json(provider.jwks_uri, http))  # type: ignore[arg-type]
    try:
        token = jwt.decode(id_token, keys, algorithms=list(SIGNING_ALGORITHMS))
    except (JoseError, ValueError) as exc:
        raise SignInFailed(f"the ID token's signature does not verify: {exc}") from None
    claims = token.claims
    if claims.get("iss") != client.issuer:
        raise SignInFailed(f"the ID token was issued by {claims.get('iss')!r}, not this issuer")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if client.client_id not in audiences:
        raise SignInFailed("the ID token is not for this client (aud)")
    if len(audiences) > 1 and claims.get("azp") != client.client_id:
        raise SignInFailed("the ID token names several audiences and not this client as azp")
    expires, issued = claims.get("exp"), claims.get("iat")
    if not isinstance(expires, int) or expires + LEEWAY_SECONDS < at:
        raise SignInFailed("the ID token has expired")
    if not isinstance(issued, int) or issued - LEEWAY_SECONDS > at:
        raise SignInFailed("the ID token was issued in the future")
    given = claims.get("nonce")
    if not isinstance(given, str) or not hmac.compare_digest(given, nonce):
        raise SignInFailed("the ID token's nonce is not the one this sign-in sent")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise SignInFailed("the ID token names no subject")
    if not ledger.use(given, at):
        raise SignInFailed("the ID token's nonce was used before: a replayed sign-in")
    return Identity(client.issuer, subject)
