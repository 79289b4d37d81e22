"""Two `govreq serve` processes on separate data directories, sharing one PostgreSQL database
and one S3-compatible object store (moto's server on loopback): what one node stores or issues,
the other serves or accepts, and rate limits count across both (docs/deploy.md).

Runs only when DATABASE_URL is PostgreSQL (the CI's PostgreSQL step); it makes and drops a
database of its own, since the servers cannot see the test's uncommitted transaction."""

from __future__ import annotations

import base64
import http.cookiejar
import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from tests.conftest import valid_submission
from tests.test_object_storage import S3_ENV, free_port
from tests.test_server import http as api

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
        reason="two nodes share a PostgreSQL database (DATABASE_URL)",
    ),
]

PDF = b"%PDF-1.4 uploaded through node A\n"
PASSWORD = "two-nodes-staff-password-2027"


def _admin(sql: str) -> None:
    import psycopg

    parts = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql)


class Node:
    def __init__(self, data_dir: Path, env: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.env = {**env, "GOVREQ_DATA_DIR": str(data_dir)}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[str] | None = None

    def govreq(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "govreq", *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == 0, f"govreq {' '.join(args)}: {result.stderr}"
        return result.stdout

    def launch(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "govreq", "serve", "--port", str(self.port), "--workers", "1"],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                output = self.process.stdout.read() if self.process.stdout else ""
                self.process.kill()
                raise AssertionError(f"govreq serve did not start:\n{output}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)


@pytest.fixture(scope="module")
def nodes(tmp_path_factory, s3_endpoint) -> Iterator[tuple[Node, Node]]:
    import boto3

    name = f"govreq_two_nodes_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    bucket = f"govreq-two-nodes-{uuid.uuid4().hex[:8]}"
    boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=S3_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_ENV["AWS_SECRET_ACCESS_KEY"],
    ).create_bucket(Bucket=bucket)
    _admin(f'CREATE DATABASE "{name}"')
    parts = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    env = {k: v for k, v in os.environ.items() if k not in ("GOVREQ_ENV", "DJANGO_SETTINGS_MODULE")}
    env.update(
        S3_ENV,
        DATABASE_URL=urllib.parse.urlunsplit(parts._replace(path=f"/{name}")),
        # What every node shares (docs/deploy.md): the secret key, the signing key, the store.
        GOVREQ_SECRET_KEY=secrets.token_urlsafe(48),
        GOVREQ_REPORT_SIGNING_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        GOVREQ_STORAGE_URL=f"s3://{bucket}/govreq",
        GOVREQ_S3_ENDPOINT_URL=s3_endpoint,
        AWS_DEFAULT_REGION="us-east-1",
        GOVREQ_COOKIE_SECURE="false",  # plain HTTP on loopback
    )
    a = Node(tmp_path_factory.mktemp("node-a"), env)
    b = Node(tmp_path_factory.mktemp("node-b"), env)
    try:
        # Both started at once on an empty database: one applies the migrations, the other
        # waits for it (`govreq serve` on PostgreSQL), instead of both migrating at once.
        a.launch()
        b.launch()
        a.wait_ready()
        b.wait_ready()
        yield a, b
    finally:
        a.stop()
        b.stop()
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def s3_endpoint():
    server_module = pytest.importorskip("moto.server")
    port = free_port()
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="module")
def officer(nodes) -> str:
    a, b = nodes
    a.govreq("agency", "add", "--name", "HKPF", "--jurisdiction", "HK", "--kind", "POLICE",
             "--domain", "police.gov.hk")  # fmt: skip
    a.govreq("agency", "verify", "1")
    b.govreq("officer", "add", "--agency", "1", "--email", "chan@police.gov.hk", "--name", "Chan")
    return a.govreq("officer", "token", "chan@police.gov.hk").strip()


class Browser:
    """A cookie jar over urllib: one person's browser, whichever node it talks to."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def get(self, url: str) -> tuple[int, str, bytes]:
        return self._open(urllib.request.Request(url))

    def post(
        self, url: str, fields: dict[str, str], page: bytes | None = None
    ) -> tuple[int, str, bytes]:
        """Submit a form, with the CSRF token of ``page`` (by default: GET ``url`` first)."""
        if page is None:
            _status, _location, page = self.get(url)
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert match, page[:500]
        data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": match[1].decode()})
        request = urllib.request.Request(url, data=data.encode(), method="POST")
        request.add_header("Referer", url)
        return self._open(request)

    def _open(self, request: urllib.request.Request) -> tuple[int, str, bytes]:
        try:
            with self.opener.open(request, timeout=20) as response:
                return response.status, response.headers.get("Location", ""), response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location", ""), error.read()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _upload(url: str, token: str, name: str, content: bytes, media_type: str) -> dict[str, Any]:
    boundary = secrets.token_hex(16)
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: {media_type}\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
    request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=20) as response:
        assert response.status == 201
        return json.loads(response.read())


def _totp(secret: str, after: int = 0) -> tuple[str, int]:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    totp = TOTP(key, 6, SHA1(), 30, enforce_key_length=False)  # noqa: S303 - RFC 6238
    while (counter := int(time.time()) // 30) <= after:
        time.sleep(1)
    return totp.generate(counter * 30).decode(), counter


def test_a_document_uploaded_through_one_node_downloads_through_the_other(nodes, officer):
    a, b = nodes
    status, created = api("POST", f"{a.url}/api/v1/requests", valid_submission(), officer)
    assert status == 201, created
    document = _upload(
        f"{a.url}/api/v1/requests/{created['id']}/documents",
        officer,
        "w.pdf",
        PDF,
        "application/pdf",
    )
    # Nothing on node A's disk: the bytes are in the shared store.
    assert not (a.data_dir / "documents").exists()
    staff = "intake@platform.example"
    a.govreq("staff", "add", "--email", staff, "--name", "Ida", "--role", "INTAKE",
             "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    browser = Browser()
    status, location, _page = browser.post(
        f"{b.url}/console/sign-in", {"email": staff, "password": PASSWORD}
    )
    assert status == 302 and "/console/sign-in/enrol" in location, (status, location)
    _status, _location, page = browser.get(f"{b.url}/console/sign-in/enrol")
    secret = re.search(rb'data-testid="totp-secret">([A-Z2-7]+)<', page)[1].decode()
    code, _counter = _totp(secret)
    # The second half of the sign-in on the other node: the session is in the shared database.
    status, _location, page = browser.post(
        f"{a.url}/console/sign-in/enrol", {"code": code}, page=page
    )
    assert status == 200 and b'data-testid="recovery-codes"' in page, page[:2000]
    status, _location, downloaded = browser.get(f"{b.url}/console/documents/{document['id']}")
    assert status == 200
    assert downloaded == PDF


def _code_mailed(address: str, nodes: tuple[Node, Node]) -> str:
    """The sign-in code in the mail to ``address``. Each `govreq serve` runs a worker beside it
    and the mail task is shared, so whichever node's worker takes it writes the mail into its own
    data directory: look in both (a node's own `worker --once` first, to not wait)."""
    nodes[0].govreq("worker", "--once")
    deadline = time.monotonic() + 60
    while True:
        for node in nodes:
            for mail in sorted((node.data_dir / "mail").glob("*"), reverse=True):
                text = mail.read_text(errors="replace")
                if f"To: {address}" in text and (match := re.search(r"\b(\d{4} ?\d{4})\b", text)):
                    return match[1]
        assert time.monotonic() < deadline, f"no sign-in code mailed to {address}"
        time.sleep(0.5)


def test_a_sign_in_code_issued_by_one_node_is_accepted_by_the_other(nodes, officer):
    a, b = nodes
    browser = Browser()
    status, location, _page = browser.post(
        f"{a.url}/portal/sign-in", {"email": "chan@police.gov.hk"}
    )
    assert status == 302 and "/portal/sign-in/code" in location, (status, location)
    code = _code_mailed("chan@police.gov.hk", nodes)
    status, location, _page = browser.post(
        f"{b.url}/portal/sign-in/code", {"email": "chan@police.gov.hk", "code": code}
    )
    assert status == 302 and location.endswith("/portal/"), (status, location)
    status, _location, page = browser.get(f"{a.url}/portal/")  # signed in on node A too
    assert status == 200 and b"Chan" in page


def test_rate_limits_hold_across_both_nodes(nodes, officer):
    a, b = nodes
    address = "nobody@police.gov.hk"  # five codes an hour for one address, whichever node
    answers = []
    for node in (a, b, a, b, a, b):
        status, _location, _page = Browser().post(f"{node.url}/portal/sign-in", {"email": address})
        answers.append(status)
    assert answers == [302, 302, 302, 302, 302, 429]
