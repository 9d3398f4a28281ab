"""HTTP Content-Encoding, undone as the bytes stream in: the one decoder of fetching and verifying.

gzip (and x-gzip, and concatenated gzip members) and deflate (with or without the zlib
header) are decoded; identity and unknown codings pass through unchanged. The decoded
output is capped at ``limit`` bytes so a gzip bomb inflates no further; its length and
sha256 are kept as it goes.
"""

from __future__ import annotations

import hashlib
import zlib
from typing import IO

DECODED_CODINGS = ("gzip", "x-gzip", "deflate")
_CHUNK = 1 << 16


class ContentDecoder:
    """Feed it the body as received; read ``length``, ``sha256``, ``over_limit`` and ``failed``.

    ``passthrough`` is true for identity and codings archiver does not decode: the body is
    then its own decoded form (fed bytes are counted and hashed, never capped). ``sink``,
    when given, receives the decoded bytes of a decoded coding.
    """

    def __init__(self, encoding: str | None, limit: int, sink: IO[bytes] | None = None) -> None:
        self.coding = (encoding or "identity").strip().lower()
        self.passthrough = self.coding not in DECODED_CODINGS
        self.limit = limit
        self.sink = sink
        self.length = 0
        self.sha256 = hashlib.sha256()
        self.over_limit = False
        self.failed: str | None = None
        self._zlib = zlib.decompressobj(15 if self.coding == "deflate" else 47)  # 47: gzip or zlib header; unused when passthrough
        self._raw_deflate_tried = self.coding != "deflate"

    def feed(self, data: bytes) -> None:
        if self.passthrough:
            self.length += len(data)
            self.sha256.update(data)
            return
        while data and not (self.failed or self.over_limit):
            try:
                out = self._zlib.decompress(data, _CHUNK)
            except zlib.error as exc:
                if not self._raw_deflate_tried and self.length == 0:
                    # Some servers send raw deflate without the zlib header.
                    self._raw_deflate_tried = True
                    self._zlib = zlib.decompressobj(-15)
                    continue
                self.failed = f"cannot decode {self.coding} body: {exc}"
                return
            self._emit(out)
            data = self._zlib.unconsumed_tail
            if self._zlib.eof:
                # At eof unused_data holds all input past the member; unconsumed_tail may be stale.
                rest = self._zlib.unused_data
                if rest and self.coding in ("gzip", "x-gzip"):
                    self._zlib = zlib.decompressobj(47)  # concatenated gzip members
                    data = rest
                else:
                    data = b""

    def _emit(self, out: bytes) -> None:
        if not out:
            return
        if self.length + len(out) > self.limit:
            out = out[: self.limit - self.length]
            self.over_limit = True
        self.length += len(out)
        self.sha256.update(out)
        if self.sink is not None:
            self.sink.write(out)

    def finish(self) -> None:
        if self._zlib is not None and not (self.failed or self.over_limit):
            try:
                self._emit(self._zlib.flush())
            except zlib.error as exc:
                self.failed = f"cannot decode {self.coding} body: {exc}"
