"""Request bodies off the socket: Content-Length and chunked, truncated and garbage input."""

from __future__ import annotations

import io
import unittest

from chdb_front.body import BODY_PIECE, RequestBody
from chdb_front.errors import ERR_BAD_ARGUMENTS, ERR_UNKNOWN_COMPRESSION_METHOD, CHError, ClientGone

from .support import chunked, chunked_body, headers, length_body

NEXT_REQUEST = b"POST / HTTP/1.1\r\n"


class ContentLengthTest(unittest.TestCase):
    def test_reads_exactly_the_body(self) -> None:
        body, rfile = length_body(b"SELECT 1", NEXT_REQUEST)
        self.assertEqual(body.read_all(), b"SELECT 1")
        self.assertEqual(rfile.read(), NEXT_REQUEST)

    def test_no_body(self) -> None:
        body = RequestBody(io.BytesIO(NEXT_REQUEST), headers())
        self.assertTrue(body.is_empty())
        self.assertEqual(body.read_all(), b"")

    def test_large_body_comes_in_pieces_of_at_most_body_piece(self) -> None:
        data = bytes(range(256)) * (BODY_PIECE // 128 + 3)
        body, _ = length_body(data)
        pieces = list(body)
        self.assertEqual(b"".join(pieces), data)
        self.assertGreater(len(pieces), 1)
        self.assertTrue(all(len(p) <= BODY_PIECE for p in pieces))

    def test_truncated_body_means_the_client_is_gone(self) -> None:
        body = RequestBody(io.BytesIO(b"SELECT"), headers(Content_Length="100"))
        with self.assertRaises(ClientGone):
            body.read_all()

    def test_invalid_length(self) -> None:
        for length in ("ten", "-1", "1 2"):
            with self.subTest(length=length):
                with self.assertRaises(CHError) as caught:
                    RequestBody(io.BytesIO(b""), headers(Content_Length=length))
                self.assertEqual(caught.exception.code, ERR_BAD_ARGUMENTS)


class ChunkedTest(unittest.TestCase):
    def test_tiny_chunks_are_coalesced(self) -> None:
        rows = [b'{"n":%d}\n' % i for i in range(1000)]
        body, rfile = chunked_body(chunked(*rows) + NEXT_REQUEST)
        self.assertEqual(list(body), [b"".join(rows)])
        self.assertEqual(rfile.read(), NEXT_REQUEST)

    def test_extensions_trailers_and_a_bare_newline_after_a_size(self) -> None:
        wire = b"3;name=value\r\nabc\r\n2\nde\r\n0\r\nX-Trailer: 1\r\n\r\n" + NEXT_REQUEST
        body, rfile = chunked_body(wire)
        self.assertEqual(body.read_all(), b"abcde")
        self.assertEqual(rfile.read(), NEXT_REQUEST)

    def test_upper_case_hex_sizes(self) -> None:
        data = b"x" * 0x1A
        body, _ = chunked_body(b"1A\r\n" + data + b"\r\n0\r\n\r\n")
        self.assertEqual(body.read_all(), data)

    def test_peeking_keeps_the_first_piece(self) -> None:
        body, _ = chunked_body(chunked(b"INSERT", b" data"))
        self.assertFalse(body.is_empty())
        self.assertEqual(body.read_all(), b"INSERT data")

    def test_empty_chunked_body(self) -> None:
        body, _ = chunked_body(b"0\r\n\r\n")
        self.assertTrue(body.is_empty())

    def test_truncated_or_garbage_framing_means_the_client_is_gone(self) -> None:
        cases = {
            "no size line end": b"5",
            "size not hex": b"zz\r\nhello\r\n0\r\n\r\n",
            "data shorter than its size": b"10\r\nshort",
            "no terminating chunk": b"5\r\nhello\r\n",
            "bad chunk terminator": b"5\r\nhelloXX0\r\n\r\n",
            "bare newline after data": b"5\r\nhello\n0\r\n\r\n",
            "negative size": b"-5\r\nhello\r\n0\r\n\r\n",
            "size line too long": b"1" * 2000 + b"\r\n",
        }
        for name, wire in cases.items():
            with self.subTest(name):
                body, _ = chunked_body(wire)
                with self.assertRaises(ClientGone):
                    body.read_all()

    def test_drain_leaves_the_socket_at_the_next_request(self) -> None:
        body, rfile = chunked_body(chunked(b"a" * 10, b"b" * 10) + NEXT_REQUEST)
        self.assertFalse(body.is_empty())
        body.drain()
        self.assertEqual(rfile.read(), NEXT_REQUEST)


class ContentEncodingTest(unittest.TestCase):
    def test_compressed_bodies_are_refused(self) -> None:
        for encoding in ("gzip", "deflate", "br", "zstd"):
            with self.subTest(encoding=encoding):
                compressed = headers(Content_Length="2", Content_Encoding=encoding)
                with self.assertRaises(CHError) as caught:
                    RequestBody(io.BytesIO(b"\x1f\x8b"), compressed)
                self.assertEqual(caught.exception.code, ERR_UNKNOWN_COMPRESSION_METHOD)

    def test_identity_is_plain(self) -> None:
        body = RequestBody(io.BytesIO(b"SELECT 1"), headers(Content_Length="8", Content_Encoding="identity"))
        self.assertEqual(body.read_all(), b"SELECT 1")


if __name__ == "__main__":
    unittest.main()
