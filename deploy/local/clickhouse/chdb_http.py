#!/usr/bin/env python3
"""A small ClickHouse-compatible HTTP server backed by chDB (embedded ClickHouse).

Used for local development and CI when no real ``clickhouse`` server binary is
available. It speaks the part of ClickHouse's HTTP interface that the official
Node client ``@clickhouse/client`` (v1.x) uses, so that client works unchanged:

* ``GET /ping`` -> ``Ok.`` (queries over GET, HEAD and HTTP/1.0 are not
  served: the client sends every statement with POST, over HTTP/1.1)
* ``POST /`` with URL parameters ``query``, ``database``,
  ``query_id``, ``param_<name>`` (query parameters) and any other parameter as
  a ClickHouse setting (the client sends no other HTTP-only parameter). The body is appended to
  the ``query`` parameter after a newline (how INSERT data is sent), or is the
  whole SQL when there is no ``query`` parameter. ``multipart/form-data`` bodies
  (the client's ``use_multipart_params``) are accepted too.
* request bodies with ``Content-Length`` or ``Transfer-Encoding: chunked``,
  uncompressed: our clients compress neither requests nor responses, so a
  ``Content-Encoding`` is refused and ``enable_http_compression`` is an ordinary
  setting (the response is not compressed, which the client accepts).
* response headers ``X-ClickHouse-Summary`` and ``-Exception-Code`` (the ones
  the client reads); error bodies and HTTP status codes as the real server
  sends them; mid-stream errors use the ``X-ClickHouse-Exception-Tag``
  protocol of ClickHouse >= 25.11 that the client understands.

Design notes (the "why"):

* chDB runs one engine per process; any number of *connections* to the same
  path may be open, each with its own session state (current database,
  settings, query parameters, streaming cursor). Queries on different
  connections run in parallel and chDB releases the GIL while a query executes.
  A single connection is NOT safe for concurrent use: query parameters and
  streaming cursors are per-connection state and get mixed up between threads.
  So each HTTP request leases a connection of its own from a small pool, and no
  global lock is held while a query runs.
* Per-request settings and ``database`` are applied with ``SET``/``USE`` on the
  leased connection. Appending a ``SETTINGS`` clause to the SQL would be fragile
  (INSERT ... FORMAT, existing SETTINGS/FORMAT clauses). A connection whose
  session state was changed (by us or by the statement itself: SET, USE,
  temporary tables, ...) is closed instead of being returned to the pool, so
  HTTP requests stay stateless like on a real server (sessions, ``session_id``,
  are not served: nothing of ours uses them). Opening a connection to
  the running engine costs about a millisecond.
* chDB's streaming API runs a fresh output format per block, so only formats
  whose output is a plain concatenation of rows are streamed to the socket
  chunk by chunk, and of those only the ones we read as streams (JSONEachRow,
  TabSeparated); every other format (JSON, ``*WithNames``, Parquet, ...) is
  built in memory and sent with Content-Length, which is always correct.
* ``INSERT ... FORMAT <fmt>`` with the data in the request body is fed to chDB's
  streaming insert (``send_insert``/``insert_append``) while the body is being
  read, so large inserts are not held in memory as one SQL string.
* chDB's compiled-in defaults differ from clickhouse-server's for a few
  settings; each connection is reset to the server defaults (see
  ``SERVER_DEFAULT_SETTINGS``) so code tested here behaves the same against a
  real server.

Not supported (accepted and ignored where the real server would accept them):
authentication (any user/password is accepted), progress headers
(``send_progress_in_http_headers``), ``query_id`` uniqueness and KILL QUERY by
id, external tables in multipart bodies, compression.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import secrets
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from email.parser import BytesParser
from email.policy import HTTP as EMAIL_HTTP_POLICY
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl

LOG = logging.getLogger("chdb-http")

# How long an idle keep-alive connection (or a stalled request body) is kept.
KEEP_ALIVE_TIMEOUT_S = 30
# Socket timeout while streaming a response: a client may legitimately pause
# reading a large result for a while (back-pressure).
SEND_TIMEOUT_S = 300
# Request bodies are read from the socket in pieces of up to this size, and
# small pieces (a client may send tiny HTTP chunks, e.g. one per row) are
# coalesced up to it before they are handed to chDB.
BODY_PIECE = 1 << 20
# Idle pooled chDB connections kept open for reuse.
MAX_IDLE_CONNECTIONS = 16

# Settings whose chDB default differs from clickhouse-server 26.9's default.
# chDB enables async inserts (which also makes every small insert wait for the
# async flush timer), best-effort DateTime parsing and SELECT-less expressions.
SERVER_DEFAULT_SETTINGS: dict[str, str] = {
    "async_insert": "0",
    "date_time_input_format": "basic",
    "implicit_select": "0",
}

# URL parameters the client sends that are not engine settings: never passed to SET.
HTTP_HANDLER_PARAMS = frozenset(("query", "database", "query_id"))
# The client reads rows in the format it asked for, never the Content-Type.
RESULT_CONTENT_TYPE = "application/octet-stream"
TEXT_CONTENT_TYPE = "text/plain; charset=UTF-8"
# What a statement's output is when it names no FORMAT (command(), DDL).
DEFAULT_FORMAT = "TabSeparated"

# ClickHouse error codes used by this server itself (name -> code).
ERR_SYNTAX_ERROR = 62
ERR_UNKNOWN_SETTING = 115
ERR_UNKNOWN_COMPRESSION_METHOD = 89
ERR_NOT_IMPLEMENTED = 48
ERR_BAD_ARGUMENTS = 36
ERR_STD_EXCEPTION = 1001

ERROR_NAMES: dict[int, str] = {
    ERR_SYNTAX_ERROR: "SYNTAX_ERROR",
    ERR_UNKNOWN_SETTING: "UNKNOWN_SETTING",
    ERR_UNKNOWN_COMPRESSION_METHOD: "UNKNOWN_COMPRESSION_METHOD",
    ERR_NOT_IMPLEMENTED: "NOT_IMPLEMENTED",
    ERR_BAD_ARGUMENTS: "BAD_ARGUMENTS",
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
        (
            36,
            427,
            6,
            25,
            26,
            38,
            41,
            72,
            441,
            675,
            676,
            27,
            376,
            15,
            44,
            37,
            123,
            8,
            167,
            168,
            223,
            62,
            117,
            53,
            321,
        ),
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

# Output formats (lower-cased) the client and our statements read as a stream,
# and whose chDB streaming output is a plain concatenation of rows, so chunks
# can be forwarded as they come.
STREAMABLE_FORMATS = frozenset(("jsoneachrow", "tabseparated", "tsv", "tabseparatedraw", "tsvraw"))

_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_CODE_RE = re.compile(r"Code: (\d+)\. ")
_VERSION_SUFFIX_RE = re.compile(r"\(version [^()]*\)\s*\Z")


# --------------------------------------------------------------------------- errors


class CHError(Exception):
    """An error reported to the client the way ClickHouse reports exceptions."""

    def __init__(self, code: int, message: str, *, formatted: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        # True when `message` already is a full "Code: N. DB::Exception: ..." text.
        self.formatted = formatted

    def render(self, version: str) -> str:
        """Return the exception text (without trailing newline) as ClickHouse sends it."""
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


# ------------------------------------------------------------------------ SQL lexing

# One regex finds the next token that matters; whatever it skips (whitespace,
# numbers, operators, commas) is irrelevant for finding FORMAT clauses, and the
# skipping happens in C, so even megabyte-sized IN lists lex quickly.
_TOKEN_RE = re.compile(
    r"""
      (?P<string>'(?:[^'\\]|\\.|'')*'?)                 # '...' with \x and '' escapes
    | (?P<quoted>"(?:[^"\\]|\\.|"")*"?|`(?:[^`\\]|\\.|``)*`?)  # quoted identifiers
    | (?P<comment>--[^\n]*|\#[ !][^\n]*)
    | (?P<block>/\*)                                    # block comment, may nest
    | (?P<heredoc>\$(?:[^\W\d]\w*)?\$)                  # $tag$ ... $tag$
    | (?P<word>[^\W\d]\w*)
    | (?P<punct>[()\[\]{};])
    """,
    re.VERBOSE | re.DOTALL,
)
Token = tuple[str, str, int, int, int]  # kind, text, start, end, bracket depth


def iter_tokens(sql: str) -> Iterator[Token]:
    """Yield the words, quoted names, literals and brackets/semicolons of a SQL text.

    Only as much of ClickHouse's lexer as is needed to find FORMAT clauses
    reliably: string literals, quoted identifiers, heredocs and comments are
    consumed as units so their contents are never mistaken for keywords.
    Comments are skipped; numbers and operators are not reported. Scanning is
    lazy, so callers can stop before inline INSERT data.
    """
    pos, n, depth = 0, len(sql), 0
    while pos < n:
        m = _TOKEN_RE.search(sql, pos)
        if m is None:
            return
        kind, start, end = m.lastgroup, m.start(), m.end()
        if kind == "comment":
            pass
        elif kind == "block":
            level = 1
            while end < n and level:
                if sql.startswith("/*", end):
                    level, end = level + 1, end + 2
                elif sql.startswith("*/", end):
                    level, end = level - 1, end + 2
                else:
                    end += 1
        elif kind == "heredoc":
            close = sql.find(m.group(), end)
            end = n if close < 0 else close + len(m.group())
            yield ("string", sql[start:end], start, end, depth)
        elif kind == "punct":
            ch = m.group()
            if ch in ")]}":
                depth = max(depth - 1, 0)
            yield ("punct", ch, start, end, depth)
            if ch in "([{":
                depth += 1
        else:
            yield (str(kind), m.group(), start, end, depth)
        pos = end


def first_keyword(sql: str) -> str:
    """The first word of the statement, upper-cased ('' if there is none)."""
    for kind, text, _s, _e, _d in iter_tokens(sql):
        return text.upper() if kind == "word" else ""
    return ""


def find_output_format(sql: str) -> str | None:
    """Return the format named by a trailing top-level ``FORMAT <name>`` clause.

    The clause may be followed only by ``;`` or by a ``SETTINGS`` clause, which
    rules out identifiers that happen to be called ``format``.
    """
    tokens = list(iter_tokens(sql))
    found: str | None = None
    for idx in range(len(tokens) - 1):
        kind, text, _s, _e, depth = tokens[idx]
        if kind != "word" or depth != 0 or text.upper() != "FORMAT":
            continue
        name_tok = tokens[idx + 1]
        if name_tok[0] != "word":
            continue
        rest = tokens[idx + 2 :]
        if (
            not rest
            or all(t[0] == "punct" and t[1] == ";" for t in rest)
            or (rest[0][0] == "word" and rest[0][1].upper() == "SETTINGS")
        ):
            found = name_tok[1]
    return found


def split_insert_format(sql: str) -> tuple[str, str] | None:
    """Split ``INSERT ... FORMAT <fmt>`` (nothing after the name) into (prefix, fmt).

    Returns None for anything else (INSERT ... VALUES, INSERT ... SELECT, inline
    data after the format name, ...), which then runs as one ordinary query.
    """
    tokens = iter_tokens(sql)
    first = next(tokens, None)
    if first is None or first[0] != "word" or first[1].upper() != "INSERT":
        return None
    prev: Token | None = None
    for tok in tokens:
        if (
            prev is not None
            and prev[0] == "word"
            and prev[4] == 0
            and prev[1].upper() == "FORMAT"
            and tok[0] == "word"
        ):
            if sql[tok[3] :].strip():
                return None
            return sql[: prev[2]].rstrip(), tok[1]
        prev = tok
    return None


def quote_literal(value: str) -> str:
    """A ClickHouse string literal for `value` (used only for SET values)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def quote_identifier(name: str) -> str:
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


# ---------------------------------------------------------------------- request body


class RequestBody:
    """The request body as an iterator of byte pieces.

    Handles Content-Length and chunked transfer encoding.
    Tiny pieces (clients may send very small HTTP chunks) are coalesced.
    ``drain()`` consumes whatever is left so a keep-alive connection stays in
    sync after an error.
    """

    def __init__(self, rfile: Any, headers: Any) -> None:
        self._rfile = rfile
        self._chunked = "chunked" in (headers.get("Transfer-Encoding") or "").lower()
        length = headers.get("Content-Length")
        try:
            self._remaining = 0 if self._chunked else int(length or 0)
        except ValueError:
            raise CHError(ERR_BAD_ARGUMENTS, f"Invalid Content-Length: {length}") from None
        # Our clients never compress requests; refusing beats running compressed bytes as SQL.
        encoding = (headers.get("Content-Encoding") or "").strip().lower()
        if encoding not in ("", "identity"):
            raise CHError(ERR_UNKNOWN_COMPRESSION_METHOD, f"Unknown compression method: {encoding}")
        # One generator, shared by is_empty(), __iter__() and drain().
        self._pieces = self._raw_pieces()
        self._peeked: bytes | None = None

    def _raw_pieces(self) -> Iterator[bytes]:
        try:
            if not self._chunked:
                while self._remaining > 0:
                    piece = self._rfile.read(min(self._remaining, BODY_PIECE))
                    if not piece:
                        raise ClientGone("request body truncated")
                    self._remaining -= len(piece)
                    yield piece
            else:
                yield from self._chunked_pieces()
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
            if read(2) not in (b"\r\n", b"\n"):
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


def parse_multipart(content_type: str, body: bytes) -> dict[str, str]:
    """Parse a multipart/form-data body into {field name: value}."""
    message = BytesParser(policy=EMAIL_HTTP_POLICY).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    fields: dict[str, str] = {}
    if not message.is_multipart():
        raise CHError(ERR_BAD_ARGUMENTS, "Malformed multipart/form-data body")
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if part.get_param("filename", header="content-disposition") is not None:
            raise CHError(ERR_NOT_IMPLEMENTED, "External tables in multipart requests are not supported")
        if not name:
            continue
        payload = part.get_payload(decode=True)
        fields[str(name)] = payload.decode("utf-8") if isinstance(payload, bytes) else ""
    return fields


# ----------------------------------------------------------------- engine and pool


class Lease:
    """A chDB connection handed to one request, with the state it must undo."""

    def __init__(self, engine: Engine, conn: Any) -> None:
        self.engine = engine
        self.conn = conn
        # False once the session state was changed.
        self.reusable = True

    def prepare(self, database: str | None, settings: dict[str, str]) -> None:
        """Make `database` current and apply `settings` for this request."""
        conn = self.conn
        try:
            if database:
                self.reusable = False
                conn.query("USE " + quote_identifier(database))
            if settings:
                self.reusable = False
                conn.query("SET " + ", ".join(f"{k} = {quote_literal(v)}" for k, v in settings.items()))
        except CHDB_ERRORS as exc:
            raise engine_error(exc) from exc

    def release(self) -> None:
        self.engine.release(self.conn, self.reusable)


class Engine:
    """The chDB engine: an anchor connection and a pool of idle ones."""

    def __init__(self, path: str) -> None:
        import chdb
        import chdb._chdb as chdb_core

        self._core = chdb_core
        self.chdb_version = str(getattr(chdb, "__version__", "?"))
        self._path = path
        self._lock = threading.Lock()  # guards the pool and connect/close
        self._idle: list[Any] = []
        self._closed = False
        # The engine lives as long as one connection is open; this one is never
        # used by requests, so pooled connections can come and go freely.
        self._anchor = chdb_core.connect(path)
        self.version = self._anchor.query("SELECT version()", "TSVRaw").bytes().decode().strip()

    def _connect(self) -> Any:
        # connect() is serialised (under self._lock) with close() to stay clear of
        # any race in chDB's connection registry; it takes about a millisecond.
        conn = self._core.connect(self._path)
        try:
            conn.query(
                "SET " + ", ".join(f"{k} = {quote_literal(v)}" for k, v in SERVER_DEFAULT_SETTINGS.items())
            )
        except CHDB_ERRORS:
            conn.close()
            raise
        return conn

    def acquire(self) -> Lease:
        with self._lock:
            if self._closed:
                raise CHError(ERR_STD_EXCEPTION, "Server is shutting down")
            conn = self._idle.pop() if self._idle else self._connect()
        return Lease(self, conn)

    def release(self, conn: Any, reusable: bool) -> None:
        with self._lock:
            if reusable and not self._closed and len(self._idle) < MAX_IDLE_CONNECTIONS:
                self._idle.append(conn)
                return
            self._close_conn(conn)

    def _close_conn(self, conn: Any) -> None:
        try:
            conn.close()
        except Exception as exc:
            LOG.warning("closing a chDB connection failed: %s", exc)

    def close(self) -> None:
        """Close every connection; the last close shuts the engine down (flushes data)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for conn in self._idle:
                self._close_conn(conn)
            self._idle.clear()
            self._close_conn(self._anchor)


# --------------------------------------------------------------------- HTTP handler


class QueryRequest:
    """The ClickHouse-level meaning of one HTTP query request."""

    def __init__(self, params: list[tuple[str, str]]) -> None:
        self.sql_param: str | None = None
        self.database: str | None = None
        self.query_params: dict[str, str] = {}
        self.settings: dict[str, str] = {}
        for name, value in params:
            self.add_param(name, value)

    def add_param(self, name: str, value: str) -> None:
        if name.startswith("param_"):
            self.query_params[name[len("param_") :]] = value
        elif name == "query":
            self.sql_param = value
        elif name == "database":
            self.database = value or None
        elif name in HTTP_HANDLER_PARAMS:
            pass
        else:
            if not _IDENT_RE.match(name):
                raise CHError(ERR_UNKNOWN_SETTING, f"Unknown setting '{name}'")
            self.settings[name] = value


class ChdbHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], engine: Engine) -> None:
        self.engine = engine
        self.active_requests = 0
        self.active_cond = threading.Condition()
        super().__init__(address, ChdbHandler)


class ChdbHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "chdb-http"
    timeout = KEEP_ALIVE_TIMEOUT_S
    server: ChdbHTTPServer
    _headers_sent = False  # whether the current response has started

    # -- plumbing

    def setup(self) -> None:
        super().setup()
        # Responses are written as headers + body; without TCP_NODELAY Nagle's
        # algorithm and delayed ACKs add ~40 ms to small keep-alive responses.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        LOG.debug("%s - %s", self.address_string(), format % args)

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        LOG.debug('%s "%s" %s', self.address_string(), self.requestline, code)

    def _track(self, handler: Callable[[], None]) -> None:
        with self.server.active_cond:
            self.server.active_requests += 1
        try:
            handler()
        except ClientGone as exc:
            LOG.debug("client went away: %s", exc)
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError, socket.timeout) as exc:
            LOG.debug("connection error: %s", exc)
            self.close_connection = True
        except Exception:
            LOG.exception("unexpected error handling %s", self.requestline)
            self.close_connection = True
        finally:
            with self.server.active_cond:
                self.server.active_requests -= 1
                self.server.active_cond.notify_all()

    def do_GET(self) -> None:
        self._track(self._get)

    def do_POST(self) -> None:
        self._track(self._post)

    def _write(self, data: bytes) -> None:
        self._headers_sent = True
        try:
            self.wfile.write(data)
        except (OSError, socket.timeout) as exc:
            raise ClientGone(str(exc)) from exc

    def _head(self, status: int, headers: list[tuple[str, str]]) -> bytes:
        lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
        lines.append("Date: " + self.date_time_string())
        lines.append("Connection: " + ("Close" if self.close_connection else "Keep-Alive"))
        lines.extend(f"{name}: {value}" for name, value in headers)
        if not self.close_connection:
            # The client reads it to retire idle sockets before we close them.
            lines.append(f"Keep-Alive: timeout={KEEP_ALIVE_TIMEOUT_S}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _send_plain(self, status: int, body: bytes, headers: list[tuple[str, str]] | None = None) -> None:
        hdrs = [("Content-Type", TEXT_CONTENT_TYPE), *(headers or []), ("Content-Length", str(len(body)))]
        self._write(self._head(status, hdrs) + body)

    # -- routing

    def _get(self) -> None:
        path = self.path.partition("?")[0]
        self._discard_body()
        if path == "/ping":
            self._send_plain(200, b"Ok.\n")
        elif path == "/":
            self._send_error(CHError(ERR_NOT_IMPLEMENTED, "This server runs queries sent with POST only"), "")
        else:
            self._send_no_handle(path)

    def _post(self) -> None:
        path, _, query_string = self.path.partition("?")
        if path != "/":
            self._discard_body()
            self._send_no_handle(path)
            return
        self._handle_query(parse_qsl(query_string, keep_blank_values=True))

    def _send_no_handle(self, path: str) -> None:
        self._send_plain(404, f"There is no handle {path}\n\nUse / or /ping for health checks.\n".encode())

    def _discard_body(self) -> None:
        try:
            RequestBody(self.rfile, self.headers).drain()
        except CHError:
            self.close_connection = True

    # -- queries

    def _handle_query(self, params: list[tuple[str, str]]) -> None:
        engine = self.server.engine
        query_id = next((v for k, v in params if k == "query_id"), "")
        self._headers_sent = False
        body: RequestBody | None = None
        try:
            request = QueryRequest(params)
            body = RequestBody(self.rfile, self.headers)
            self._run(engine, request, body)
        except CHError as err:
            if body is not None:
                try:
                    body.drain()
                except ClientGone:
                    self.close_connection = True
            else:
                self.close_connection = True  # body state unknown: do not reuse the socket
            if self._headers_sent:
                raise ClientGone(f"error after the response started: {err.message}") from err
            self._send_error(err, query_id)
        except ClientGone:
            raise
        except Exception as exc:
            LOG.exception("unexpected error handling %s", self.requestline)
            self.close_connection = True
            if self._headers_sent:
                raise ClientGone("internal error after the response started") from exc
            self._send_error(CHError(ERR_STD_EXCEPTION, f"{type(exc).__name__}: {exc}"), query_id)

    def _send_error(self, err: CHError, query_id: str) -> None:
        text = err.render(self.server.engine.version)
        LOG.debug("query %s failed: %s", query_id, text)
        # The client raises a ClickHouseError from the code header and the text.
        self._send_plain(err.http_status, (text + "\n").encode("utf-8"), [("X-ClickHouse-Exception-Code", str(err.code))])

    def _run(self, engine: Engine, req: QueryRequest, body: RequestBody) -> None:
        content_type = self.headers.get("Content-Type") or ""
        insert_split: tuple[str, str] | None = None
        sql: Any  # str, or bytes when it carries inline (maybe binary) INSERT data
        if content_type.lower().startswith("multipart/form-data"):
            fields = parse_multipart(content_type, body.read_all())
            for name, value in fields.items():
                req.add_param(name, value)
            sql = req.sql_param or ""
            classify_sql = sql
        elif req.sql_param is not None and not body.is_empty():
            # Query text in the URL, data in the body: real ClickHouse joins them
            # with a newline. INSERT ... FORMAT streams the body into chDB instead.
            if not req.query_params:
                insert_split = split_insert_format(req.sql_param)
            if insert_split is None:
                data = body.read_all()
                sql = req.sql_param.encode("utf-8") + b"\n" + data
                is_insert = first_keyword(req.sql_param) == "INSERT"
                classify_sql = req.sql_param if is_insert else sql.decode("utf-8", "replace")
            else:
                sql = req.sql_param
                classify_sql = req.sql_param
        elif req.sql_param is not None:
            sql = req.sql_param
            classify_sql = sql
        else:
            data = body.read_all()
            sql = data
            classify_sql = data.decode("utf-8", "replace")

        if not classify_sql.strip():
            raise CHError(ERR_SYNTAX_ERROR, "Empty query")
        lease = engine.acquire()
        try:
            self._execute(lease, req, body, sql, classify_sql, insert_split)
        finally:
            lease.release()

    def _execute(
        self,
        lease: Lease,
        req: QueryRequest,
        body: RequestBody,
        sql: Any,
        classify_sql: str,
        insert_split: tuple[str, str] | None,
    ) -> None:
        conn = lease.conn
        info = conn.classify_query(classify_sql)
        qclass = getattr(info["query_class"], "name", str(info["query_class"]))
        if info["statement_count"] > 1:
            raise CHError(ERR_SYNTAX_ERROR, "Syntax error (Multi-statements are not allowed)")
        if qclass not in ("READ_ONLY", "MUTATING", "MUTATING_GLOBAL"):
            # SET, USE, CREATE TEMPORARY TABLE, ...: the statement changes the
            # connection's session, so it must not go back to the pool.
            lease.reusable = False
        lease.prepare(req.database, req.settings)

        started = time.perf_counter_ns()
        if insert_split is not None:
            if self._run_streaming_insert(lease, body, insert_split, started):
                return
            # chDB refused to stream this INSERT (e.g. INSERT ... SELECT): run it whole.
            sql = req.sql_param.encode("utf-8") + b"\n" + body.read_all()  # type: ignore[union-attr]

        fmt = DEFAULT_FORMAT
        if qclass == "READ_ONLY":
            fmt = find_output_format(classify_sql) or DEFAULT_FORMAT
            if self._streamable(req, fmt, classify_sql) and self._run_streaming_select(
                lease, req, sql, fmt, started
            ):
                return
        self._run_buffered(lease, req, sql, fmt, started)

    @staticmethod
    def _streamable(req: QueryRequest, fmt: str, sql: str) -> bool:
        if fmt.lower() not in STREAMABLE_FORMATS:
            return False
        # output_format_json_array_of_rows wraps JSONEachRow into one JSON array.
        return "array_of_rows" not in " ".join(req.settings) + " " + sql

    # -- responses

    def _send_complete(self, data: bytes, summary: dict[str, int]) -> None:
        headers = [
            ("Content-Type", RESULT_CONTENT_TYPE),
            ("X-ClickHouse-Summary", _summary_json(summary)),
            ("Content-Length", str(len(data))),
        ]
        self._write(self._head(200, headers) + data)

    def _run_buffered(self, lease: Lease, req: QueryRequest, sql: Any, fmt: str, started: int) -> None:
        try:
            result = lease.conn.query(sql, fmt, params=req.query_params)
            data = result.bytes()
        except CHDB_ERRORS as exc:
            raise engine_error(exc) from exc
        self._send_complete(data, _summary_from(result, started))

    def _run_streaming_insert(self, lease: Lease, body: RequestBody, split: tuple[str, str], started: int) -> bool:
        conn = lease.conn
        prefix, fmt = split
        try:
            handle = conn.send_insert(prefix, fmt)
        except CHDB_ERRORS as exc:
            err = engine_error(exc)
            if not err.formatted:
                return False  # not a ClickHouse error: chDB cannot stream it
            raise err from exc
        done = False
        try:
            for piece in body:
                conn.insert_append(handle, piece)
            result = conn.insert_done(handle)
            done = True
        except CHDB_ERRORS as exc:
            raise engine_error(exc) from exc
        finally:
            if not done:
                lease.reusable = False
                with contextlib.suppress(*CHDB_ERRORS):
                    conn.insert_cancel(handle)
        summary = _summary_from(result, started)
        summary["result_rows"] = summary["written_rows"]
        summary["result_bytes"] = summary["written_bytes"]
        self._send_complete(b"", summary)
        return True

    def _run_streaming_select(
        self, lease: Lease, req: QueryRequest, sql: Any, fmt: str, started: int
    ) -> bool:
        """Stream a SELECT chunk by chunk; returns False if chDB cannot stream it."""
        conn = lease.conn
        try:
            stream = conn.send_query(sql, fmt, params=req.query_params)
        except CHDB_ERRORS as exc:
            err = engine_error(exc)
            if "Streaming query is not supported" in err.message:
                return False
            raise err from exc
        exhausted = False  # True once the engine-side stream ended (or failed): nothing to cancel
        try:
            # Read two chunks before answering: errors raised while the first
            # blocks are produced (unknown table, bad parameter, ...) still get a
            # proper HTTP status, and small results go out with Content-Length.
            # An empty chunk ends the stream (chDB never yields empty blocks).
            first, first_result = self._fetch(conn, stream)
            second = self._fetch(conn, stream)[0] if first else b""
            if not second:
                exhausted = True
                self._send_complete(first, _summary_from(first_result, started))
                return True
            if not self._stream_response(conn, stream, [first, second], first_result, started):
                lease.reusable = False  # the query failed mid-stream
            exhausted = True
            return True
        except CHError:
            exhausted = True  # the engine reported an error: the stream is over
            lease.reusable = False  # and a fresh connection is cheap insurance
            raise
        finally:
            if not exhausted:  # client went away: stop the query
                lease.reusable = False
                with contextlib.suppress(*CHDB_ERRORS):
                    conn.streaming_cancel_query(stream)

    @staticmethod
    def _fetch(conn: Any, stream: Any) -> tuple[bytes, Any]:
        try:
            result = conn.streaming_fetch_result(stream)
        except CHDB_ERRORS as exc:
            raise engine_error(exc) from exc
        if result.has_error():
            raise engine_error(RuntimeError(result.error_message()))
        return result.bytes(), result

    def _stream_response(
        self,
        conn: Any,
        stream: Any,
        pending: list[bytes],
        first_result: Any,
        started: int,
    ) -> bool:
        """Send a chunked 200 response with the rest of the stream; False if the query failed."""
        tag = secrets.token_hex(8)
        headers = [
            ("Content-Type", RESULT_CONTENT_TYPE),
            ("X-ClickHouse-Summary", _summary_json(_summary_from(first_result, started))),
            ("X-ClickHouse-Exception-Tag", tag),
            ("Transfer-Encoding", "chunked"),
        ]

        def send(data: bytes, last: bool = False) -> None:
            out = (b"%x\r\n%s\r\n" % (len(data), data)) if data else b""
            self._write(out + (b"0\r\n\r\n" if last else b""))

        self.connection.settimeout(SEND_TIMEOUT_S)
        try:
            self._write(self._head(200, headers))
            for data in pending:
                send(data)
            while True:
                try:
                    data, _ = self._fetch(conn, stream)
                except CHError as err:
                    # Headers are gone already: report the error inside the body the
                    # way ClickHouse >= 25.11 does, so the client raises it.
                    send(_exception_block(err.render(self.server.engine.version), tag), last=True)
                    return False
                if not data:
                    send(b"", last=True)
                    return True
                send(data)
        finally:
            self.connection.settimeout(KEEP_ALIVE_TIMEOUT_S)


def _exception_block(message: str, tag: str) -> bytes:
    """Mid-stream exception marker, as parsed by the client's extractErrorAtTheEndOfChunk."""
    msg = message.encode("utf-8") + b"\n"
    t = tag.encode("ascii")
    return b"\r\n__exception__\r\n" + t + b"\r\n" + msg + b"%d " % len(msg) + t + b"\r\n__exception__\r\n"


def _summary_from(result: Any, started: int) -> dict[str, int]:
    def stat(name: str) -> int:
        try:
            return int(getattr(result, name)())
        except Exception:
            return 0

    return {
        "read_rows": stat("rows_read"),
        "read_bytes": stat("bytes_read"),
        "written_rows": stat("rows_written"),
        "written_bytes": stat("bytes_written"),
        "total_rows_to_read": stat("storage_rows_read"),
        "result_rows": 0,
        "result_bytes": 0,
        "elapsed_ns": time.perf_counter_ns() - started,
    }


def _summary_json(summary: dict[str, int]) -> str:
    # ClickHouse sends every counter as a JSON string.
    return json.dumps({k: str(v) for k, v in summary.items()}, separators=(",", ":"))


# ---------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="ClickHouse-compatible HTTP server backed by chDB.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8123, help="port to listen on (default 8123, 0 = any)")
    parser.add_argument("--path", required=True, help="data directory (created if missing)")
    parser.add_argument(
        "--timezone",
        default="UTC",
        help="server timezone, UTC like the official docker image ('' keeps the environment's TZ)",
    )
    parser.add_argument(
        "--shutdown-grace", type=float, default=30.0, help="seconds to let running queries finish"
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if args.timezone:
        # Must happen before the engine starts: chDB takes its timezone from TZ.
        os.environ["TZ"] = args.timezone
        if hasattr(time, "tzset"):
            time.tzset()

    path = os.path.abspath(args.path)
    if "?" in path:
        parser.error("--path must not contain '?' (chDB reads it as connection options)")
    os.makedirs(path, exist_ok=True)

    engine = Engine(path)
    try:
        server = ChdbHTTPServer((args.host, args.port), engine)
    except OSError:
        engine.close()
        raise
    host, port = server.server_address[0], server.server_address[1]
    host = host.decode() if isinstance(host, bytes) else host
    versions = f"chdb {engine.chdb_version}, ClickHouse {engine.version}"
    print(f"chdb-http listening on http://{host}:{port} ({versions})", flush=True)

    # serve_forever runs in a thread: the signal handler (main thread) only sets
    # an event, and shutdown() must not be called from the serving thread.
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    # Installed after chDB started, so our handlers are the ones in effect.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    serving.start()
    while not stop.wait(0.5):
        if not serving.is_alive():
            break
    LOG.info("shutting down")
    server.shutdown()
    server.server_close()
    deadline = time.monotonic() + args.shutdown_grace
    with server.active_cond:
        while server.active_requests and time.monotonic() < deadline:
            server.active_cond.wait(0.2)
        if server.active_requests:
            LOG.warning("%d requests still running at shutdown", server.active_requests)
    engine.close()
    LOG.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
