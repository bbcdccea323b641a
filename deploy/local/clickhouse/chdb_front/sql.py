"""Just enough SQL scanning to route a statement: its first keyword, its FORMAT clause, quoting."""

from __future__ import annotations

import re
from collections.abc import Iterator

# One regex finds the next token that matters; whatever it skips (whitespace,
# numbers, operators, commas) is irrelevant for finding FORMAT clauses, and the
# skipping happens in C, so even megabyte-sized IN lists scan quickly.
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

    String literals, quoted identifiers, heredocs and comments are consumed as
    units so their contents are never mistaken for keywords. Comments are
    skipped; numbers and operators are not reported. Scanning is lazy, so
    callers can stop before inline INSERT data.
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
    """The format named by a trailing top-level ``FORMAT <name>`` clause.

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


def set_statement(settings: dict[str, str]) -> str:
    """``SET a = 'x', b = 'y'`` for settings whose names the caller has validated."""
    return "SET " + ", ".join(f"{name} = {quote_literal(value)}" for name, value in settings.items())
