"""A patient's timeline and referral form: the pathway walked through the pages, each role
offered only its own steps, and no other centre's patient, nor anyone's identity, shown
where it must not be."""

from __future__ import annotations

import html
import re

from clinic import Clinic
from desk import Desk
from desk import text_of as tags_off

WALK_REFERRAL = {
    "product": "lu177-vipivotide-tetraxetan",
    "indication": "PSMA-positive mCRPC",
    "weight_kg": "",
    "name": "Walk Patient",
    "date_of_birth": "1951-02-03",
    "hospital_number": "W-42",  # the walk's patient; other tests take numbers of their own
    "reason": "progressing on ARPI",
}


def text_of(page: str) -> str:
    """The page's words as a reader sees them: tags off, entities (&#39;) read."""
    return html.unescape(tags_off(page))


def _flash(desk: Desk, response_location: str) -> str:
    """The page a form's redirect leads to, as words (its flash message at the top)."""
    return text_of(desk.page(response_location))


def _done(desk: Desk, path: str, data: dict[str, str]) -> str:
    """Post a form from the page at `path`'s patient; it must succeed; the page it leads to."""
    response = desk.post(path, data, referer=path.rsplit("/", 1)[0])
    assert response.status_code == 303, response.text
    page = _flash(desk, response.headers["location"])
    assert "flash error" not in desk.client.get(response.headers["location"]).text, page
    return page


def test_the_pathway_walks_from_referral_to_an_order_through_the_pages(desks: dict[str, Desk]) -> None:
    coordinator, physician = desks["coord-leeds"], desks["doc-leeds"]
    referred = coordinator.post("/patients/new", {**WALK_REFERRAL, "hospital_number": "W-42"})
    assert referred.status_code == 303
    timeline = referred.headers["location"]
    patient = timeline.removeprefix("/patients/")
    assert re.fullmatch(r"P-[0-9A-F]+", patient)
    page = _flash(coordinator, timeline)
    assert f"{patient} referred" in page and "Walk Patient" in page and "W-42" in page

    page = _done(coordinator, f"/patients/{patient}/imaging-request", {"agent": "ga68-gozetotide"})
    assert "Locametz PET requested" in page and "Imaging requested" in page
    page = _done(coordinator, f"/patients/{patient}/imaging-result", {"result": "positive"})
    assert "Imaging recorded as positive" in page
    page = _done(physician, f"/patients/{patient}/mdt-decision", {"decision": "approve", "reason": "fit"})
    assert "MDT decision recorded: approve" in page and "coordinator: order the first cycle" in page

    form = coordinator.page(f"/patients/{patient}/order")
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form)
    preferred = re.search(r'id="preferred_at"[^>]*value="([^"]+)"', form)
    assert key and preferred
    ordered = coordinator.post(
        f"/patients/{patient}/order",
        {"idempotency_key": key.group(1), "preferred_at": preferred.group(1), "intent": "order"},
    )
    assert ordered.status_code == 303 and ordered.headers["location"].startswith("/orders/O-")
    journey = coordinator.page(ordered.headers["location"])
    words = text_of(journey)
    assert "placed for cycle 1" in words and "Next: the manufacturer confirms it" in words
    assert "1. Batch" in words and "2. Shipment" in words and "3. Chair" in words
    assert '<svg class="decay-chart" role="img"' in journey and "<desc " in journey

    moves = text_of(coordinator.page(timeline))
    for move in (
        "refer by coord-leeds",
        "request imaging by coord-leeds",
        "approve by doc-leeds",
        "order by ",
    ):
        assert move in moves, move


def test_each_role_is_offered_only_its_own_steps(desks: dict[str, Desk], web_clinic: Clinic) -> None:
    patient = web_clinic.refer("leeds")
    coordinator = desks["coord-leeds"].page(f"/patients/{patient}")
    physician = desks["doc-leeds"].page(f"/patients/{patient}")
    assert 'action="/patients/' + patient + '/imaging-request"' in coordinator
    assert "imaging-request" not in physician and "Discontinue treatment" in physician
    assert "Discontinue treatment" not in coordinator
    approved = web_clinic.approve("leeds")
    coordinator = desks["coord-leeds"].page(f"/patients/{approved}")
    physician = desks["doc-leeds"].page(f"/patients/{approved}")
    assert f'href="/patients/{approved}/order"' in coordinator
    assert "/order" not in physician.replace(f"/patients/{approved}/order-", "")
    assert "mdt-decision" not in coordinator and "mdt-decision" not in physician  # decided already


def test_a_step_the_pathway_refuses_comes_back_to_the_timeline_saying_why(
    desks: dict[str, Desk], web_clinic: Clinic
) -> None:
    patient = web_clinic.refer("leeds")
    timeline = f"/patients/{patient}"
    result = {"result": "positive"}
    response = desks["coord-leeds"].post(f"{timeline}/imaging-result", result, referer=timeline)
    assert response.status_code == 303 and response.headers["location"] == timeline
    page = text_of(desks["coord-leeds"].page(timeline))
    assert "cannot 'record_positive' at stage 'referred'" in page


def test_a_physician_may_not_order(desks: dict[str, Desk], web_clinic: Clinic) -> None:
    patient = web_clinic.approve("leeds")
    assert desks["doc-leeds"].get(f"/patients/{patient}/order").status_code == 403
    form = f"/patients/{patient}"
    response = desks["doc-leeds"].post(f"{form}/order", {"preferred_at": "2030-01-01T09:00"}, referer=form)
    assert response.status_code == 303
    assert "this is done by: coordinator; you are physician" in text_of(desks["doc-leeds"].page(form))
    assert web_clinic.call("GET", f"/patients/{patient}", "coord-leeds")["stage"] == "mdt_approved"


def test_another_centre_cannot_tell_a_patient_is_there(desks: dict[str, Desk], web_clinic: Clinic) -> None:
    leeds = web_clinic.refer("leeds")
    for user in ("coord-london", "doc-london"):
        theirs = desks[user].get(f"/patients/{leeds}")
        missing = desks[user].get("/patients/P-0000000000")
        assert theirs.status_code == missing.status_code == 404
        assert "not found" in theirs.text and "Leeds" not in theirs.text


def test_the_manufacturer_sees_the_pseudonym_but_never_the_identity(
    desks: dict[str, Desk], web_clinic: Clinic
) -> None:
    patient = web_clinic.refer("leeds")
    own = text_of(desks["coord-leeds"].page(f"/patients/{patient}"))
    assert "Test Patient" in own and "05 May 1955" in own
    for user in ("maker", "admin"):
        seen = text_of(desks[user].page(f"/patients/{patient}"))
        assert patient in seen and "Test Patient" not in seen and "1955" not in seen
        assert "identifying details are shown only to the patient's own centre" in seen
        assert "What you can do now" in seen and "Nothing for your role" in seen
    assert desks["analyst"].get(f"/patients/{patient}").status_code == 403


def test_a_referral_missing_a_field_is_shown_again_as_typed(desks: dict[str, Desk]) -> None:
    form = desks["coord-leeds"].page("/patients/new")
    assert "Pluvicto" in form and "Lutathera" in form and "Xofigo" not in form  # the centre's products
    assert all(f'for="{name}"' in form for name in ("product", "indication", "name", "date_of_birth"))
    response = desks["coord-leeds"].post(
        "/patients/new", {**WALK_REFERRAL, "date_of_birth": "", "hospital_number": "W-43"}
    )
    assert response.status_code == 422
    assert "identity.date_of_birth" in response.text and 'value="Walk Patient"' in response.text
    assert desks["doc-leeds"].get("/patients/new").status_code == 403


def test_cancelling_the_current_order_says_what_it_costs(desks: dict[str, Desk], web_clinic: Clinic) -> None:
    patient = web_clinic.approve("leeds")
    order = web_clinic.order(patient)
    timeline = f"/patients/{patient}"
    page = desks["coord-leeds"].page(timeline)
    assert f"Cancel order {order['id']}" in page
    response = desks["coord-leeds"].post(
        f"{timeline}/cancel-order", {"order_id": order["id"], "reason": "patient unwell"}, referer=timeline
    )
    assert response.status_code == 303
    page = text_of(desks["coord-leeds"].page(timeline))
    assert f"Order {order['id']} cancelled;" in page and "Order the cycle again when ready" in page
    assert web_clinic.call("GET", f"/orders/{order['id']}", "coord-leeds")["status"] == "cancelled"


def test_a_physician_discontinues_and_the_pathway_offers_nothing_more(
    desks: dict[str, Desk], web_clinic: Clinic
) -> None:
    patient = web_clinic.refer("leeds")
    page = _done(desks["doc-leeds"], f"/patients/{patient}/discontinue", {"reason": "patient_choice"})
    assert "Treatment discontinued (patient choice); the pathway has ended." in page
    assert "Nothing for your role at this stage" in page and "none: the pathway has ended" in page
    assert "Nothing for your role" in text_of(desks["coord-leeds"].page(f"/patients/{patient}"))
