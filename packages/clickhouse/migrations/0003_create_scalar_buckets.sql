-- Pre-aggregated scalar curves, so a chart reads buckets instead of points. Per curve, per
-- width (16, 32, 64, 128, 256 iterations) and per bucket of that width (bucket = iter >> log2(width)),
-- kept by one materialized view as rows are inserted (one view and one table: each view and each
-- part an insert writes costs ClickHouse about as much as the aggregation itself). Every inserted
-- row is counted, re-reports and replays too: a bucket is exact when its `rows` equal the number of
-- distinct iterations its `mask` holds (bit i: iteration bucket * width + i was reported), and
-- dirty otherwise, until a repair row (scalar_bucket_repairs) matches it. NaN values are left out
-- of total/low/high and counted in `nans`. Shift amounts are UInt8: a signed one makes
-- bitShiftLeft's result signed. The sort key starts with (tenant, task): on a cluster a task's
-- buckets live on the shard of its points; width comes next, so a chart reads one width's rows.
-- See docs/schema.md.

CREATE TABLE IF NOT EXISTS {{db}}.scalar_buckets
(
    tenant      LowCardinality(String),
    task        String,
    width       UInt16,
    metric      LowCardinality(String),
    variant     LowCardinality(String),
    bucket      Int64                                              CODEC(Delta, ZSTD(1)),
    rows        SimpleAggregateFunction(sum, UInt64)               CODEC(T64, ZSTD(1)),
    mask        SimpleAggregateFunction(groupBitOr, UInt256)       CODEC(ZSTD(1)),
    nans        SimpleAggregateFunction(sum, UInt64)               CODEC(T64, ZSTD(1)),
    total       SimpleAggregateFunction(sum, Float64)              CODEC(ZSTD(1)),
    low         SimpleAggregateFunction(min, Float64)              CODEC(ZSTD(1)),
    high        SimpleAggregateFunction(max, Float64)              CODEC(ZSTD(1)),
    max_version SimpleAggregateFunction(max, UInt64)               CODEC(Delta, ZSTD(1)),
    received_at SimpleAggregateFunction(max, DateTime64(3, 'UTC')) CODEC(Delta, ZSTD(1))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, task, width, metric, variant, bucket);

-- Exact figures of a dirty bucket, computed from the points with FINAL by the query service when
-- a chart reads it. Valid only while the bucket still has the rows, mask and max_version it was
-- computed for; a newer row makes the bucket dirty again until the next repair.
CREATE TABLE IF NOT EXISTS {{db}}.scalar_bucket_repairs
(
    tenant      LowCardinality(String),
    task        String,
    metric      LowCardinality(String),
    variant     LowCardinality(String),
    width       UInt16,
    bucket      Int64,
    rows        UInt64,
    mask        UInt256,
    max_version UInt64,
    nans        UInt64,
    total       Float64,
    low         Float64,
    high        Float64,
    received_at DateTime64(3, 'UTC'),
    repaired_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(repaired_at)
ORDER BY (tenant, task, metric, variant, width, bucket);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.scalar_buckets_mv TO {{db}}.scalar_buckets AS
SELECT tenant, task, w.1 AS width, metric, variant, bitShiftRight(iter, w.2) AS bucket, count() AS rows,
       groupBitOr(bitShiftLeft(toUInt256(1), toUInt8(bitAnd(iter, w.1 - 1)))) AS mask, countIf(isNaN(value)) AS nans,
       sum(if(isNaN(value), 0, value)) AS total, min(if(isNaN(value), inf, value)) AS low,
       max(if(isNaN(value), -inf, value)) AS high, max(version) AS max_version, max(received_at) AS received_at
FROM {{db}}.scalars
ARRAY JOIN [(toUInt16(16), toUInt8(4)), (32, 5), (64, 6), (128, 7), (256, 8)] AS w
GROUP BY tenant, task, width, metric, variant, bucket;

-- Buckets of the rows stored before this migration (instant on an empty table; on a large one it
-- reads every point once and spills its grouping to disk past 1 GiB). Rows inserted while it runs
-- may be counted twice: they show as dirty buckets, repaired from the points.
INSERT INTO {{db}}.scalar_buckets
SELECT tenant, task, w.1 AS width, metric, variant, bitShiftRight(iter, w.2) AS bucket, count() AS rows,
       groupBitOr(bitShiftLeft(toUInt256(1), toUInt8(bitAnd(iter, w.1 - 1)))) AS mask, countIf(isNaN(value)) AS nans,
       sum(if(isNaN(value), 0, value)) AS total, min(if(isNaN(value), inf, value)) AS low,
       max(if(isNaN(value), -inf, value)) AS high, max(version) AS max_version, max(received_at) AS received_at
FROM {{db}}.scalars
ARRAY JOIN [(toUInt16(16), toUInt8(4)), (32, 5), (64, 6), (128, 7), (256, 8)] AS w
GROUP BY tenant, task, width, metric, variant, bucket
SETTINGS max_bytes_before_external_group_by = 1073741824;
