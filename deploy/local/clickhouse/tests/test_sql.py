"""SQL scanning: keywords inside literals, identifiers and comments are never keywords."""

from __future__ import annotations

import unittest

from chdb_front.sql import (
    find_output_format,
    first_keyword,
    iter_tokens,
    quote_identifier,
    quote_literal,
    set_statement,
    split_insert_format,
)


class IterTokensTest(unittest.TestCase):
    def kinds(self, sql: str) -> list[tuple[str, str]]:
        return [(kind, text) for kind, text, _s, _e, _d in iter_tokens(sql)]

    def test_strings_quoted_names_and_heredocs_are_single_tokens(self) -> None:
        self.assertEqual(
            self.kinds("SELECT 'a FORMAT b', \"FORMAT x\", `FORMAT`, $t$ FORMAT $t$"),
            [
                ("word", "SELECT"),
                ("string", "'a FORMAT b'"),
                ("quoted", '"FORMAT x"'),
                ("quoted", "`FORMAT`"),
                ("string", "$t$ FORMAT $t$"),
            ],
        )

    def test_escapes_inside_literals(self) -> None:
        self.assertEqual(
            self.kinds(r"SELECT 'it''s \' FORMAT', `a``b` x"),
            [("word", "SELECT"), ("string", r"'it''s \' FORMAT'"), ("quoted", "`a``b`"), ("word", "x")],
        )

    def test_comments_are_skipped_and_block_comments_nest(self) -> None:
        sql = "SELECT -- FORMAT a\n1 # FORMAT b\n/* FORMAT /* nested */ FORMAT c */ x"
        self.assertEqual(self.kinds(sql), [("word", "SELECT"), ("word", "x")])

    def test_hash_starts_a_comment_only_before_a_space_or_bang(self) -> None:
        self.assertEqual(self.kinds("SELECT #!x\n a"), [("word", "SELECT"), ("word", "a")])

    def test_unterminated_literal_and_comment_end_at_the_text_end(self) -> None:
        self.assertEqual(
            self.kinds("SELECT 'open FORMAT JSON"), [("word", "SELECT"), ("string", "'open FORMAT JSON")]
        )
        self.assertEqual(self.kinds("SELECT /* open FORMAT JSON"), [("word", "SELECT")])

    def test_bracket_depth(self) -> None:
        depths = [(text, depth) for _k, text, _s, _e, depth in iter_tokens("f(a[b]) c")]
        self.assertEqual(
            depths, [("f", 0), ("(", 0), ("a", 1), ("[", 1), ("b", 2), ("]", 1), (")", 0), ("c", 0)]
        )

    def test_unbalanced_closing_brackets_do_not_go_negative(self) -> None:
        depths = [depth for _k, _t, _s, _e, depth in iter_tokens(")) x")]
        self.assertEqual(depths, [0, 0, 0])


class FirstKeywordTest(unittest.TestCase):
    def test_first_word_upper_cased_after_comments(self) -> None:
        self.assertEqual(first_keyword("  -- note\n/* c */ insert INTO t"), "INSERT")

    def test_nothing_or_not_a_word(self) -> None:
        self.assertEqual(first_keyword(""), "")
        self.assertEqual(first_keyword("-- only a comment"), "")
        self.assertEqual(first_keyword("(SELECT 1)"), "")


class FindOutputFormatTest(unittest.TestCase):
    def test_trailing_clause(self) -> None:
        self.assertEqual(find_output_format("SELECT 1 \nFORMAT JSONEachRow"), "JSONEachRow")
        self.assertEqual(find_output_format("SELECT 1 format TabSeparatedRaw;;"), "TabSeparatedRaw")
        self.assertEqual(find_output_format("SELECT 1 FORMAT JSON SETTINGS max_threads = 1"), "JSON")

    def test_no_clause(self) -> None:
        self.assertIsNone(find_output_format("SELECT 1"))
        self.assertIsNone(find_output_format("SELECT 1 FORMAT"))

    def test_the_word_format_in_literals_names_and_comments(self) -> None:
        for sql in (
            "SELECT 'x FORMAT JSON'",
            'SELECT "FORMAT" FROM t',
            "SELECT `format JSON` FROM t",
            "SELECT 1 -- FORMAT JSON",
            "SELECT 1 /* FORMAT JSON */",
            "SELECT $$ FORMAT JSON $$",
        ):
            with self.subTest(sql=sql):
                self.assertIsNone(find_output_format(sql))
        self.assertEqual(find_output_format("SELECT 'FORMAT CSV' FORMAT JSONEachRow"), "JSONEachRow")

    def test_a_column_called_format_is_not_a_clause(self) -> None:
        self.assertIsNone(find_output_format("SELECT format FROM t WHERE format = 1"))
        self.assertIsNone(find_output_format("SELECT x FORMAT y FROM t"))

    def test_clause_inside_brackets_is_not_the_output_format(self) -> None:
        self.assertIsNone(find_output_format("SELECT * FROM (SELECT 1 FORMAT CSV)"))
        # Followed by SETTINGS, only the bracket depth tells it from the output format.
        self.assertIsNone(find_output_format("SELECT * FROM (SELECT 1 FORMAT CSV SETTINGS max_threads = 1)"))
        self.assertEqual(find_output_format("SELECT * FROM (SELECT 1) FORMAT CSV"), "CSV")


class SplitInsertFormatTest(unittest.TestCase):
    def test_insert_format_without_data(self) -> None:
        cases = {
            "INSERT INTO t (a, b) FORMAT JSONEachRow": ("INSERT INTO t (a, b)", "JSONEachRow"),
            "insert into t format TabSeparated \n ": ("insert into t", "TabSeparated"),
            "INSERT INTO `FORMAT x` (format) FORMAT CSV": ("INSERT INTO `FORMAT x` (format)", "CSV"),
            "INSERT INTO t SETTINGS a = 1 FORMAT CSV": ("INSERT INTO t SETTINGS a = 1", "CSV"),
        }
        for sql, split in cases.items():
            with self.subTest(sql=sql):
                self.assertEqual(split_insert_format(sql), split)

    def test_inline_data_after_the_format_runs_whole(self) -> None:
        self.assertIsNone(split_insert_format("INSERT INTO t FORMAT TabSeparated\n1\t2"))

    def test_other_statements(self) -> None:
        for sql in (
            "SELECT 1 FORMAT JSON",
            "INSERT INTO t VALUES (1)",
            "INSERT INTO t SELECT * FROM u",
            "INSERT INTO t FORMAT",
            "",
        ):
            with self.subTest(sql=sql):
                self.assertIsNone(split_insert_format(sql))

    def test_format_in_a_name_or_a_bracket_is_not_the_clause(self) -> None:
        self.assertIsNone(split_insert_format("INSERT INTO `FORMAT` VALUES (1)"))
        self.assertIsNone(split_insert_format("INSERT INTO t SELECT * FROM input('a Int8') FORMAT"))
        self.assertIsNone(split_insert_format("INSERT INTO t SELECT * FROM (SELECT 1 FORMAT CSV)"))
        self.assertIsNone(split_insert_format("INSERT INTO t SELECT 'x FORMAT CSV'"))
        self.assertIsNone(split_insert_format("INSERT INTO t (a, FORMAT CSV"))
        self.assertIsNone(split_insert_format("INSERT INTO t SELECT 1 -- FORMAT CSV"))


class QuotingTest(unittest.TestCase):
    def test_literal(self) -> None:
        self.assertEqual(quote_literal("it's a \\ path"), "'it\\'s a \\\\ path'")

    def test_identifier(self) -> None:
        self.assertEqual(quote_identifier("we`ird\\db"), "`we\\`ird\\\\db`")

    def test_set_statement(self) -> None:
        self.assertEqual(set_statement({"a": "1", "b": "x'y"}), "SET a = '1', b = 'x\\'y'")


if __name__ == "__main__":
    unittest.main()
