"""The chDB engine and the pool of connections that HTTP requests lease from it.

chDB runs one engine per process; any number of connections to its path may
be open, each with its own session state (current database, settings, query
parameters, streaming cursor). Queries on different connections run in
parallel (chDB releases the GIL while a query runs), but one connection is
not safe for concurrent use. So each request leases a connection of its own,
and no global lock is held while a query runs.

chdb is imported when the engine starts, so the rest of the package loads
without it.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from .errors import CHDB_ERRORS, ERR_STD_EXCEPTION, CHError, engine_error
from .sql import quote_identifier, set_statement

LOG = logging.getLogger("chdb-http")

# Idle pooled chDB connections kept open for reuse.
MAX_IDLE_CONNECTIONS = 16

# Settings whose chDB default differs from clickhouse-server 26.9's default.
# chDB enables async inserts (which also makes every small insert wait for the
# async flush timer), best-effort DateTime parsing and SELECT-less expressions.
SERVER_DEFAULT_SETTINGS: dict[str, str] = {
    "async_insert": "0",
    "date_time_input_format": "basic",
    "implicit_select": "0",
}


class Lease:
    """A chDB connection handed to one request.

    Per-request settings and database are applied with SET/USE (a SETTINGS
    clause appended to the SQL would be fragile next to INSERT ... FORMAT or
    the statement's own clauses). A connection whose session state changed, by
    us or by the statement itself (SET, USE, temporary tables), is closed
    instead of going back to the pool, so requests stay stateless like on a
    real server; opening a new one costs about a millisecond.
    """

    def __init__(self, engine: Engine, conn: Any) -> None:
        self.engine = engine
        self.conn = conn
        self.reusable = True

    def prepare(self, database: str | None, settings: dict[str, str]) -> None:
        """Make `database` current and apply `settings` for this request."""
        try:
            if database:
                self.reusable = False
                self.conn.query("USE " + quote_identifier(database))
            if settings:
                self.reusable = False
                self.conn.query(set_statement(settings))
        except CHDB_ERRORS as exc:
            raise engine_error(exc) from exc

    def release(self) -> None:
        self.engine.release(self.conn, self.reusable)


class Engine:
    """The chDB engine: an anchor connection and a pool of idle ones."""

    def __init__(self, path: str) -> None:
        import chdb
        import chdb._chdb as chdb_core

        self._core = chdb_core
        self.chdb_version = str(getattr(chdb, "__version__", "?"))
        self._path = path
        self._lock = threading.Lock()  # guards the pool and connect/close
        self._idle: list[Any] = []
        self._closed = False
        # The engine lives as long as one connection is open; this one is never
        # used by requests, so pooled connections can come and go freely.
        self._anchor = chdb_core.connect(path)
        self.version = self._anchor.query("SELECT version()", "TSVRaw").bytes().decode().strip()

    def _connect(self) -> Any:
        # Called under self._lock: connect() is serialised with close() to stay
        # clear of any race in chDB's connection registry.
        conn = self._core.connect(self._path)
        try:
            conn.query(set_statement(SERVER_DEFAULT_SETTINGS))
        except CHDB_ERRORS:
            conn.close()
            raise
        return conn

    def acquire(self) -> Lease:
        with self._lock:
            if self._closed:
                raise CHError(ERR_STD_EXCEPTION, "Server is shutting down")
            conn = self._idle.pop() if self._idle else self._connect()
        return Lease(self, conn)

    def release(self, conn: Any, reusable: bool) -> None:
        with self._lock:
            if reusable and not self._closed and len(self._idle) < MAX_IDLE_CONNECTIONS:
                self._idle.append(conn)
                return
            self._close_conn(conn)

    def _close_conn(self, conn: Any) -> None:
        try:
            conn.close()
        except Exception as exc:
            LOG.warning("closing a chDB connection failed: %s", exc)

    def close(self) -> None:
        """Close every connection; the last close shuts the engine down (flushes data)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for conn in self._idle:
                self._close_conn(conn)
            self._idle.clear()
            self._close_conn(self._anchor)
