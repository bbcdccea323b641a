"""What a response carries besides rows: which formats stream, the summary header, in-body errors."""

from __future__ import annotations

import json
import time
from typing import Any

# Output formats (lower-cased) the client and our statements read as a stream,
# and whose chDB streaming output is a plain concatenation of rows, so chunks
# can be forwarded as they come. Any other format is built in memory and sent
# whole, which is always correct.
STREAMABLE_FORMATS = frozenset(("jsoneachrow", "tabseparated", "tsv", "tabseparatedraw", "tsvraw"))


def is_streamable(fmt: str, settings: dict[str, str], sql: str) -> bool:
    """Whether chDB's per-block output of `fmt` can be forwarded as it comes."""
    if fmt.lower() not in STREAMABLE_FORMATS:
        return False
    # output_format_json_array_of_rows wraps JSONEachRow into one JSON array.
    return "array_of_rows" not in " ".join(settings) + " " + sql


def exception_block(message: str, tag: str) -> bytes:
    """An error after the response started, framed as ClickHouse >= 25.11 does.

    The client finds it at the end of the body with the tag of the
    X-ClickHouse-Exception-Tag header (its extractErrorAtTheEndOfChunk).
    """
    msg = message.encode("utf-8") + b"\n"
    t = tag.encode("ascii")
    return b"\r\n__exception__\r\n" + t + b"\r\n" + msg + b"%d " % len(msg) + t + b"\r\n__exception__\r\n"


def summary_of(result: Any, started_ns: int) -> dict[str, int]:
    """The X-ClickHouse-Summary counters of a chDB result (0 for any it lacks)."""

    def stat(name: str) -> int:
        try:
            return int(getattr(result, name)())
        except Exception:
            return 0

    return {
        "read_rows": stat("rows_read"),
        "read_bytes": stat("bytes_read"),
        "written_rows": stat("rows_written"),
        "written_bytes": stat("bytes_written"),
        "total_rows_to_read": stat("storage_rows_read"),
        "result_rows": 0,
        "result_bytes": 0,
        "elapsed_ns": time.perf_counter_ns() - started_ns,
    }


def summary_header(summary: dict[str, int]) -> str:
    # ClickHouse sends every counter as a JSON string.
    return json.dumps({k: str(v) for k, v in summary.items()}, separators=(",", ":"))
