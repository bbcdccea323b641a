"""Errors as ClickHouse reports them: a code, ``Code: N. DB::Exception: ...`` text, an HTTP status."""

from __future__ import annotations

import re

# ClickHouse error codes this front raises itself.
ERR_BAD_ARGUMENTS = 36
ERR_NOT_IMPLEMENTED = 48
ERR_SYNTAX_ERROR = 62
ERR_UNKNOWN_COMPRESSION_METHOD = 89
ERR_UNKNOWN_SETTING = 115
ERR_STD_EXCEPTION = 1001

ERROR_NAMES: dict[int, str] = {
    ERR_BAD_ARGUMENTS: "BAD_ARGUMENTS",
    ERR_NOT_IMPLEMENTED: "NOT_IMPLEMENTED",
    ERR_SYNTAX_ERROR: "SYNTAX_ERROR",
    ERR_UNKNOWN_COMPRESSION_METHOD: "UNKNOWN_COMPRESSION_METHOD",
    ERR_UNKNOWN_SETTING: "UNKNOWN_SETTING",
    ERR_STD_EXCEPTION: "STD_EXCEPTION",
}

# Exception code -> HTTP status, as in ClickHouse's
# src/Server/HTTP/exceptionCodeToHTTPStatus.cpp (everything else is 500).
_STATUS_GROUPS: tuple[tuple[int, tuple[int, ...]], ...] = (
    (401, (194,)),  # REQUIRED_PASSWORD
    # UNKNOWN_USER, WRONG_PASSWORD, AUTHENTICATION_FAILED, SET_NON_GRANTED_ROLE, ACCESS_DENIED
    (403, (192, 193, 516, 512, 497)),
    # BAD_ARGUMENTS, CANNOT_COMPILE_REGEXP, CANNOT_PARSE_* (TEXT, ESCAPE_SEQUENCE,
    # QUOTED_STRING, DATE, DATETIME, NUMBER, DOMAIN_VALUE_FROM_STRING, IPV4, IPV6,
    # INPUT_ASSERTION_FAILED, UUID), DUPLICATE_COLUMN, ILLEGAL_COLUMN,
    # UNKNOWN_ELEMENT_IN_AST, UNKNOWN_TYPE_OF_AST_NODE, THERE_IS_NO_COLUMN,
    # TOO_DEEP_AST, TOO_BIG_AST, UNEXPECTED_AST_STRUCTURE, SYNTAX_ERROR,
    # INCORRECT_DATA, TYPE_MISMATCH, VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
    (
        400,
        (36, 427, 6, 25, 26, 38, 41, 72, 441, 675, 676, 27, 376, 15, 44, 37, 123, 8, 167, 168, 223,
         62, 117, 53, 321),
    ),
    # UNKNOWN_TABLE, UNKNOWN_FUNCTION, UNKNOWN_IDENTIFIER, UNKNOWN_TYPE,
    # UNKNOWN_STORAGE, UNKNOWN_DATABASE, UNKNOWN_SETTING,
    # UNKNOWN_DIRECTION_OF_SORTING, UNKNOWN_AGGREGATE_FUNCTION, UNKNOWN_FORMAT,
    # UNKNOWN_DATABASE_ENGINE, UNKNOWN_TYPE_OF_QUERY, UNKNOWN_ROLE
    (404, (60, 46, 47, 50, 56, 81, 115, 152, 63, 73, 336, 78, 511)),
    (413, (229,)),  # QUERY_IS_TOO_LARGE
    (501, (48,)),  # NOT_IMPLEMENTED
    (503, (209, 76, 439)),  # SOCKET_TIMEOUT, CANNOT_OPEN_FILE, CANNOT_SCHEDULE_TASK
    (411, (381,)),  # HTTP_LENGTH_REQUIRED
    (408, (159,)),  # TIMEOUT_EXCEEDED
    (415, (779,)),  # UNSUPPORTED_MEDIA_TYPE
)
HTTP_STATUS_BY_CODE: dict[int, int] = {code: status for status, codes in _STATUS_GROUPS for code in codes}

_CODE_RE = re.compile(r"Code: (\d+)\. ")
_VERSION_SUFFIX_RE = re.compile(r"\(version [^()]*\)\s*\Z")


class CHError(Exception):
    """An error reported to the client the way ClickHouse reports exceptions."""

    def __init__(self, code: int, message: str, *, formatted: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        # True when `message` already is a full "Code: N. DB::Exception: ..." text.
        self.formatted = formatted

    def render(self, version: str) -> str:
        """The exception text (without trailing newline) as ClickHouse sends it."""
        if self.formatted:
            text = self.message.rstrip()
        else:
            name = ERROR_NAMES.get(self.code, "UNKNOWN_EXCEPTION")
            text = f"Code: {self.code}. DB::Exception: {self.message.rstrip('. ')}. ({name})"
        if not _VERSION_SUFFIX_RE.search(text):
            text += f" (version {version})"
        return text

    @property
    def http_status(self) -> int:
        return HTTP_STATUS_BY_CODE.get(self.code, 500)


# What chDB calls raise for a failed query. UnicodeDecodeError: chDB builds the
# Python exception from ClickHouse's message, which quotes the query text; with
# binary inline data in the query that message is not valid UTF-8.
CHDB_ERRORS = (RuntimeError, UnicodeDecodeError)


def engine_error(exc: BaseException) -> CHError:
    """Convert an exception raised by chDB into a CHError keeping ClickHouse's text."""
    if isinstance(exc, UnicodeDecodeError):
        return CHError(
            ERR_STD_EXCEPTION, "Query failed; its error message quotes binary data and cannot be shown"
        )
    text = str(exc).strip()
    match = _CODE_RE.match(text)
    if match:
        return CHError(int(match.group(1)), text, formatted=True)
    return CHError(ERR_STD_EXCEPTION, text or type(exc).__name__)


class ClientGone(Exception):
    """The HTTP client went away (or stalled) while we were reading or writing."""
