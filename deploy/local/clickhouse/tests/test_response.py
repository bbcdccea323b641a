"""Streamed formats, the summary header, and errors framed inside a streamed body."""

from __future__ import annotations

import json
import re
import unittest

from chdb_front.response import exception_block, is_streamable, summary_header, summary_of


def client_error_at_end(chunk: bytes, tag: str) -> str:
    """The message @clickhouse/client reads from the end of a body (its extractErrorAtTheEndOfChunk)."""
    after_len = 1 + len("__exception__") + 2 + len(tag) + 2
    idx = len(chunk) - after_len
    idx -= 1
    while chunk[idx] != 0x0A:
        idx -= 1
    length = int(chunk[idx:-after_len].decode())
    return chunk[idx - length + 1 : idx].decode()


class StreamableTest(unittest.TestCase):
    def test_row_formats_we_read_as_streams(self) -> None:
        for fmt in ("JSONEachRow", "jsoneachrow", "TabSeparated", "TSV", "TabSeparatedRaw", "TSVRaw"):
            with self.subTest(fmt=fmt):
                self.assertTrue(is_streamable(fmt, {}, "SELECT 1"))

    def test_everything_else_is_sent_whole(self) -> None:
        for fmt in ("JSON", "JSONCompact", "CSVWithNames", "TabSeparatedWithNames", "Parquet", "Pretty"):
            with self.subTest(fmt=fmt):
                self.assertFalse(is_streamable(fmt, {}, "SELECT 1"))

    def test_array_of_rows_turns_rows_into_one_document(self) -> None:
        self.assertFalse(is_streamable("JSONEachRow", {"output_format_json_array_of_rows": "1"}, "SELECT 1"))
        self.assertFalse(
            is_streamable("JSONEachRow", {}, "SELECT 1 SETTINGS output_format_json_array_of_rows = 1")
        )


class ExceptionBlockTest(unittest.TestCase):
    def test_the_client_finds_the_message_after_rows(self) -> None:
        message = "Code: 395. DB::Exception: boom: ünïcode. (FUNCTION_THROW_IF_VALUE_IS_NON_ZERO)"
        body = b'{"n":1}\n{"n":2}\n' + exception_block(message, "0123456789abcdef")
        self.assertEqual(client_error_at_end(body, "0123456789abcdef"), message)

    def test_framing(self) -> None:
        block = exception_block("boom", "TAG")
        self.assertEqual(block, b"\r\n__exception__\r\nTAG\r\nboom\n5 TAG\r\n__exception__\r\n")


class FakeResult:
    def rows_read(self) -> int:
        return 10

    def bytes_read(self) -> int:
        return 80

    def rows_written(self) -> int:
        raise RuntimeError("not a write")


class SummaryTest(unittest.TestCase):
    def test_counters_with_zero_for_missing_or_failing_ones(self) -> None:
        summary = summary_of(FakeResult(), 0)
        self.assertEqual(summary["read_rows"], 10)
        self.assertEqual(summary["read_bytes"], 80)
        self.assertEqual(summary["written_rows"], 0)
        self.assertEqual(summary["total_rows_to_read"], 0)
        self.assertGreater(summary["elapsed_ns"], 0)

    def test_header_is_compact_json_of_strings(self) -> None:
        header = summary_header({"read_rows": 10, "elapsed_ns": 5})
        self.assertEqual(header, '{"read_rows":"10","elapsed_ns":"5"}')
        self.assertEqual(json.loads(header)["read_rows"], "10")
        self.assertIsNone(re.search(r"[\r\n]", header))


if __name__ == "__main__":
    unittest.main()
