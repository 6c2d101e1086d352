"""The analysts' page: the de-identified aggregates as tables, naming no patient or order."""

from __future__ import annotations

import html

from clinic import Clinic
from desk import Desk, text_of


def test_analysts_and_administrators_see_counts_without_ids(
    desks: dict[str, Desk], web_clinic: Clinic
) -> None:
    order = web_clinic.order(web_clinic.approve("london"), "london")
    figures = web_clinic.call("GET", "/aggregates", "analyst")
    for user in ("analyst", "admin"):
        page = desks[user].page("/aggregates")
        shown = html.unescape(text_of(page))
        assert "Patients by centre and stage" in shown and "Orders by status" in shown
        assert "London RLT centre (demo)" in shown and "Pluvicto" in shown
        awaiting = figures["confirmation"]["awaiting"]
        assert f"Awaiting confirmation now {'<5' if awaiting is None else awaiting}" in shown
        assert "Small numbers are hidden. Counts from 1 to 4 are not shown" in shown
        assert order["id"] not in page and order["patient_id"] not in page, user
        assert '<th scope="row">requested</th>' in page


def test_the_aggregates_are_not_for_the_centres_or_the_manufacturer(desks: dict[str, Desk]) -> None:
    for user in ("coord-leeds", "doc-london", "maker"):
        response = desks[user].get("/aggregates")
        assert response.status_code == 403, user
        assert "this page is for: analyst, admin" in response.text
