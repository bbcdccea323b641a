"""The HTTP handler over a real socket, with a scripted stand-in for chDB's connection."""

from __future__ import annotations

import http.client
import json
import threading
import unittest
from typing import Any

from chdb_front.engine import Lease
from chdb_front.handler import ChdbHTTPServer

from .support import chunked


class FakeResult:
    def __init__(self, data: bytes = b"", error: str = "", written: int = 0) -> None:
        self.data, self.error, self.written = data, error, written

    def bytes(self) -> bytes:
        return self.data

    def has_error(self) -> bool:
        return bool(self.error)

    def error_message(self) -> str:
        return self.error

    def rows_read(self) -> int:
        return 7

    def rows_written(self) -> int:
        return self.written


class FakeConnection:
    """Answers as chDB's connection does; `blocks` are what a streamed query yields."""

    def __init__(self, blocks: list[bytes | str], whole: bytes) -> None:
        self.blocks, self.whole = blocks, whole
        self.statements: list[Any] = []

    def classify_query(self, sql: str) -> dict[str, Any]:
        keyword = sql.split(None, 1)[0].upper()
        read_only = keyword in ("SELECT", "WITH", "EXPLAIN")
        query_class = "READ_ONLY" if read_only else "MUTATING"
        return {"query_class": query_class, "statement_count": sql.count(";") + 1}

    def query(self, sql: Any, fmt: str = "", params: Any = None) -> FakeResult:
        self.statements.append(sql)
        text = sql if isinstance(sql, bytes) else sql.encode()
        if b"no_such_table" in text:
            raise RuntimeError("Code: 60. DB::Exception: Unknown table no_such_table. (UNKNOWN_TABLE)")
        if b"disk_full" in text:
            raise RuntimeError("Code: 243. DB::Exception: Cannot reserve 1.00 MiB, not enough space. (NOT_ENOUGH_SPACE)")
        if text.startswith(b"INSERT"):
            return FakeResult(written=text.count(b"\n") - 1)
        return FakeResult(self.whole)

    def send_query(self, sql: Any, fmt: str, params: Any = None) -> list[bytes | str]:
        self.statements.append(sql)
        return list(self.blocks)

    def streaming_fetch_result(self, stream: list[bytes | str]) -> FakeResult:
        if not stream:
            return FakeResult()
        block = stream.pop(0)
        return FakeResult(error=block) if isinstance(block, str) else FakeResult(block)

    def streaming_cancel_query(self, stream: list[bytes | str]) -> None:
        stream.clear()


class FakeEngine:
    version = "26.9.2.1"

    def __init__(self, conn: FakeConnection) -> None:
        self.conn = conn
        self.released: list[bool] = []

    def acquire(self) -> Lease:
        return Lease(self, self.conn)  # type: ignore[arg-type]

    def release(self, conn: FakeConnection, reusable: bool) -> None:
        self.released.append(reusable)


class HandlerTest(unittest.TestCase):
    blocks: list[bytes | str] = [b'{"n":0}\n']
    whole = b'{"data":[]}'

    def setUp(self) -> None:
        self.conn = FakeConnection(list(self.blocks), self.whole)
        self.engine = FakeEngine(self.conn)
        self.server = ChdbHTTPServer(("127.0.0.1", 0), self.engine)  # type: ignore[arg-type]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.start()
        self.http = http.client.HTTPConnection("127.0.0.1", self.server.server_address[1], timeout=10)

    def tearDown(self) -> None:
        self.http.close()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def request(
        self, method: str, path: str, body: bytes | None = None, **hdrs: str
    ) -> http.client.HTTPResponse:
        self.http.request(method, path, body=body, headers={k.replace("_", "-"): v for k, v in hdrs.items()})
        response = self.http.getresponse()
        response.body = response.read()  # type: ignore[attr-defined]
        return response

    def released(self) -> list[bool]:
        """How each request gave its connection back, once every request has finished."""
        with self.server.active_cond:
            self.assertTrue(self.server.active_cond.wait_for(lambda: self.server.active_requests == 0, 5))
        return self.engine.released


class RoutingTest(HandlerTest):
    def test_ping(self) -> None:
        response = self.request("GET", "/ping")
        self.assertEqual((response.status, response.body), (200, b"Ok.\n"))  # type: ignore[attr-defined]

    def test_unknown_paths(self) -> None:
        for method in ("GET", "POST"):
            with self.subTest(method=method):
                response = self.request(method, "/play", b"x")
                self.assertEqual(response.status, 404)

    def test_queries_over_get_are_not_served(self) -> None:
        response = self.request("GET", "/?query=SELECT+1")
        self.assertEqual(response.status, 501)
        self.assertEqual(response.getheader("X-ClickHouse-Exception-Code"), "48")


class QueryTest(HandlerTest):
    def test_a_small_stream_goes_whole_with_its_summary(self) -> None:
        response = self.request("POST", "/?query_id=q1", b"SELECT 1 FORMAT JSONEachRow")
        self.assertEqual((response.status, response.body), (200, b'{"n":0}\n'))  # type: ignore[attr-defined]
        self.assertEqual(response.getheader("Content-Length"), "8")
        self.assertEqual(json.loads(response.getheader("X-ClickHouse-Summary") or "")["read_rows"], "7")
        self.assertEqual(self.released(), [True])

    def test_a_format_that_does_not_stream_is_built_whole(self) -> None:
        response = self.request("POST", "/", b"SELECT 1 FORMAT JSON")
        self.assertEqual(response.body, self.whole)  # type: ignore[attr-defined]
        self.assertEqual(self.conn.statements, [b"SELECT 1 FORMAT JSON"])

    def test_settings_are_set_and_the_connection_not_reused(self) -> None:
        self.request("POST", "/?max_result_rows=1&database=db", b"SELECT 1 FORMAT JSON")
        self.assertEqual(self.conn.statements[:2], ["USE `db`", "SET max_result_rows = '1'"])
        self.assertEqual(self.released(), [False])

    def test_engine_error_with_status_code_header_and_text(self) -> None:
        response = self.request("POST", "/", b"SELECT * FROM no_such_table FORMAT JSON")
        self.assertEqual(response.status, 404)
        self.assertEqual(response.getheader("X-ClickHouse-Exception-Code"), "60")
        self.assertEqual(
            response.body,  # type: ignore[attr-defined]
            b"Code: 60. DB::Exception: Unknown table no_such_table. (UNKNOWN_TABLE) (version 26.9.2.1)\n",
        )
        # The connection stays usable after an error.
        self.assertEqual(self.request("GET", "/ping").status, 200)

    def test_own_errors(self) -> None:
        cases = {
            "empty": (b"", {}, 400, "62"),
            "two statements": (b"SELECT 1; SELECT 2", {}, 400, "62"),
            "compressed": (b"\x1f\x8b", {"Content_Encoding": "gzip"}, 500, "89"),
        }
        for name, (body, hdrs, status, code) in cases.items():
            with self.subTest(name):
                response = self.request("POST", "/", body, **hdrs)
                self.assertEqual(response.status, status)
                self.assertEqual(response.getheader("X-ClickHouse-Exception-Code"), code)

    def test_an_insert_runs_whole(self) -> None:
        rows = [b'{"k":"%d"}\n' % i for i in range(50)]
        response = self.request(
            "POST", "/?query=INSERT+INTO+t+FORMAT+JSONEachRow", chunked(*rows), Transfer_Encoding="chunked"
        )
        self.assertEqual(response.status, 200)
        self.assertEqual(self.conn.statements, [b"INSERT INTO t FORMAT JSONEachRow\n" + b"".join(rows)])
        summary = json.loads(response.getheader("X-ClickHouse-Summary") or "")
        self.assertEqual((summary["written_rows"], summary["result_rows"]), ("50", "50"))

    def test_an_insert_chdb_cannot_write_fails(self) -> None:
        # chDB's streaming insert would answer this one as done (a full disk); a query raises.
        response = self.request("POST", "/?query=INSERT+INTO+t+FORMAT+TabSeparated", b"1\tdisk_full\n")
        self.assertEqual(response.status, 500)
        self.assertEqual(response.getheader("X-ClickHouse-Exception-Code"), "243")
        self.assertIn(b"NOT_ENOUGH_SPACE", response.body)  # type: ignore[attr-defined]


class StreamTest(HandlerTest):
    blocks = [b'{"n":0}\n', b'{"n":1}\n', b'{"n":2}\n']

    def test_rows_stream_chunked_with_an_exception_tag(self) -> None:
        response = self.request("POST", "/", b"SELECT n FORMAT JSONEachRow")
        self.assertEqual(response.getheader("Transfer-Encoding"), "chunked")
        self.assertRegex(response.getheader("X-ClickHouse-Exception-Tag") or "", r"\A[0-9a-f]{16}\Z")
        self.assertEqual(response.body, b"".join(self.blocks))  # type: ignore[attr-defined]
        self.assertEqual(self.released(), [True])


class StreamErrorTest(HandlerTest):
    # A str is an error chDB reports while producing that block.
    blocks = [
        b'{"n":0}\n',
        b'{"n":1}\n',
        "Code: 395. DB::Exception: boom. (FUNCTION_THROW_IF_VALUE_IS_NON_ZERO)",
    ]

    def test_an_error_after_the_headers_ends_the_body(self) -> None:
        response = self.request("POST", "/", b"SELECT n FORMAT JSONEachRow")
        tag = response.getheader("X-ClickHouse-Exception-Tag") or ""
        body: bytes = response.body  # type: ignore[attr-defined]
        self.assertTrue(body.startswith(b'{"n":0}\n{"n":1}\n\r\n__exception__\r\n' + tag.encode()))
        self.assertIn(b"Code: 395. DB::Exception: boom.", body)
        self.assertTrue(body.endswith(tag.encode() + b"\r\n__exception__\r\n"))
        self.assertEqual(self.released(), [False])


if __name__ == "__main__":
    unittest.main()
