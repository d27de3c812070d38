"""OpenID Connect sign-in against a real provider (#22, item 4, shared mode).

`oidc-provider-mock` runs an OpenID provider on a local port in a thread; the tests
play the browser (follow the authorisation URL, choose a subject, take the redirect
back) and the server (`casereview.web.oidc`), end to end: discovery, the
authorisation-code flow with PKCE, state and nonce, the token exchange, and the ID
token's checks. A good sign-in maps to the linked user; a token for another client, an
expired one, one presented twice, one from another issuer, and a forged one are each
refused; an identity no admin linked gets "ask your admin to add you".
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from oidc_provider_mock import run_server_in_thread

from casereview.domain.identities import Identity
from casereview.infra.now import FixedClock
from casereview.services import identities, users
from casereview.services.context import ServiceContext
from casereview.store.database import Database
from casereview.web import oidc
from casereview.web.oidc import Client, NonceLedger, SignInFailed

# The provider's own server code (not casereview's) uses an authlib call authlib deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")

REDIRECT = "https://casereview.example.org/sign-in/done"
CLIENT_ID = "casereview-web"


def _issuer(server) -> str:  # type: ignore[no-untyped-def]
    return f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def provider_url() -> Iterator[str]:
    with run_server_in_thread() as server:
        yield _issuer(server)


def _client(issuer: str, client_id: str = CLIENT_ID) -> Client:
    return Client(issuer, client_id, "the client secret", REDIRECT)


def _browser(started: oidc.Started, subject: str) -> dict[str, str]:
    """What a person's browser does: open the provider's page, sign in as `subject`,
    and follow the redirect back; the query parameters the server then receives."""
    with httpx.Client(timeout=10) as browser:
        assert browser.get(started.url).status_code == 200
        answer = browser.post(started.url, data={"sub": subject})
    assert answer.status_code in (302, 303), answer.text
    location = answer.headers["location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _sign_in(client: Client, subject: str, ledger: NonceLedger | None = None) -> Identity:
    provider = oidc.discover(client.issuer)
    started = oidc.begin(client, provider)
    params = _browser(started, subject)
    return oidc.finish(client, provider, started.pending, params, ledger=ledger or NonceLedger())


def test_the_authorisation_request_uses_pkce_state_and_nonce(provider_url):
    client = _client(provider_url)
    started = oidc.begin(client, oidc.discover(provider_url))
    query = parse_qs(urlsplit(started.url).query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == [REDIRECT]
    assert query["state"] == [started.pending.state]
    assert query["nonce"] == [started.pending.nonce]
    assert query["code_challenge_method"] == ["S256"]
    assert started.pending.code_verifier not in started.url  # only its hash travels
    assert "openid" in query["scope"][0].split()


def test_a_good_sign_in_maps_to_the_linked_user(provider_url, database_url):
    admin = ServiceContext.from_options(database_url)
    admin.clock = FixedClock(dt.date(2026, 3, 2))
    users.init(admin)
    users.add_user(admin, "alice", "Alice", ["business_unit"], None)
    identities.link(admin, "alice", provider_url, "alice-at-the-provider")
    admin.close()

    identity = _sign_in(_client(provider_url), "alice-at-the-provider")
    assert identity == Identity(provider_url, "alice-at-the-provider")
    if not database_url.startswith("sqlite"):
        return  # on PostgreSQL the lookup runs as a server login: test_acting_for_person
    shared = Database.open(database_url)
    try:
        assert identities.user_for(shared, identity.issuer, identity.subject) == "alice"
        # Verified by the provider, but linked by no admin: that one answer, nothing else.
        stranger = _sign_in(_client(provider_url), "someone-else")
        with pytest.raises(identities.NotLinked) as refused:
            identities.user_for(shared, stranger.issuer, stranger.subject)
        assert str(refused.value) == identities.ASK_YOUR_ADMIN
    finally:
        shared.dispose()


def _token_of(monkeypatch, client: Client, subject: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A real ID token the provider issued to `client` (and its nonce), as whoever ran
    that client's sign-in would hold it."""
    tokens: list[str] = []
    real = oidc.verify_id_token

    def keep(client, provider, id_token, nonce, **kw):  # type: ignore[no-untyped-def]
        tokens.append(id_token)
        return real(client, provider, id_token, nonce, **kw)

    provider = oidc.discover(client.issuer)
    started = oidc.begin(client, provider)
    params = _browser(started, subject)
    with monkeypatch.context() as patch:
        patch.setattr(oidc, "verify_id_token", keep)
        oidc.finish(client, provider, started.pending, params, ledger=NonceLedger())
    return tokens[0], started.pending.nonce


def test_a_token_for_another_client_is_refused(provider_url, monkeypatch):
    """A token the provider issued to another application (aud) does not sign in here,
    and neither does that application's authorisation code."""
    ours, theirs = _client(provider_url), _client(provider_url, client_id="another-app")
    provider = oidc.discover(provider_url)
    token, nonce = _token_of(monkeypatch, theirs, "alice-at-the-provider")
    with pytest.raises(SignInFailed, match=r"not for this client \(aud\)"):
        oidc.verify_id_token(ours, provider, token, nonce, ledger=NonceLedger())
    started = oidc.begin(theirs, provider)
    params = _browser(started, "alice-at-the-provider")
    with pytest.raises(SignInFailed, match="token exchange failed"):
        oidc.finish(ours, provider, started.pending, params, ledger=NonceLedger())


def test_an_expired_token_is_refused(provider_url, monkeypatch):
    client = _client(provider_url)
    provider = oidc.discover(provider_url)
    started = oidc.begin(client, provider)
    params = _browser(started, "alice-at-the-provider")
    token, nonce = _token_of(monkeypatch, client, "alice-at-the-provider")
    later = started.pending.started_at + 2 * 3600  # the mock's tokens last an hour
    with pytest.raises(SignInFailed, match="has expired"):
        oidc.verify_id_token(client, provider, token, nonce, ledger=NonceLedger(), now=later)
    # A sign-in left half-done too long is not finished either.
    with pytest.raises(SignInFailed, match="took too long"):
        oidc.finish(client, provider, started.pending, params, ledger=NonceLedger(), now=later)


def test_a_replayed_nonce_is_refused(provider_url, monkeypatch):
    client = _client(provider_url)
    provider = oidc.discover(provider_url)
    started = oidc.begin(client, provider)
    params = _browser(started, "alice-at-the-provider")
    tokens: list[str] = []
    real = oidc.verify_id_token

    def keep(client, provider, id_token, nonce, **kw):  # type: ignore[no-untyped-def]
        tokens.append(id_token)
        return real(client, provider, id_token, nonce, **kw)

    monkeypatch.setattr(oidc, "verify_id_token", keep)
    ledger = NonceLedger()
    oidc.finish(client, provider, started.pending, params, ledger=ledger)
    # The same ID token (and so its nonce) presented again: refused.
    with pytest.raises(SignInFailed, match="used before"):
        real(client, provider, tokens[0], started.pending.nonce, ledger=ledger)
    # And a token whose nonce is not this sign-in's.
    with pytest.raises(SignInFailed, match="nonce is not the one"):
        real(client, provider, tokens[0], "another nonce", ledger=NonceLedger())
    # A redirect back whose state is not the one sent never reaches the token exchange.
    with pytest.raises(SignInFailed, match="state does not match"):
        oidc.finish(client, provider, started.pending, {**params, "state": "x"}, ledger=ledger)


def test_a_token_from_another_issuer_is_refused(provider_url):
    client = _client(provider_url)
    with run_server_in_thread() as other:
        elsewhere = oidc.discover(_issuer(other))
        # Endpoints that lead to another provider (a misconfiguration, or a hijacked
        # one): its token says who issued it, and that is not the configured issuer.
        swapped = oidc.Provider(
            provider_url,
            elsewhere.authorization_endpoint,
            elsewhere.token_endpoint,
            elsewhere.jwks_uri,
        )
        started = oidc.begin(client, swapped)
        params = _browser(started, "alice-at-the-provider")
        with pytest.raises(SignInFailed, match="was issued by 'http://localhost:"):
            oidc.finish(client, swapped, started.pending, params, ledger=NonceLedger())
        # Another provider altogether, for a client configured for this one.
        with pytest.raises(SignInFailed, match="not the issuer this client is configured for"):
            oidc.verify_id_token(client, elsewhere, "x.y.z", "n", ledger=NonceLedger())
    # A discovery document that names another issuer than the one asked for (exactly).
    with pytest.raises(SignInFailed, match="not the issuer configured"):
        oidc.discover(provider_url + "/")


def test_a_forged_or_altered_token_is_refused(provider_url, monkeypatch):
    client = _client(provider_url)
    provider = oidc.discover(provider_url)
    started = oidc.begin(client, provider)
    params = _browser(started, "alice-at-the-provider")
    tokens: list[str] = []
    real = oidc.verify_id_token
    monkeypatch.setattr(
        oidc, "verify_id_token", lambda c, p, t, n, **kw: tokens.append(t) or real(c, p, t, n, **kw)
    )
    oidc.finish(client, provider, started.pending, params, ledger=NonceLedger())
    header, payload, signature = tokens[0].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "the-admin"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    for forged in (
        f"{header}.{forged_payload}.{signature}",
        # alg "none": no signature at all
        base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode() + f".{forged_payload}.",
    ):
        with pytest.raises(SignInFailed, match="signature does not verify"):
            real(client, provider, forged, started.pending.nonce, ledger=NonceLedger())
