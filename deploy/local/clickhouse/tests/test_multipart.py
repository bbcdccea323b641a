"""multipart/form-data bodies: the client's layout, and input that must be refused."""

from __future__ import annotations

import unittest

from chdb_front.errors import ERR_BAD_ARGUMENTS, ERR_NOT_IMPLEMENTED, CHError
from chdb_front.multipart import parse_multipart

from .support import multipart

CONTENT_TYPE = "multipart/form-data; boundary=B"


class ParseMultipartTest(unittest.TestCase):
    def test_the_clients_layout(self) -> None:
        parts = {
            "query": "SELECT {s:String} AS s,\r\n {a:Array(String)} AS a",
            "param_s": "ünïcødé 🚀 {braces} 'quote' \\n",
            "param_a": "['x','y']",
            "param_empty": "",
        }
        self.assertEqual(parse_multipart(*multipart(parts)), parts)

    def test_a_long_value(self) -> None:
        value = "m" * 5_000_000
        self.assertEqual(parse_multipart(*multipart({"param_metric": value})), {"param_metric": value})

    def test_quoted_boundary(self) -> None:
        _, body = multipart({"query": "SELECT 1"}, boundary="a b")
        self.assertEqual(parse_multipart('multipart/form-data; boundary="a b"', body), {"query": "SELECT 1"})

    def test_a_part_without_a_name_is_ignored(self) -> None:
        body = (
            b"--B\r\nContent-Disposition: form-data\r\n\r\nx\r\n"
            b"--B\r\nContent-Disposition: form-data; name=q\r\n\r\ny\r\n--B--\r\n"
        )
        self.assertEqual(parse_multipart(CONTENT_TYPE, body), {"q": "y"})

    def test_files_external_tables_are_not_implemented(self) -> None:
        body = b'--B\r\nContent-Disposition: form-data; name="t"; filename="t.tsv"\r\n\r\n1\r\n--B--\r\n'
        with self.assertRaises(CHError) as caught:
            parse_multipart(CONTENT_TYPE, body)
        self.assertEqual(caught.exception.code, ERR_NOT_IMPLEMENTED)

    def test_damaged_bodies_are_refused_not_run_with_what_survived(self) -> None:
        whole = multipart({"query": "SELECT {a:String}", "param_a": "hallo"}, boundary="B")[1]
        cases = {
            "truncated value": whole[: whole.index(b"hallo") + 3],
            "no closing boundary": whole[: whole.rindex(b"--B")],
            "a part without headers": b"--B\r\nno headers here\r\n--B--\r\n",
        }
        for name, body in cases.items():
            with self.subTest(name):
                with self.assertRaises(CHError) as caught:
                    parse_multipart(CONTENT_TYPE, body)
                self.assertEqual(caught.exception.code, ERR_BAD_ARGUMENTS)

    def test_a_value_that_is_not_utf8(self) -> None:
        body = b'--B\r\nContent-Disposition: form-data; name="param_a"\r\n\r\n\xff\xfe\r\n--B--\r\n'
        with self.assertRaises(CHError) as caught:
            parse_multipart(CONTENT_TYPE, body)
        self.assertEqual(caught.exception.code, ERR_BAD_ARGUMENTS)
        self.assertIn("param_a", caught.exception.message)

    def test_not_multipart(self) -> None:
        cases = {
            "no boundary parameter": ("multipart/form-data", multipart({"q": "1"})[1]),
            "another boundary": ("multipart/form-data; boundary=other", multipart({"q": "1"})[1]),
            "garbage": (CONTENT_TYPE, b"\x00\xffnot a multipart body"),
            "empty": (CONTENT_TYPE, b""),
        }
        for name, (content_type, body) in cases.items():
            with self.subTest(name):
                with self.assertRaises(CHError) as caught:
                    parse_multipart(content_type, body)
                self.assertEqual(caught.exception.code, ERR_BAD_ARGUMENTS)


if __name__ == "__main__":
    unittest.main()
