"""multipart/form-data request bodies: how the client sends long query parameters."""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP as EMAIL_HTTP_POLICY

from .errors import ERR_BAD_ARGUMENTS, ERR_NOT_IMPLEMENTED, CHError


def parse_multipart(content_type: str, body: bytes) -> dict[str, str]:
    """Parse a multipart/form-data body into {field name: value}.

    The email parser tolerates damage (a missing closing boundary, a part
    without headers) and records it as defects; any defect refuses the body,
    so a truncated upload never runs with half of its parameters.
    """
    message = BytesParser(policy=EMAIL_HTTP_POLICY).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart() or message.defects:
        raise CHError(ERR_BAD_ARGUMENTS, "Malformed multipart/form-data body")
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        if part.defects:
            raise CHError(ERR_BAD_ARGUMENTS, "Malformed multipart/form-data body")
        if part.get_param("filename", header="content-disposition") is not None:
            raise CHError(ERR_NOT_IMPLEMENTED, "External tables in multipart requests are not supported")
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True)
        try:
            fields[str(name)] = payload.decode("utf-8") if isinstance(payload, bytes) else ""
        except UnicodeDecodeError:
            raise CHError(ERR_BAD_ARGUMENTS, f"Multipart field '{name}' is not valid UTF-8") from None
    return fields
