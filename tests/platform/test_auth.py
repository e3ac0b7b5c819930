"""Staff login, lockout, tokens and roles: each wrong credential gets the status a client expects."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from app.auth.models import ApiToken
from app.core.database import utcnow
from tests.support import builders
from tests.support.http import bearer, login, problem


async def test_login_returns_bearer_token_role_and_httponly_cookie(app, client):
    operator = await builders.staff(app, "operator")
    response = await client.post("/api/v1/auth/login", json=operator.credentials)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["role"] == "operator" and body["access_token"]
    cookie = response.headers["set-cookie"]
    assert "meldkamer_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    me = await client.get("/api/v1/auth/me", headers=bearer(body["access_token"]))
    assert me.json()["role"] == "operator"


async def test_session_cookie_alone_authenticates_the_ui(app, client):
    operator = await builders.staff(app, "operator")
    await client.post("/api/v1/auth/login", json=operator.credentials)
    assert (await client.get("/api/v1/auth/me")).json()["name"] == "operator"


async def test_wrong_password_is_401_in_dutch(app, client):
    await builders.staff(app, "operator")
    response = await client.post("/api/v1/auth/login", json={"username": "operator", "password": "fout"})
    assert response.status_code == 401
    assert problem(response)["title"] == "Niet aangemeld"


async def test_unknown_user_gets_the_same_answer_as_wrong_password(client):
    response = await client.post("/api/v1/auth/login", json={"username": "nobody", "password": "x"})
    assert response.status_code == 401
    assert problem(response)["detail"] == "Gebruikersnaam of wachtwoord klopt niet."


async def test_repeated_failures_lock_the_account_even_for_the_right_password(app, client):
    operator = await builders.staff(app, "operator")
    for _ in range(5):
        await client.post("/api/v1/auth/login", json={"username": "operator", "password": "fout"})
    response = await client.post("/api/v1/auth/login", json=operator.credentials)
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert problem(response)["title"] == "Te veel mislukte inlogpogingen"


async def test_no_token_is_401_and_a_garbage_token_is_401(client):
    assert (await client.get("/api/v1/admin/groups")).status_code == 401
    response = await client.get("/api/v1/admin/groups", headers=bearer("mks_not-a-real-token"))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_expired_beheerder_token_is_401(app, client):
    token = (await builders.beheerder(app)).token
    assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 200
    async with app.state.sessionmaker() as session:
        await session.execute(update(ApiToken).where(ApiToken.kind == "beheerder")
                              .values(expires_at=utcnow() - timedelta(minutes=1)))
        await session.commit()
    response = await client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401
    assert "verlopen" in problem(response)["detail"]


async def test_revoked_token_is_401_and_revocation_is_admin_only(app, client):
    admin = bearer((await builders.staff(app, "admin")).token)
    beheerder = await builders.beheerder(app)
    tokens = (await client.get(f"/api/v1/admin/beheerders/{beheerder.id}/tokens", headers=admin)).json()
    operator = bearer((await builders.staff(app, "operator")).token)
    assert (await client.delete(f"/api/v1/auth/tokens/{tokens[0]['id']}", headers=operator)).status_code == 403
    revoked = await client.delete(f"/api/v1/auth/tokens/{tokens[0]['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    response = await client.get("/api/v1/me", headers=bearer(beheerder.token))
    assert response.status_code == 401
    assert "ingetrokken" in problem(response)["detail"]


async def test_beheerder_token_is_shown_once_and_stored_hashed(app, client):
    admin = bearer((await builders.staff(app, "admin")).token)
    beheerder_id = (await builders.beheerder(app)).id
    issued = await client.post(f"/api/v1/admin/beheerders/{beheerder_id}/tokens", json={"label": "tablet"},
                               headers=admin)
    assert issued.status_code == 201
    token = issued.json()["token"]
    assert (await client.get("/api/v1/me", headers=bearer(token))).json()["id"] == beheerder_id
    listed = (await client.get(f"/api/v1/admin/beheerders/{beheerder_id}/tokens", headers=admin)).json()
    assert all("token" not in item for item in listed)
    assert token[:10] in {item["prefix"] for item in listed}


async def test_wrong_role_is_403(app, client):
    operator = bearer((await builders.staff(app, "operator")).token)
    response = await client.post("/api/v1/admin/groups", json={"name": "X", "wijkcode": "WK036204"},
                                 headers=operator)
    assert response.status_code == 403
    assert problem(response)["title"] == "Geen toegang"
    beheerder = bearer((await builders.beheerder(app)).token)
    assert (await client.get("/api/v1/admin/groups", headers=beheerder)).status_code == 403


async def test_another_beheerders_group_is_404_not_403(app, client):
    first, second = await builders.beheerder(app), await builders.beheerder(app)
    own = await client.get(f"/api/v1/me/groups/{first.group_ids[0]}", headers=bearer(first.token))
    assert own.status_code == 200
    foreign_group = next(g for g in second.group_ids if g not in first.group_ids)
    response = await client.get(f"/api/v1/me/groups/{foreign_group}", headers=bearer(first.token))
    assert response.status_code == 404
    assert problem(response)["title"] == "Niet gevonden"


async def test_wall_token_is_read_only(app, client):
    await builders.region(app, "AMS")
    wall = bearer((await builders.wall(app, region_code="AMS")).token)
    assert (await client.get("/api/v1/auth/me", headers=wall)).json()["kind"] == "wall"
    assert (await client.get("/api/v1/admin/groups", headers=wall)).status_code == 403


async def test_logout_revokes_the_session(app, client):
    operator = await builders.staff(app, "operator")
    headers = await login(client, operator.credentials)
    assert (await client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 401
