"""The HTTP server: GET /ping, and POST / with a query, answered as clickhouse-server answers."""

from __future__ import annotations

import contextlib
import logging
import secrets
import socket
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from .body import RequestBody
from .engine import Engine, Lease
from .errors import (
    CHDB_ERRORS,
    ERR_NOT_IMPLEMENTED,
    ERR_STD_EXCEPTION,
    ERR_SYNTAX_ERROR,
    CHError,
    ClientGone,
    engine_error,
)
from .request import DEFAULT_FORMAT, QueryRequest, Statement, read_statement
from .response import exception_block, is_streamable, summary_header, summary_of
from .sql import find_output_format

LOG = logging.getLogger("chdb-http")

# How long an idle keep-alive connection (or a stalled request body) is kept.
KEEP_ALIVE_TIMEOUT_S = 30
# Socket timeout while streaming a response: a client may legitimately pause
# reading a large result for a while (back-pressure).
SEND_TIMEOUT_S = 300

# The client reads rows in the format it asked for, never the Content-Type.
RESULT_CONTENT_TYPE = "application/octet-stream"

# Result bytes this long or longer are written on their own, never copied into a larger buffer first.
COPY_LIMIT = 1 << 20

TEXT_CONTENT_TYPE = "text/plain; charset=UTF-8"


class ChdbHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], engine: Engine) -> None:
        self.engine = engine
        # Counted so that shutdown can let running queries finish.
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

    def _discard_body(self) -> None:
        try:
            RequestBody(self.rfile, self.headers).drain()
        except CHError:
            self.close_connection = True

    # -- routing

    def _get(self) -> None:
        path = self.path.partition("?")[0]
        self._discard_body()
        if path == "/ping":
            self._send_plain(200, b"Ok.\n")
        elif path == "/":
            err = CHError(ERR_NOT_IMPLEMENTED, "This server runs queries sent with POST only")
            self._send_error(err, "")
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

    # -- queries

    def _handle_query(self, params: list[tuple[str, str]]) -> None:
        self._headers_sent = False
        body: RequestBody | None = None
        query_id = next((v for k, v in params if k == "query_id"), "")
        try:
            request = QueryRequest(params)
            body = RequestBody(self.rfile, self.headers)
            statement = read_statement(request, body, self.headers.get("Content-Type") or "")
            self._run(request, body, statement)
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
        headers = [("X-ClickHouse-Exception-Code", str(err.code))]
        self._send_plain(err.http_status, (text + "\n").encode("utf-8"), headers)

    def _run(self, req: QueryRequest, body: RequestBody, statement: Statement) -> None:
        lease = self.server.engine.acquire()
        try:
            self._execute(lease, req, body, statement)
        finally:
            lease.release()

    def _execute(self, lease: Lease, req: QueryRequest, body: RequestBody, statement: Statement) -> None:
        info = lease.conn.classify_query(statement.text)
        query_class = getattr(info["query_class"], "name", str(info["query_class"]))
        if info["statement_count"] > 1:
            raise CHError(ERR_SYNTAX_ERROR, "Syntax error (Multi-statements are not allowed)")
        if query_class not in ("READ_ONLY", "MUTATING", "MUTATING_GLOBAL"):
            # SET, USE, CREATE TEMPORARY TABLE, ...: the statement changes the
            # connection's session, so it must not go back to the pool.
            lease.reusable = False
        lease.prepare(req.database, req.settings)

        started = time.perf_counter_ns()
        sql = statement.sql
        if statement.insert_split is not None:
            # The INSERT runs whole, not through chDB's streaming insert: on a full disk that one
            # counts the rows as written and answers, though no part was written (chDB 4.4:
            # NOT_ENOUGH_SPACE lands in system.errors only); a whole query raises it.
            sql = statement.text.encode("utf-8") + b"\n" + body.read_all()
            self._run_buffered(lease, req, sql, DEFAULT_FORMAT, started, insert=True)
            return

        fmt = DEFAULT_FORMAT
        if query_class == "READ_ONLY":
            fmt = find_output_format(statement.text) or DEFAULT_FORMAT
            streamable = is_streamable(fmt, req.settings, statement.text)
            if streamable and self._run_streaming_select(lease, req, sql, fmt, started):
                return
        self._run_buffered(lease, req, sql, fmt, started)

    # -- responses

    def _send_complete(self, data: bytes, summary: dict[str, int]) -> None:
        headers = [
            ("Content-Type", RESULT_CONTENT_TYPE),
            ("X-ClickHouse-Summary", summary_header(summary)),
            ("Content-Length", str(len(data))),
        ]
        if len(data) >= COPY_LIMIT:
            # Megabytes of rows are written as they are, not copied behind the headers.
            self._write(self._head(200, headers))
            self._write(data)
        else:
            self._write(self._head(200, headers) + data)

    def _run_buffered(
        self, lease: Lease, req: QueryRequest, sql: str | bytes, fmt: str, started: int, insert: bool = False
    ) -> None:
        try:
            result = lease.conn.query(sql, fmt, params=req.query_params)
            data = result.bytes()
        except CHDB_ERRORS as exc:
            raise engine_error(exc) from exc
        summary = summary_of(result, started)
        if insert:
            # ClickHouse counts an INSERT's rows as its result.
            summary["result_rows"] = summary["written_rows"]
            summary["result_bytes"] = summary["written_bytes"]
            data = b""
        self._send_complete(data, summary)

    def _run_streaming_select(
        self, lease: Lease, req: QueryRequest, sql: str | bytes, fmt: str, started: int
    ) -> bool:
        """Stream a SELECT chunk by chunk; False if chDB cannot stream it."""
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
                self._send_complete(first, summary_of(first_result, started))
                return True
            if not self._stream_response(conn, stream, [first, second], summary_of(first_result, started)):
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
        self, conn: Any, stream: Any, pending: list[bytes], summary: dict[str, int]
    ) -> bool:
        """Send a chunked 200 response with the rest of the stream; False if the query failed."""
        tag = secrets.token_hex(8)
        headers = [
            ("Content-Type", RESULT_CONTENT_TYPE),
            ("X-ClickHouse-Summary", summary_header(summary)),
            ("X-ClickHouse-Exception-Tag", tag),
            ("Transfer-Encoding", "chunked"),
        ]

        def send(data: bytes, last: bool = False) -> None:
            end = b"\r\n0\r\n\r\n" if last else b"\r\n"
            if len(data) >= COPY_LIMIT:
                # Megabytes of rows are written as they are, not copied into their frame.
                self._write(b"%x\r\n" % len(data))
                self._write(data)
                self._write(end)
            elif data:
                self._write(b"%x\r\n%s%s" % (len(data), data, end))
            elif last:
                self._write(b"0\r\n\r\n")

        self.connection.settimeout(SEND_TIMEOUT_S)
        try:
            self._write(self._head(200, headers))
            for data in pending:
                send(data)
            while True:
                try:
                    data, _ = self._fetch(conn, stream)
                except CHError as err:
                    # Headers are gone already: report the error inside the body.
                    send(exception_block(err.render(self.server.engine.version), tag), last=True)
                    return False
                if not data:
                    send(b"", last=True)
                    return True
                send(data)
        finally:
            self.connection.settimeout(KEEP_ALIVE_TIMEOUT_S)
