"""Driving the admin in Debian's headless Chromium through Playwright (never a downloaded browser)."""

import shutil

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

needs_chromium = pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian's chromium (make browser)")


PASSWORD = "s3cret-pass"


def log_in(page, url: str | None, username: str = "root", password: str = PASSWORD) -> None:
    """Open `url` (a page that asks to sign in; None: the one open) and sign in."""
    if url is not None:
        page.goto(url)
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("[type=submit]")
