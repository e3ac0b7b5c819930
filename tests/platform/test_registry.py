"""Registry: the demo data, the admin API for groups and beheerders, walls, and the gemeente's CSV."""

from __future__ import annotations

from collections import Counter

from tests.support import builders
from tests.support.http import bearer, login, problem


async def test_demo_has_the_six_studied_groups_and_a_busy_westwijk(client, demo):
    admin = await login(client, demo["admin"])
    groups = (await client.get("/api/v1/admin/groups?limit=500", headers=admin)).json()["items"]
    members = {g["name"]: g["member_count"] for g in groups}
    assert {k: members[k] for k in ("Schapenmeent", "Kromgouw", "Westwijk", "Bovenkerk", "Lastage",
                                    "K-buurt")} == {
        "Schapenmeent": 82, "Kromgouw": 32, "Westwijk": 117, "Bovenkerk": 180, "Lastage": 27, "K-buurt": 256}
    assert Counter(g["wijkcode"] for g in groups)["WK036204"] >= 10
    per_wijk = Counter(code for b in demo["beheerders"] for code in b["wijkcodes"])
    assert all(count >= 2 for count in per_wijk.values())
    assert all(b["phone"].startswith("+31") and b["token"] for b in demo["beheerders"])
    beheerders = (await client.get("/api/v1/admin/beheerders?limit=500", headers=admin)).json()["items"]
    assert all(b["channels"][0] == "whatsapp" for b in beheerders)


async def test_seed_demo_is_idempotent_and_keeps_working_credentials(app, settings, demo, tmp_path):
    from app.demo import seed_demo

    async with app.state.sessionmaker() as session:
        again = await seed_demo(session, settings, tmp_path / "demo-credentials.json")
    assert again == demo
    async with app.state.sessionmaker() as session:
        fresh = await seed_demo(session, settings, tmp_path / "other.json")
    assert fresh["admin"]["password"] != demo["admin"]["password"]
    assert [b["id"] for b in fresh["beheerders"]] == [b["id"] for b in demo["beheerders"]]


async def test_admin_creates_a_beheerder_with_a_national_phone_number(app, client):
    admin = bearer((await builders.staff(app, "admin")).token)
    group_id = (await builders.group(app)).id
    response = await client.post("/api/v1/admin/beheerders", headers=admin, json={
        "name": "Nieuwe Beheerder", "phone": "06-1234 5678", "email": "nb@example.nl",
        "channels": ["whatsapp", "email"], "group_ids": [group_id]})
    assert response.status_code == 201
    body = response.json()
    assert body["phone"] == "+31612345678" and body["group_ids"] == [group_id]
    duplicate = await client.post("/api/v1/admin/beheerders", headers=admin,
                                  json={"name": "Dubbel", "phone": "+31612345678"})
    assert duplicate.status_code == 409 and problem(duplicate)["field"] == "phone"
    bad_phone = await client.post("/api/v1/admin/beheerders", headers=admin,
                                  json={"name": "X", "phone": "12"})
    assert problem(bad_phone)["field"] == "phone"


async def test_admin_updates_and_deactivates_a_beheerder_whose_token_then_stops_working(app, client):
    admin = bearer((await builders.staff(app, "admin")).token)
    beheerder = await builders.beheerder(app)
    patched = await client.patch(f"/api/v1/admin/beheerders/{beheerder.id}", headers=admin,
                                 json={"active": False, "channels": ["app"]})
    assert patched.json()["active"] is False and patched.json()["channels"] == ["app"]
    assert (await client.get("/api/v1/me", headers=bearer(beheerder.token))).status_code == 401


async def test_group_paging_and_wijk_filter(app, client):
    for wijkcode in ["WK036204"] * 10 + ["WK036206"] * 2:
        await builders.group(app, wijkcode=wijkcode)
    admin = bearer((await builders.staff(app, "admin")).token)
    page = (await client.get("/api/v1/admin/groups?wijkcode=WK036204&limit=5&offset=5", headers=admin)).json()
    assert page["total"] >= 10 and len(page["items"]) == 5 and page["offset"] == 5
    assert {g["wijkcode"] for g in page["items"]} == {"WK036204"}


async def test_wijken_come_a_page_at_a_time_with_their_number_and_a_search(app, client):
    await builders.large_registry(app, wijken=150, beheerders=20)
    admin = bearer((await builders.staff(app, "admin")).token)
    first = await client.get("/api/v1/admin/wijken", headers=admin)
    assert len(first.json()) == 100 and first.headers["X-Total-Count"] == "150"  # a page, still a plain list
    last = await client.get("/api/v1/admin/wijken?offset=100", headers=admin)
    assert len(last.json()) == 50 and last.json()[-1]["code"] == "WK99900150"
    assert last.json()[-1]["group_count"] == 1
    everything = await client.get("/api/v1/admin/wijken?limit=1000", headers=admin)  # what older clients may ask
    assert len(everything.json()) == 150
    found = await client.get("/api/v1/admin/wijken?q=GROOTSTAD-wijk 142", headers=admin)
    assert [w["name"] for w in found.json()] == ["Grootstad-wijk 142"] and found.headers["X-Total-Count"] == "1"
    gemeenten = await client.get("/api/v1/admin/gemeenten?q=groot", headers=admin)
    assert [g["code"] for g in gemeenten.json()] == ["GM9990"] and gemeenten.headers["X-Total-Count"] == "1"
    too_long = await client.get("/api/v1/admin/wijken?q=" + "x" * 101, headers=admin)
    assert too_long.status_code == 422 and problem(too_long)["title"]


async def test_beheerders_and_groups_are_found_by_name_phone_and_a_percent_sign(app, client):
    await builders.large_registry(app, wijken=5, beheerders=300)
    admin = bearer((await builders.staff(app, "admin")).token)
    page = (await client.get("/api/v1/admin/beheerders?q=grootstad&limit=50&offset=250", headers=admin)).json()
    assert page["total"] == 300 and len(page["items"]) == 50
    by_name = (await client.get("/api/v1/admin/beheerders?q=beheerder 123 van", headers=admin)).json()
    assert [b["name"] for b in by_name["items"]] == ["Beheerder 123 van Grootstad"]
    by_phone = (await client.get("/api/v1/admin/beheerders?q=%2B31690000007", headers=admin)).json()
    assert by_phone["total"] == 1 and by_phone["items"][0]["wijkcodes"] == ["WK99900002"]
    wildcard = (await client.get("/api/v1/admin/beheerders?q=%25", headers=admin)).json()
    assert wildcard["total"] == 0  # a search for "%" finds the sign, not everything
    groups = (await client.get("/api/v1/admin/groups?q=buurtgroep 3", headers=admin)).json()
    assert [g["name"] for g in groups["items"]] == ["Buurtgroep 3"]


async def test_wall_display_token_is_shown_once_and_scoped_to_its_region(app, client):
    await builders.region(app, "ZWB")
    admin = bearer((await builders.staff(app, "admin")).token)
    created = await client.post("/api/v1/admin/walls", headers=admin,
                                json={"name": "Wall Tilburg", "region_code": "ZWB"})
    assert created.status_code == 201
    token = created.json()["token"]
    me = (await client.get("/api/v1/auth/me", headers=bearer(token))).json()
    assert me["kind"] == "wall" and me["region_id"]
    listed = (await client.get("/api/v1/admin/walls", headers=admin)).json()
    assert all(w["token"] is None for w in listed)


GEMEENTE_CSV = """groep;wijkcode;aantal_leden;beheerder;telefoon;email;kanalen
Westwijk Akkerland;WK036204;44;Joke Smits;06 11112222;joke@example.nl;whatsapp,email
Westwijk Akkerland;WK036204;44;Kees Smits;0611113333;;whatsapp
Bovenkerk Noord;WK036206;90;Joke Smits;06 11112222;joke@example.nl;whatsapp
"""


async def test_gemeente_csv_import_creates_groups_and_beheerders_once(app, client):
    await builders.wijk(app, "WK036204")
    await builders.wijk(app, "WK036206")
    admin = bearer((await builders.staff(app, "admin")).token)
    headers = {**admin, "Content-Type": "text/csv"}
    first = await client.post("/api/v1/admin/import/groups", content=GEMEENTE_CSV.encode(), headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["created"] == 4  # two groups, two beheerders
    again = await client.post("/api/v1/admin/import/groups", content=GEMEENTE_CSV.encode(), headers=headers)
    assert again.json()["created"] == 0
    joke = [b for b in (await client.get("/api/v1/admin/beheerders?limit=500", headers=admin)).json()["items"]
            if b["phone"] == "+31611112222"]
    assert len(joke) == 1 and len(joke[0]["group_ids"]) == 2
    assert set(joke[0]["wijkcodes"]) == {"WK036204", "WK036206"}


async def test_csv_with_bad_lines_reports_every_line_and_imports_nothing(app, client):
    await builders.wijk(app, "WK036204")
    await builders.wijk(app, "WK036206")
    admin = bearer((await builders.staff(app, "admin")).token)
    before = (await client.get("/api/v1/admin/groups", headers=admin)).json()["total"]
    bad = GEMEENTE_CSV + "Kapot;WK036204;veel;Piet;0611114444;;whatsapp\nLeeg;WK999999;3;Anna;;;duif\n"
    response = await client.post("/api/v1/admin/import/groups", content=bad.encode(),
                                 headers={**admin, "Content-Type": "text/csv"})
    body = problem(response)
    assert response.status_code == 422
    assert "regel 5" in body["detail"] and "regel 6" in body["detail"]
    assert (await client.get("/api/v1/admin/groups", headers=admin)).json()["total"] == before


async def test_csv_with_unknown_wijk_imports_nothing(app, client):
    await builders.group(app, wijkcode="WK036204")
    admin = bearer((await builders.staff(app, "admin")).token)
    before = (await client.get("/api/v1/admin/groups", headers=admin)).json()["total"]
    csv = "groep,wijkcode,aantal_leden,beheerder,telefoon\nGoed,WK036204,3,Anna,0611115555\n" \
          "Fout,WK999999,3,Bob,0611116666\n"
    response = await client.post("/api/v1/admin/import/groups", content=csv.encode(),
                                 headers={**admin, "Content-Type": "text/csv"})
    assert "WK999999" in problem(response)["detail"]
    assert (await client.get("/api/v1/admin/groups", headers=admin)).json()["total"] == before
