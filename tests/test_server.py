"""`govreq` as a user runs it: real processes, a real HTTP server, a real SQLite file."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import valid_submission

pytestmark = pytest.mark.server


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "GOVREQ_ENV")}
    env["GOVREQ_DATA_DIR"] = str(data_dir)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def govreq(data_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "govreq", *args],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"govreq {' '.join(args)} failed: {result.stderr}")
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(method: str, url: str, body: object = None, token: str | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("govreq-data")
    govreq(data_dir, "migrate", "-v", "0")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "govreq", "serve", "--port", str(port), "--workers", "1"],
        env=_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            output = process.stdout.read() if process.stdout else ""
            process.kill()
            raise AssertionError(f"govreq serve did not start:\n{output}")
        time.sleep(0.2)
    yield data_dir, base
    process.terminate()
    process.wait(timeout=20)


def test_submit_over_real_http(server):
    data_dir, base = server
    govreq(
        data_dir,
        "agency",
        "add",
        "--name",
        "HKPF",
        "--jurisdiction",
        "HK",
        "--kind",
        "POLICE",
        "--domain",
        "police.gov.hk",
    )
    govreq(data_dir, "agency", "verify", "1")
    govreq(
        data_dir,
        "officer",
        "add",
        "--agency",
        "1",
        "--email",
        "chan@police.gov.hk",
        "--name",
        "Chan",
    )
    token = govreq(data_dir, "officer", "token", "chan@police.gov.hk").stdout.strip()

    status, spec = http("GET", f"{base}/api/v1/openapi.json")
    assert status == 200
    assert spec["info"]["title"] == "govreq"

    status, created = http("POST", f"{base}/api/v1/requests", valid_submission(), token)
    assert status == 201, created
    status, fetched = http("GET", f"{base}/api/v1/requests/{created['id']}", token=token)
    assert status == 200
    assert fetched["reference"] == created["reference"]

    status, error = http("POST", f"{base}/api/v1/requests", valid_submission(kind="X"), token)
    assert status == 422
    assert error["errors"][0]["field"] == "kind"

    shown = govreq(data_dir, "request", "show", created["reference"], "--json").stdout
    assert json.loads(shown)["id"] == created["id"]
    assert "OK:" in govreq(data_dir, "audit", "verify").stdout


def test_security_headers(server):
    _, base = server
    with urllib.request.urlopen(f"{base}/", timeout=5) as response:
        headers = response.headers
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


def test_cli_errors_are_one_line_and_non_zero(server):
    data_dir, _ = server
    result = govreq(data_dir, "agency", "verify", "4242", check=False)
    assert result.returncode == 3
    assert result.stderr.strip().count("\n") == 0
    assert "no agency with id 4242" in result.stderr
    result = govreq(
        data_dir,
        "officer",
        "add",
        "--agency",
        "1",
        "--email",
        "x@gmail.com",
        "--name",
        "X",
        check=False,
    )
    assert result.returncode == 1
    assert "email" in result.stderr


def test_production_mode_refuses_a_missing_secret_key(tmp_path):
    env = _env(tmp_path) | {"GOVREQ_ENV": "production", "GOVREQ_ALLOWED_HOSTS": "gov.example"}
    env.pop("GOVREQ_SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "-m", "govreq", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "GOVREQ_SECRET_KEY" in result.stderr
    env["GOVREQ_SECRET_KEY"] = "changeme"
    result = subprocess.run(
        [sys.executable, "-m", "govreq", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "GOVREQ_SECRET_KEY" in result.stderr
