"""The ClickHouse-level meaning of one POST: its SQL, query parameters, settings and database."""

from __future__ import annotations

import re
from typing import NamedTuple

from .body import RequestBody
from .errors import ERR_SYNTAX_ERROR, ERR_UNKNOWN_SETTING, CHError
from .multipart import parse_multipart
from .sql import first_keyword, split_insert_format

# What a statement's output is when it names no FORMAT (command(), DDL).
DEFAULT_FORMAT = "TabSeparated"

# URL parameters the client sends that are not engine settings: never passed to SET.
_HANDLER_PARAMS = frozenset(("query", "database", "query_id"))

# Setting names go into SET statements unquoted: only plain identifiers.
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class QueryRequest:
    """URL (and multipart) parameters of one query request."""

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
        elif name not in _HANDLER_PARAMS:
            if not _IDENT_RE.match(name):
                raise CHError(ERR_UNKNOWN_SETTING, f"Unknown setting '{name}'")
            self.settings[name] = value


class Statement(NamedTuple):
    """What to run: `sql` as chDB gets it, `text` to classify it and find its FORMAT."""

    # bytes when it carries inline (maybe binary) INSERT data
    sql: str | bytes
    text: str
    # (INSERT prefix, format) when the body is that INSERT's data
    insert_split: tuple[str, str] | None


def read_statement(req: QueryRequest, body: RequestBody, content_type: str) -> Statement:
    """The statement of a request, from its URL `query`, its body, or its multipart fields.

    Reads the body unless it is the data of an INSERT ... FORMAT (the handler reads it).
    """
    if content_type.lower().startswith("multipart/form-data"):
        for name, value in parse_multipart(content_type, body.read_all()).items():
            req.add_param(name, value)
        sql = req.sql_param or ""
        statement = Statement(sql, sql, None)
    elif req.sql_param is not None and not body.is_empty():
        # Query text in the URL, data in the body (how insert() sends rows): ClickHouse
        # joins them with a newline (for INSERT ... FORMAT, the handler does).
        split = None if req.query_params else split_insert_format(req.sql_param)
        if split is not None:
            statement = Statement(req.sql_param, req.sql_param, split)
        else:
            joined = req.sql_param.encode("utf-8") + b"\n" + body.read_all()
            # An INSERT is classified without its data, which need not be text.
            is_insert = first_keyword(req.sql_param) == "INSERT"
            text = req.sql_param if is_insert else joined.decode("utf-8", "replace")
            statement = Statement(joined, text, None)
    elif req.sql_param is not None:
        statement = Statement(req.sql_param, req.sql_param, None)
    else:
        data = body.read_all()
        statement = Statement(data, data.decode("utf-8", "replace"), None)
    if not statement.text.strip():
        raise CHError(ERR_SYNTAX_ERROR, "Empty query")
    return statement
