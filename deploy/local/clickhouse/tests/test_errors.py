"""Errors as the client parses them: ClickHouse's text, its code, the server's HTTP status."""

from __future__ import annotations

import unittest

from chdb_front.errors import (
    ERR_NOT_IMPLEMENTED,
    ERR_STD_EXCEPTION,
    ERR_SYNTAX_ERROR,
    ERR_UNKNOWN_COMPRESSION_METHOD,
    CHError,
    engine_error,
)

CHDB_TEXT = "Code: 60. DB::Exception: Unknown table expression identifier 'nope'. (UNKNOWN_TABLE)"


class RenderTest(unittest.TestCase):
    def test_own_errors_in_clickhouse_form(self) -> None:
        self.assertEqual(
            CHError(ERR_SYNTAX_ERROR, "Empty query").render("26.9.2.1"),
            "Code: 62. DB::Exception: Empty query. (SYNTAX_ERROR) (version 26.9.2.1)",
        )

    def test_one_full_stop_whatever_the_message_ends_with(self) -> None:
        for message in ("Not here", "Not here.", "Not here. "):
            text = CHError(ERR_NOT_IMPLEMENTED, message).render("1")
            self.assertEqual(text, "Code: 48. DB::Exception: Not here. (NOT_IMPLEMENTED) (version 1)")

    def test_unnamed_code(self) -> None:
        self.assertIn("(UNKNOWN_EXCEPTION)", CHError(999, "x").render("1"))

    def test_engine_text_kept_and_version_added_once(self) -> None:
        rendered = CHError(60, CHDB_TEXT + "\n", formatted=True).render("v")
        self.assertEqual(rendered, CHDB_TEXT + " (version v)")
        with_version = CHDB_TEXT + " (version 26.9.2.1)"
        self.assertEqual(CHError(60, with_version, formatted=True).render("v"), with_version)


class StatusTest(unittest.TestCase):
    def test_codes_map_as_on_the_server(self) -> None:
        cases = {
            62: 400,  # SYNTAX_ERROR
            36: 400,  # BAD_ARGUMENTS
            60: 404,  # UNKNOWN_TABLE
            81: 404,  # UNKNOWN_DATABASE
            115: 404,  # UNKNOWN_SETTING
            48: 501,  # NOT_IMPLEMENTED
            159: 408,  # TIMEOUT_EXCEEDED
            497: 403,  # ACCESS_DENIED
            396: 500,  # TOO_MANY_ROWS_OR_BYTES: not in the table
            ERR_UNKNOWN_COMPRESSION_METHOD: 500,
            ERR_STD_EXCEPTION: 500,
        }
        for code, status in cases.items():
            with self.subTest(code=code):
                self.assertEqual(CHError(code, "x").http_status, status)


class EngineErrorTest(unittest.TestCase):
    def test_clickhouse_text_keeps_its_code(self) -> None:
        err = engine_error(RuntimeError("  " + CHDB_TEXT + "\n"))
        self.assertEqual((err.code, err.formatted, err.message), (60, True, CHDB_TEXT))

    def test_other_text_is_a_std_exception(self) -> None:
        err = engine_error(RuntimeError("connection closed"))
        self.assertEqual(
            (err.code, err.formatted, err.message), (ERR_STD_EXCEPTION, False, "connection closed")
        )
        self.assertEqual(engine_error(RuntimeError()).message, "RuntimeError")

    def test_code_must_lead_the_text(self) -> None:
        self.assertEqual(engine_error(RuntimeError("see Code: 60. DB::Exception")).code, ERR_STD_EXCEPTION)

    def test_undecodable_message(self) -> None:
        exc = UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")
        err = engine_error(exc)
        self.assertEqual(err.code, ERR_STD_EXCEPTION)
        self.assertIn("binary data", err.message)


if __name__ == "__main__":
    unittest.main()
