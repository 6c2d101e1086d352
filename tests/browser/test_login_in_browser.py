"""Logging in through the real page, in Chromium."""

from __future__ import annotations

from playwright.sync_api import expect
from screen import Screen


def test_a_coordinator_logs_in_and_lands_on_the_pathway_board(screen: Screen) -> None:
    screen.open("/board")
    expect(screen.page).to_have_url(f"{screen.base_url}/login?next=/board")
    screen.shot("login")
    screen.login("coord-leeds")
    expect(screen.page).to_have_url(f"{screen.base_url}/board")
    expect(screen.page.get_by_role("heading", level=1)).to_contain_text("Pathway board")
    screen.shot("board")


def test_a_wrong_password_is_said_on_the_page(screen: Screen) -> None:
    screen.open("/login")
    screen.page.get_by_label("Username").fill("coord-leeds")
    screen.page.get_by_label("Password").fill("wrong password")
    screen.page.get_by_role("button", name="Log in").click()
    expect(screen.page.get_by_role("alert")).to_contain_text("wrong username or password")
