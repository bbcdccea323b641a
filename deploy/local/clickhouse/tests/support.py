"""Builders the tests share: request headers and bodies as the client sends them."""

from __future__ import annotations

import io
from http.client import HTTPMessage

from chdb_front.body import RequestBody


def headers(**fields: str) -> HTTPMessage:
    """Request headers; keyword names use _ for - (content_length -> Content-Length)."""
    message = HTTPMessage()
    for name, value in fields.items():
        message[name.replace("_", "-")] = value
    return message


def chunked(*pieces: bytes) -> bytes:
    """A chunked transfer encoding of `pieces`, with its terminating chunk."""
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


def length_body(data: bytes, rest: bytes = b"") -> tuple[RequestBody, io.BytesIO]:
    """A Content-Length body followed on the socket by `rest` (the next request)."""
    rfile = io.BytesIO(data + rest)
    return RequestBody(rfile, headers(Content_Length=str(len(data)))), rfile


def chunked_body(wire: bytes) -> tuple[RequestBody, io.BytesIO]:
    rfile = io.BytesIO(wire)
    return RequestBody(rfile, headers(Transfer_Encoding="chunked")), rfile


def multipart(parts: dict[str, str], boundary: str = "----clickhouse-js-0000") -> tuple[str, bytes]:
    """(Content-Type, body) of parts laid out as @clickhouse/client lays them out."""
    body = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{n}"\r\n\r\n{v}\r\n' for n, v in parts.items()
    )
    return f"multipart/form-data; boundary={boundary}", (body + f"--{boundary}--\r\n").encode("utf-8")
