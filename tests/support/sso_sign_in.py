"""The Identity Center sign-in pages (device, /authorize) driven in a real browser."""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext


def sign_in_on_page(
    browser: BrowserContext,
    url: str,
    user: str,
    password: str,
    new_password: str | None = None,
) -> None:
    """Signs in on the page at `url` the way a person does; with `new_password`, the
    one-time `password` is replaced first, as the page asks."""
    page = browser.new_page()
    page.goto(url)
    if new_password is not None:
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", password)
        page.get_by_role("button", name=re.compile("Sign in|Allow")).first.click()
        page.wait_for_selector("input[name=new_password]")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    if new_password is not None:
        page.fill("input[name=new_password]", new_password)
    page.get_by_role("button", name=re.compile("^(Sign in|Allow)$")).first.click()
    page.wait_for_load_state()
