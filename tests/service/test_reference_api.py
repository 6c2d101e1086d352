"""Centres and staff through the API: reference data every logged-in user may read."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from clinic import Clinic, Headers
from fastapi.testclient import TestClient


def every(clinic: Clinic, path: str, user: str, **params: Any) -> list[dict[str, Any]]:
    """All items of a paginated list, fetched page by page; each page agrees on the total."""
    items: list[dict[str, Any]] = []
    total = None
    while total is None or len(items) < total:
        page = clinic.call("GET", path, user, params={**params, "limit": 7, "offset": len(items)})
        assert total is None or page["total"] == total
        total = page["total"]
        assert page["items"] or total == 0
        items += page["items"]
    return items


def test_centres_come_in_pages_that_add_up_to_the_total(clinic: Clinic) -> None:
    first = clinic.call("GET", "/centres", "coord-leeds", params={"limit": 5})
    assert first["limit"] == 5 and first["offset"] == 0 and len(first["items"]) == 5
    everything = every(clinic, "/centres", "coord-leeds")
    assert len(everything) == first["total"] == 13
    assert len({c["id"] for c in everything}) == 13
    assert [c["id"] for c in everything] == sorted(c["id"] for c in everything)


def test_centres_are_filtered_by_region(clinic: Clinic) -> None:
    london = clinic.call("GET", "/centres", "maker", params={"region": "London"})
    assert london["total"] == 2
    assert {c["id"] for c in london["items"]} == {"london", "london-brent"}
    assert clinic.call("GET", "/centres", "maker", params={"region": "Atlantis"})["total"] == 0


def test_centres_are_filtered_by_the_product_they_give_by_brand_or_id(clinic: Clinic) -> None:
    everything = every(clinic, "/centres", "analyst")
    expected = {c["id"] for c in everything if "ra223-dichloride" in c["products"]}
    by_brand = every(clinic, "/centres", "analyst", product="Xofigo")
    by_id = every(clinic, "/centres", "analyst", product="ra223-dichloride")
    assert {c["id"] for c in by_brand} == {c["id"] for c in by_id} == expected
    assert 0 < len(expected) < len(everything)
    in_london = clinic.call("GET", "/centres", "analyst", params={"region": "London", "product": "Zevalin"})
    assert [c["id"] for c in in_london["items"]] == ["london"]


def test_an_unknown_product_filter_names_the_known_products(
    client: TestClient, auth: dict[str, Headers]
) -> None:
    response = client.get("/api/v1/centres", headers=auth["admin"], params={"product": "Unobtainium"})
    assert response.status_code == 422
    assert "Pluvicto" in response.json()["message"]


def test_one_centre_is_shown_and_an_unknown_one_is_not_found(
    client: TestClient, clinic: Clinic, auth: dict[str, Headers]
) -> None:
    leeds = clinic.call("GET", "/centres/leeds", "doc-london")
    assert leeds["id"] == "leeds"
    assert leeds["region"] == "North East and Yorkshire"
    assert leeds["chairs"] > 0 and leeds["daily_activity_limit_gbq"] > 0
    assert client.get("/api/v1/centres/atlantis", headers=auth["doc-london"]).status_code == 404
    assert client.get("/api/v1/centres/bad%20id", headers=auth["doc-london"]).status_code == 422


def test_staff_are_filtered_by_centre_and_role(clinic: Clinic) -> None:
    practitioners = clinic.call(
        "GET", "/staff", "coord-leeds", params={"centre_id": "leeds", "role": "authorised_practitioner"}
    )
    assert practitioners["total"] == 2
    assert [s["id"] for s in practitioners["items"]] == ["leeds-ap-1", "leeds-ap-2"]
    assert all(s["licences"] for s in practitioners["items"])
    leeds = every(clinic, "/staff", "coord-leeds", centre_id="leeds")
    assert {s["centre_id"] for s in leeds} == {"leeds"}
    assert len(leeds) > practitioners["total"]
    assert {s["role"] for s in leeds} >= {"authorised_practitioner", "technologist", "nurse"}


def test_a_licence_within_ninety_days_of_expiry_is_flagged_expiring_soon(clinic: Clinic) -> None:
    today = datetime.now(UTC).date()
    staff = every(clinic, "/staff", "analyst")
    licences = [lic for member in staff for lic in member["licences"]]
    assert licences
    for licence in licences:
        expires_on = date.fromisoformat(licence["expires_on"])
        assert licence["expiring_soon"] == (expires_on <= today + timedelta(days=90)), licence


def test_the_expiry_filter_finds_the_staff_whose_licence_expires_within_the_days_given(
    clinic: Clinic,
) -> None:
    today = datetime.now(UTC).date()
    staff = every(clinic, "/staff", "analyst")
    first_expiry = {
        s["id"]: min(date.fromisoformat(lic["expires_on"]) for lic in s["licences"])
        for s in staff
        if s["licences"]
    }
    soonest = min(first_expiry.values())
    days = max((soonest - today).days, 0)
    found = every(clinic, "/staff", "analyst", licence_expiring_within_days=days)
    expected = {who for who, expiry in first_expiry.items() if expiry <= today + timedelta(days=days)}
    assert {s["id"] for s in found} == expected
    assert 0 < len(expected) < len(first_expiry)
    everyone_licensed = every(clinic, "/staff", "analyst", licence_expiring_within_days=3650)
    assert {s["id"] for s in everyone_licensed} == set(first_expiry)


def test_reference_data_needs_a_login_but_no_particular_role(
    client: TestClient, auth: dict[str, Headers]
) -> None:
    for path in ("/api/v1/centres", "/api/v1/centres/leeds", "/api/v1/staff"):
        assert client.get(path).status_code == 401
        for user in ("coord-leeds", "doc-london", "maker", "analyst", "admin"):
            assert client.get(path, headers=auth[user]).status_code == 200, (path, user)


def test_pagination_bounds_are_refused_with_a_message(client: TestClient, auth: dict[str, Headers]) -> None:
    for params in ({"limit": 0}, {"limit": 501}, {"offset": -1}):
        response = client.get("/api/v1/staff", headers=auth["admin"], params=params)
        assert response.status_code == 422, params
        assert next(iter(params)) in response.json()["message"]
