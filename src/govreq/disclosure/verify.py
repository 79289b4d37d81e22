"""Offline verification of a production package (or of a manifest beside its files).

Runs without a govreq installation's database or settings, so an agency, a court or an auditor
can check what they received::

    python -m govreq.disclosure.verify PACKAGE.zip --public-key BASE64
    govreq production verify PACKAGE.zip [--public-key BASE64]

It checks the manifest's Ed25519 signature, that the package holds exactly the files the
manifest lists, and every file's size and SHA-256; it names the first mismatch and exits 1.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import csv
import hashlib
import io
import json
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from govreq.core.csvcells import unsafe_row

MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"
EXTRA_FILES = frozenset({MANIFEST_NAME, SIGNATURE_NAME, "README.txt"})
_BLOCK = 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class Verification:
    ok: bool
    problem: str  # the first mismatch, or "" when ok
    manifest: dict[str, Any] | None
    files: int = 0
    records: int = 0
    key_id: str = ""


def _key_id(public_key: str) -> str:
    return hashlib.sha256(base64.b64decode(public_key)).hexdigest()[:16]


def _signature_ok(public_key: str, signature: str, payload: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key)).verify(
            base64.b64decode(signature.strip()), payload
        )
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def _digest(handle: IO[bytes]) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while block := handle.read(_BLOCK):
        digest.update(block)
        size += len(block)
    return digest.hexdigest(), size


def verify_contents(
    *,
    manifest_bytes: bytes,
    signature: str,
    names: set[str],
    opener: Callable[[str], IO[bytes]],
    public_key: str | None,
) -> Verification:
    """Check a manifest, its signature and the files it lists (``opener`` opens one by name)."""
    try:
        manifest = json.loads(manifest_bytes)
    except ValueError:
        return Verification(ok=False, problem=f"{MANIFEST_NAME} is not JSON", manifest=None)
    embedded = (manifest.get("signing_key") or {}).get("public_key", "")
    key = public_key or embedded
    if not key:
        return Verification(
            ok=False, problem="no public key to check the signature", manifest=manifest
        )
    if public_key and embedded and public_key != embedded:
        return Verification(
            ok=False,
            problem=f"the manifest names signing key {_key_id(embedded)}, not the key given "
            f"({_key_id(public_key)})",
            manifest=manifest,
        )
    if not _signature_ok(key, signature, manifest_bytes):
        return Verification(
            ok=False, problem=f"{MANIFEST_NAME}: the signature does not match", manifest=manifest
        )
    listed = {entry["name"] for entry in manifest.get("files", [])}
    for name in sorted(names - listed - EXTRA_FILES):
        return Verification(ok=False, problem=f"{name}: not in the manifest", manifest=manifest)
    records = 0
    for entry in manifest.get("files", []):
        name = entry["name"]
        if name not in names:
            return Verification(ok=False, problem=f"{name}: missing", manifest=manifest)
        with opener(name) as handle:
            sha256, size = _digest(handle)
        if size != entry["size"]:
            return Verification(
                ok=False,
                problem=f"{name}: {size} bytes, the manifest says {entry['size']}",
                manifest=manifest,
            )
        if sha256 != entry["sha256"]:
            return Verification(
                ok=False,
                problem=f"{name}: SHA-256 {sha256} does not match the manifest",
                manifest=manifest,
            )
        if entry.get("format") == "csv":
            records += int(entry.get("records", 0))
    return Verification(
        ok=True,
        problem="",
        manifest=manifest,
        files=len(listed),
        records=records,
        key_id=_key_id(key),
    )


def verify_path(path: Path, *, public_key: str | None = None) -> Verification:
    """Verify a package ZIP, or a manifest.json with its manifest.sig and files beside it."""
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
                if MANIFEST_NAME not in names or SIGNATURE_NAME not in names:
                    return Verification(
                        ok=False,
                        problem="the package has no manifest and signature",
                        manifest=None,
                    )
                return verify_contents(
                    manifest_bytes=archive.read(MANIFEST_NAME),
                    signature=archive.read(SIGNATURE_NAME).decode("ascii", "replace"),
                    names=names,
                    opener=lambda name: archive.open(name),
                    public_key=public_key,
                )
        except (zipfile.BadZipFile, OSError) as error:
            # A byte changed inside a stored file fails the ZIP's own CRC-32 first.
            return Verification(ok=False, problem=f"the package is damaged: {error}", manifest=None)
    folder = path.parent
    signature_file = folder / SIGNATURE_NAME
    if not signature_file.exists():
        return Verification(ok=False, problem=f"no {SIGNATURE_NAME} beside {path}", manifest=None)
    names = {
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }
    return verify_contents(
        manifest_bytes=path.read_bytes(),
        signature=signature_file.read_text(encoding="ascii", errors="replace"),
        names=names,
        opener=lambda name: (folder / name).open("rb"),
        public_key=public_key,
    )


def read_csv_member(data: bytes, *, manifest: dict[str, Any]) -> list[list[str]]:
    """A package's CSV file as the values collected: its header row, then one row per record.
    A manifest with ``"csv_cells": "formula-safe/1"`` wrote text cells that a spreadsheet would
    run with one leading apostrophe; it is removed here, so the rows match the JSON file's."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    if manifest.get("csv_cells") == "formula-safe/1":
        return [unsafe_row(row) for row in rows]
    return rows


def report_lines(result: Verification) -> Iterator[str]:
    manifest = result.manifest or {}
    request = manifest.get("request", {})
    if result.ok:
        yield (
            f"OK: {result.files} files, {result.records} records, signed by key {result.key_id}; "
            f"request {request.get('reference', '?')}, production {manifest.get('production', '?')}"
        )
    else:
        yield f"FAILED: {result.problem}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="the package ZIP, or its manifest.json")
    parser.add_argument("--public-key", help="the platform's signing key (base64 of 32 bytes)")
    args = parser.parse_args(argv)
    result = verify_path(args.path, public_key=args.public_key)
    for line in report_lines(result):
        print(line)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
