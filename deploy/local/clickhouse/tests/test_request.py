"""What a POST asks for: parameters, settings, and which SQL it carries where."""

from __future__ import annotations

import io
import unittest

from chdb_front.body import RequestBody
from chdb_front.errors import ERR_SYNTAX_ERROR, ERR_UNKNOWN_SETTING, CHError
from chdb_front.request import QueryRequest, Statement, read_statement

from .support import chunked, chunked_body, headers, length_body, multipart


def no_body() -> RequestBody:
    return RequestBody(io.BytesIO(b""), headers())


class QueryRequestTest(unittest.TestCase):
    def test_parameters_settings_and_database(self) -> None:
        req = QueryRequest(
            [
                ("query_id", "q1"),
                ("param_s", "x=1&y"),
                ("max_result_rows", "1"),
                ("database", "db"),
                ("query", "SELECT {s:String}"),
                ("output_format_json_quote_64bit_integers", "1"),
            ]
        )
        self.assertEqual(req.sql_param, "SELECT {s:String}")
        self.assertEqual(req.database, "db")
        self.assertEqual(req.query_params, {"s": "x=1&y"})
        self.assertEqual(
            req.settings, {"max_result_rows": "1", "output_format_json_quote_64bit_integers": "1"}
        )

    def test_empty_database_means_the_default(self) -> None:
        self.assertIsNone(QueryRequest([("database", "")]).database)

    def test_setting_names_that_are_not_identifiers(self) -> None:
        for name in ("max_threads = 1, readonly", "a b", "1abc", "x;DROP", "ü", ""):
            with self.subTest(name=name):
                with self.assertRaises(CHError) as caught:
                    QueryRequest([(name, "1")])
                self.assertEqual(caught.exception.code, ERR_UNKNOWN_SETTING)


class ReadStatementTest(unittest.TestCase):
    def test_sql_in_the_body(self) -> None:
        body, _ = length_body(b"CREATE TABLE t (k String) ENGINE = Memory")
        statement = read_statement(QueryRequest([]), body, "text/plain")
        sql = "CREATE TABLE t (k String) ENGINE = Memory"
        self.assertEqual(statement, Statement(sql.encode(), sql, None))

    def test_sql_in_the_url_only(self) -> None:
        statement = read_statement(QueryRequest([("query", "SELECT 1")]), no_body(), "")
        self.assertEqual(statement, Statement("SELECT 1", "SELECT 1", None))

    def test_insert_format_with_data_is_streamed(self) -> None:
        body, _ = chunked_body(chunked(b'{"k":"a"}\n', b'{"k":"b"}\n'))
        req = QueryRequest([("query", "INSERT INTO t FORMAT JSONEachRow")])
        statement = read_statement(req, body, "")
        self.assertEqual(statement.insert_split, ("INSERT INTO t", "JSONEachRow"))
        self.assertEqual(body.read_all(), b'{"k":"a"}\n{"k":"b"}\n', "the body is left for chDB")

    def test_insert_with_query_parameters_is_joined_with_its_data(self) -> None:
        body, _ = length_body(b"\x00\xff binary")
        req = QueryRequest([("query", "INSERT INTO t FORMAT RowBinary"), ("param_x", "1")])
        statement = read_statement(req, body, "")
        self.assertEqual(statement.sql, b"INSERT INTO t FORMAT RowBinary\n\x00\xff binary")
        self.assertEqual(statement.text, "INSERT INTO t FORMAT RowBinary", "classified without its data")
        self.assertIsNone(statement.insert_split)

    def test_other_statements_continue_in_the_body(self) -> None:
        body, _ = length_body(b"FROM numbers(3)")
        statement = read_statement(QueryRequest([("query", "SELECT number")]), body, "")
        joined = "SELECT number\nFROM numbers(3)"
        self.assertEqual(statement, Statement(joined.encode(), joined, None))

    def test_multipart_fields_are_parameters(self) -> None:
        sql = "SELECT {m:String} FORMAT JSONEachRow"
        content_type, data = multipart({"query": sql, "param_m": "x" * 10_000})
        body, _ = length_body(data)
        req = QueryRequest([("query_id", "q"), ("max_threads", "1")])
        statement = read_statement(req, body, content_type)
        self.assertEqual(statement, Statement(sql, sql, None))
        self.assertEqual(req.query_params, {"m": "x" * 10_000})
        self.assertEqual(req.settings, {"max_threads": "1"})

    def test_multipart_field_names_are_checked_like_url_parameters(self) -> None:
        content_type, data = multipart({"query": "SELECT 1", "bad name": "1"})
        body, _ = length_body(data)
        with self.assertRaises(CHError) as caught:
            read_statement(QueryRequest([]), body, content_type)
        self.assertEqual(caught.exception.code, ERR_UNKNOWN_SETTING)

    def test_empty_query(self) -> None:
        content_type, params_only = multipart({"param_a": "1"})
        cases = {
            "nothing": (QueryRequest([]), no_body(), ""),
            "blank url query": (QueryRequest([("query", "  \n")]), no_body(), ""),
            "blank body": (QueryRequest([]), length_body(b" \t\n")[0], ""),
            "multipart without query": (QueryRequest([]), length_body(params_only)[0], content_type),
        }
        for name, args in cases.items():
            with self.subTest(name):
                with self.assertRaises(CHError) as caught:
                    read_statement(*args)
                self.assertEqual(caught.exception.code, ERR_SYNTAX_ERROR)


if __name__ == "__main__":
    unittest.main()
