"""Packages at rest: AES-256-GCM in authenticated chunks, and the package keys' wrapping.

A sealed file is ``MAGIC || nonce prefix (7 bytes)`` followed by chunks of at most 64 KiB of
plaintext, each encrypted with AES-256-GCM under the package key with the nonce
``prefix || chunk number (4 bytes) || last-chunk flag (1 byte)`` and the header as associated
data. Every chunk is authenticated before its plaintext is used, so memory stays flat for any
size and a reader never acts on bytes an attacker changed; a reordered, dropped, truncated or
appended chunk fails (the numbering and the final flag are inside the authentication). This is
the construction of the "STREAM" online AEAD (Hoang, Reyhanitabar, Rogaway, Vizár 2015), as
used by age and Tink.

Each package has its own random key; the key is stored wrapped (AES-256-GCM again) by a key
derived with HKDF-SHA256 from the configured secret, bound to the production's id, so a
wrapped key copied onto another production does not unwrap.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Iterator
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"GRQSEAL1"
CHUNK = 64 * 1024
_TAG = 16
_PREFIX = 7
HEADER_SIZE = len(MAGIC) + _PREFIX
_WRAP_INFO = b"govreq package key wrap v1"


class SealBroken(Exception):
    """The sealed bytes were changed, truncated or are not a sealed file."""


def new_package_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    if counter >= 2**32:
        raise ValueError("a sealed file holds at most 2**32 chunks (256 TiB)")
    return prefix + counter.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


class SealWriter:
    """Encrypt a stream into ``sink``: ``write()`` any number of times, then ``close()``."""

    def __init__(self, sink: IO[bytes], key: bytes) -> None:
        self._sink = sink
        self._aead = AESGCM(key)
        prefix = os.urandom(_PREFIX)
        self._header = MAGIC + prefix
        self._prefix = prefix
        self._counter = 0
        self._buffer = bytearray()
        self._closed = False
        self.plaintext_size = 0
        sink.write(self._header)

    def write(self, data: bytes) -> None:
        if self._closed:
            raise ValueError("the sealed file is closed")
        self.plaintext_size += len(data)
        self._buffer += data
        # Keep at least one byte back: the last chunk must be sealed with the final flag.
        while len(self._buffer) > CHUNK:
            self._emit(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]

    def _emit(self, chunk: bytes, *, last: bool) -> None:
        nonce = _nonce(self._prefix, self._counter, last)
        self._sink.write(self._aead.encrypt(nonce, chunk, self._header))
        self._counter += 1

    def close(self) -> None:
        if not self._closed:
            self._emit(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._closed = True


def seal(chunks: Iterable[bytes], sink: IO[bytes], key: bytes) -> int:
    """Seal every chunk into ``sink``; returns the plaintext size."""
    writer = SealWriter(sink, key)
    for chunk in chunks:
        writer.write(chunk)
    writer.close()
    return writer.plaintext_size


def unseal(source: IO[bytes], key: bytes) -> Iterator[bytes]:
    """The plaintext of a sealed stream, chunk by chunk, each authenticated before it is
    yielded. Raises SealBroken on any change, truncation or extension."""
    header = source.read(HEADER_SIZE)
    if len(header) != HEADER_SIZE or not header.startswith(MAGIC):
        raise SealBroken("not a sealed govreq package")
    aead = AESGCM(key)
    prefix = header[len(MAGIC) :]
    counter = 0
    block = source.read(CHUNK + _TAG)
    while True:
        following = source.read(CHUNK + _TAG) if len(block) == CHUNK + _TAG else b""
        last = not following
        try:
            chunk = aead.decrypt(_nonce(prefix, counter, last), block, header)
        except (InvalidTag, ValueError):
            raise SealBroken(f"chunk {counter} does not authenticate") from None
        if last:
            if source.read(1):
                raise SealBroken(f"bytes follow the final chunk {counter}")
            yield chunk
            return
        yield chunk
        counter += 1
        block = following


def _key_encryption_key(secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"govreq", info=_WRAP_INFO).derive(
        secret.encode("utf-8")
    )


def wrap_key(package_key: bytes, *, secret: str, binding: str) -> str:
    """The package key encrypted under a key derived from ``secret``, bound to ``binding``."""
    nonce = os.urandom(12)
    wrapped = AESGCM(_key_encryption_key(secret)).encrypt(
        nonce, package_key, binding.encode("utf-8")
    )
    return base64.b64encode(nonce + wrapped).decode("ascii")


def unwrap_key(wrapped: str, *, secret: str, binding: str) -> bytes:
    raw = base64.b64decode(wrapped)
    try:
        return AESGCM(_key_encryption_key(secret)).decrypt(
            raw[:12], raw[12:], binding.encode("utf-8")
        )
    except InvalidTag:
        raise SealBroken(
            "the package key does not unwrap (another production's key, or the secret changed)"
        ) from None
