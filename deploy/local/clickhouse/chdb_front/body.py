"""The request body as it comes off the socket: Content-Length or chunked, never compressed."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any, BinaryIO

from .errors import ERR_BAD_ARGUMENTS, ERR_UNKNOWN_COMPRESSION_METHOD, CHError, ClientGone

# Bodies are read from the socket in pieces of up to this size, and small pieces
# (the client sends an HTTP chunk per write, e.g. one per row) are coalesced up
# to it before they are handed to chDB.
BODY_PIECE = 1 << 20


class RequestBody:
    """The request body as an iterator of byte pieces.

    ``drain()`` consumes whatever is left so a keep-alive connection stays in
    sync after an error.
    """

    def __init__(self, rfile: BinaryIO, headers: Any) -> None:
        self._rfile = rfile
        self._chunked = "chunked" in (headers.get("Transfer-Encoding") or "").lower()
        length = headers.get("Content-Length")
        try:
            self._remaining = 0 if self._chunked else int(length or 0)
        except ValueError:
            raise CHError(ERR_BAD_ARGUMENTS, f"Invalid Content-Length: {length}") from None
        if self._remaining < 0:
            raise CHError(ERR_BAD_ARGUMENTS, f"Invalid Content-Length: {length}")
        # Our clients never compress requests; refusing beats running compressed bytes as SQL.
        encoding = (headers.get("Content-Encoding") or "").strip().lower()
        if encoding not in ("", "identity"):
            raise CHError(ERR_UNKNOWN_COMPRESSION_METHOD, f"Unknown compression method: {encoding}")
        # One generator, shared by is_empty(), __iter__() and drain().
        self._pieces = self._raw_pieces()
        self._peeked: bytes | None = None

    def _raw_pieces(self) -> Iterator[bytes]:
        try:
            if self._chunked:
                yield from self._chunked_pieces()
                return
            while self._remaining > 0:
                piece = self._rfile.read(min(self._remaining, BODY_PIECE))
                if not piece:
                    raise ClientGone("request body truncated")
                self._remaining -= len(piece)
                yield piece
        except (OSError, socket.timeout) as exc:
            raise ClientGone(str(exc)) from exc

    def _chunked_pieces(self) -> Iterator[bytes]:
        read, readline = self._rfile.read, self._rfile.readline
        while True:
            line = readline(1024)
            if not line.endswith(b"\n"):
                raise ClientGone("malformed chunked body")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise ClientGone(f"malformed chunk size {line[:40]!r}") from None
            if size == 0:
                while readline(8192) not in (b"\r\n", b"\n", b""):  # trailers
                    pass
                return
            while size > 0:
                piece = read(min(size, BODY_PIECE))
                if not piece:
                    raise ClientGone("chunked body truncated")
                size -= len(piece)
                yield piece
            if read(2) != b"\r\n":
                raise ClientGone("malformed chunk terminator")

    def is_empty(self) -> bool:
        """True if the body has no data (reads at most its first piece)."""
        if self._peeked is None:
            self._peeked = next(self._pieces, b"")
        return not self._peeked

    def __iter__(self) -> Iterator[bytes]:
        buf: list[bytes] = []
        size = 0
        if self._peeked:
            buf, size = [self._peeked], len(self._peeked)
        self._peeked = b""
        for piece in self._pieces:
            buf.append(piece)
            size += len(piece)
            if size >= BODY_PIECE:
                yield b"".join(buf)
                buf, size = [], 0
        if size:
            yield b"".join(buf)

    def read_all(self) -> bytes:
        return b"".join(self)

    def drain(self) -> None:
        """Discard the rest of the body."""
        for _ in self._pieces:
            pass
