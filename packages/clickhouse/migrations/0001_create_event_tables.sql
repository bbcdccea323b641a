-- The five event tables. Each table's sort key is the event's identity and the engine is
-- ReplacingMergeTree(version): a re-report (a newer version) replaces the older row, and a
-- Kafka message replayed after a writer crash (the same version) collapses onto the rows it
-- already wrote. Exact reads use FINAL. See docs/schema.md.
-- {{db}} is the database name, filled in by the migration runner.

CREATE TABLE IF NOT EXISTS {{db}}.scalars
(
    tenant      LowCardinality(String),
    task        String,
    metric      LowCardinality(String),
    variant     LowCardinality(String),
    iter        Int64                CODEC(Delta, ZSTD(1)),
    value       Float64              CODEC(ZSTD(1)),
    timestamp   DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    received_at DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    version     UInt64               CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant, task, metric, variant, iter);

CREATE TABLE IF NOT EXISTS {{db}}.vectors
(
    tenant      LowCardinality(String),
    task        String,
    metric      LowCardinality(String),
    variant     LowCardinality(String),
    iter        Int64                CODEC(Delta, ZSTD(1)),
    values      Array(Float64)       CODEC(ZSTD(1)),
    timestamp   DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    received_at DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    version     UInt64               CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant, task, metric, variant, iter);

CREATE TABLE IF NOT EXISTS {{db}}.images
(
    tenant      LowCardinality(String),
    task        String,
    metric      LowCardinality(String),
    variant     LowCardinality(String),
    iter        Int64                CODEC(Delta, ZSTD(1)),
    key         String               CODEC(ZSTD(1)),
    url         String               CODEC(ZSTD(1)),
    timestamp   DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    received_at DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    version     UInt64               CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant, task, metric, variant, iter, key);

CREATE TABLE IF NOT EXISTS {{db}}.plots
(
    tenant      LowCardinality(String),
    task        String,
    metric      LowCardinality(String),
    variant     LowCardinality(String),
    iter        Int64                CODEC(Delta, ZSTD(1)),
    plot_str    String               CODEC(ZSTD(3)),
    timestamp   DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    received_at DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    version     UInt64               CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant, task, metric, variant, iter);

-- Log events are never merged with one another: seq, fixed at ingest from the Kafka offset
-- and the event's position in its message, makes each one distinct and a replay identical.
CREATE TABLE IF NOT EXISTS {{db}}.logs
(
    tenant      LowCardinality(String),
    task        String,
    timestamp   DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    seq         UInt64               CODEC(Delta, ZSTD(1)),
    iter        Int64                CODEC(Delta, ZSTD(1)),
    level       LowCardinality(String),
    worker      LowCardinality(String),
    msg         String               CODEC(ZSTD(1)),
    received_at DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    version     UInt64               CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant, task, timestamp, seq);

-- One row per events.delete_for_task request, written by the writer once it has deleted the
-- task's rows; the caller waits for it. A replayed request adds a later row: the earliest
-- row of a request holds its count.
CREATE TABLE IF NOT EXISTS {{db}}.task_deletions
(
    tenant      LowCardinality(String),
    task        String,
    request_id  String,
    deleted     UInt64,
    deleted_at  DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (tenant, task, request_id, deleted_at);
