"""A ClickHouse-compatible HTTP front for chDB (ClickHouse's engine as a Python library).

The local stack runs it when no ``clickhouse`` binary is on PATH. It answers the
part of ClickHouse's HTTP interface that ``@clickhouse/client`` sends with our
settings, so that client works unchanged:

* ``GET /ping`` -> ``Ok.``;
* ``POST /`` with URL parameters ``query``, ``database``, ``query_id`` (logged),
  ``param_<name>`` (chDB's native query parameters) and any other parameter as
  a setting; the SQL in the body, or in ``query`` with INSERT data in the body
  (``INSERT ... FORMAT`` data is read whole, then inserted by one query), or in a
  ``multipart/form-data`` body (long query parameters);
* bodies with ``Content-Length`` or ``Transfer-Encoding: chunked``;
* results streamed for row formats (JSONEachRow, TabSeparated), sent whole for
  the others, with ``X-ClickHouse-Summary``; errors with
  ``X-ClickHouse-Exception-Code``, ClickHouse's text and HTTP status, and
  mid-stream errors in the ``X-ClickHouse-Exception-Tag`` framing.

Not served, because nothing of ours sends them: queries over GET or HEAD,
HTTP/1.0 (streamed answers are always chunked), sessions (``session_id`` reads
as an unknown setting), compressed request bodies (refused) and compressed
responses (``enable_http_compression`` is a plain setting here and the answer
is not compressed), external tables, authentication (any user is accepted).

Modules: ``sql`` (scanning), ``multipart``, ``body`` (request bodies),
``request`` (what a POST asks for), ``errors``, ``response`` (streamed formats,
summary, in-body errors), ``engine`` (chDB and its connection pool), ``handler``
(HTTP), ``main`` (command line). Only ``engine`` imports chdb, and only when the
engine starts.
"""
