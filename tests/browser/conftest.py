"""End-to-end journeys in a real Chromium against `govreq serve --demo` on a free port.

Chromium is Debian's (/usr/bin/chromium), driven by Playwright for Python. Screenshots of every
step are kept under test-artifacts/browser/. Without Chromium the journeys are skipped, unless
GOVREQ_REQUIRE_BROWSER is set (CI), where a missing browser is a failure.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
DEMO_PASSWORD = "govreq-demo-2020"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    totp: dict[str, str] = field(default_factory=dict)  # staff e-mail -> base32 secret
    last_counter: dict[str, int] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)  # shared between journeys

    def mail_to(self, address: str) -> list[str]:
        """Every message the development mailer wrote for ``address``, oldest first."""
        mail_dir = self.data_dir / "mail"
        if not mail_dir.exists():
            return []
        messages = [
            p.read_text(errors="replace") for p in sorted(mail_dir.iterdir(), key=os.path.getmtime)
        ]
        return [m for m in messages if address.lower() in m.lower()]

    def govreq(self, *args: str) -> str:
        """Run a ``govreq`` command against this server's data (as its operator would)."""
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "GOVREQ_ENV")}
        env["GOVREQ_DATA_DIR"] = str(self.data_dir)
        env.pop("DJANGO_SETTINGS_MODULE", None)
        done = subprocess.run(
            [sys.executable, "-m", "govreq", *args],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout


@pytest.fixture(scope="package")
def govreq_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("browser-data")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "GOVREQ_ENV")}
    env["GOVREQ_DATA_DIR"] = str(data_dir)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    log = (data_dir / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "govreq", "serve", "--demo", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(
                "govreq serve did not start:\n" + (data_dir / "server.log").read_text()
            )
        time.sleep(0.3)
    yield LiveServer(url=url, data_dir=data_dir)
    process.terminate()
    process.wait(timeout=30)


# Package-scoped, so both end with the last journey: Playwright's synchronous API keeps an event
# loop running in the test process while it is open, and Django refuses database calls there
# (under pytest-xdist other modules' tests may follow the journeys on the same process).
@pytest.fixture(scope="package")
def chromium() -> Iterator[Any]:
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        message = "Debian's Chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("GOVREQ_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium: Any) -> Iterator[Any]:
    """A fresh browser context per user (its own cookies), closed after the test."""
    contexts: list[Any] = []

    def make(locale: str = "en-GB") -> Any:
        context = chromium.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield make
    for context in contexts:
        context.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def totp_code(server: LiveServer, email: str) -> str:
    """A fresh authenticator code the server has not seen yet (codes are single-use)."""
    secret = base64.b32decode(server.totp[email] + "=" * (-len(server.totp[email]) % 8))
    totp = TOTP(secret, 6, SHA1(), 30, enforce_key_length=False)  # noqa: S303 - RFC 6238
    while True:
        counter = int(time.time()) // 30
        if counter > server.last_counter.get(email, 0):
            server.last_counter[email] = counter
            return totp.generate(counter * 30).decode()
        time.sleep(1)


def staff_sign_in(server: LiveServer, page: Any, email: str, name: str) -> None:
    """Password, then the authenticator (set up on first sign-in)."""
    page.goto(f"{server.url}/console/sign-in")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    if "/enrol" in page.url:
        server.totp[email] = page.get_by_test_id("totp-secret").inner_text().strip()
        shot(page, f"{name}-enrol")
        page.get_by_label("Code from your authenticator, or a recovery code").fill(
            totp_code(server, email)
        )
        page.get_by_role("button", name="Confirm").click()
        page.get_by_test_id("recovery-codes").wait_for()
        page.get_by_role("link", name="Continue").click()
    else:
        page.get_by_label("Code from your authenticator, or a recovery code").fill(
            totp_code(server, email)
        )
        page.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("queue").wait_for()


_INK = """canvas => {
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    let ink = 0;
    for (let i = 0; i < pixels.data.length; i += 4) {
        if (pixels.data[i + 3] > 0 && pixels.data[i] < 128) { ink += 1; }
    }
    return ink;
}"""


def pdf_drawn(page: Any) -> int:
    """Waits for the case page's first PDF to be drawn by PDF.js; the dark pixels on its first
    page (a blank or failed drawing has none)."""
    document = page.get_by_test_id("document-inline").first
    document.and_(page.locator("[data-state=shown]")).wait_for(timeout=30_000)
    return int(page.get_by_test_id("pdf-page").first.evaluate(_INK))
