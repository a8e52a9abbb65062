"""Playwright driving Debian's Chromium (never a downloaded browser)."""

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

if TYPE_CHECKING:
    from openhotline.accounts.models import User

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        # A form shown again with its errors answers 400/429 on purpose; Chromium logs
        # that as "Failed to load resource". Everything else logged as an error counts.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    page.on("console", watch)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response",
        lambda response: (
            problems.append(f"{response.status} {response.url}")
            if response.status == 404 or response.status >= 500
            else None
        ),
    )
    yield page
    context.close()
    # A Content-Security-Policy violation, a script error, a missing asset or a server
    # error is a failure of the page.
    assert problems == []


def sign_in(page: Page, user: "User") -> None:
    """Fill the staff sign-in form the browser was sent to, with password and a TOTP code."""
    from tests.conftest import totp_now

    page.get_by_label("User name").fill(user.username)
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_label("Code from your authenticator app").fill(totp_now(user))
    page.get_by_role("button", name="Sign in").click()
