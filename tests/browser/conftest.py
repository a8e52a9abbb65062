"""Playwright driving Debian's Chromium (never a downloaded browser)."""

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import Browser, ConsoleMessage, Page, Response, sync_playwright

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

    def answered(response: Response) -> None:
        # A page that answers 404 is one a test went to on purpose (the error pages) and
        # checks itself; a missing script, style or picture is a broken page.
        missing = response.status == 404 and response.request.resource_type != "document"
        if missing or response.status >= 500:
            problems.append(f"{response.status} {response.url}")

    page.on("response", answered)
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


# Violations of these impacts fail a test; "moderate" and "minor" ones are left to review.
FAILING_IMPACTS = frozenset({"serious", "critical"})


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core (the copy bundled in the axe-playwright-python wheel; no CDN) on the page.

    page.evaluate runs through the DevTools protocol, which our Content-Security-Policy
    (script-src 'self', no inline script) does not block, so the scan needs no exception in
    the policy and sees the page exactly as served.
    """
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    results: dict[str, Any] = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']})"
    )
    return [v for v in results["violations"] if v.get("impact") in FAILING_IMPACTS]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            target = ", ".join(str(part) for part in node["target"])
            lines.append(f"    {target}: {node.get('failureSummary', '').replace(chr(10), ' ')}")
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    """Fail on any serious or critical axe-core violation of the page as it is now shown."""
    violations = axe_violations(page)
    assert not violations, f"{page.url}\n{describe_violations(violations)}"
