-- Pre-aggregated scalar curves, so a chart reads buckets instead of points. Per curve and per
-- bucket of 16, 32, 64, 128 or 256 consecutive iterations (bucket = iter >> log2(width)), kept by
-- materialized views as rows are inserted: width 16 from `scalars`, each wider one from the one
-- below it. Every inserted row is counted, re-reports and replays too: a bucket is exact when its
-- `rows` equal the number of distinct iterations its `mask` holds (bit i: iteration
-- bucket * width + i was reported), and dirty otherwise, until a repair row
-- (scalar_bucket_repairs) matches it. NaN values are left out of total/low/high and counted in
-- `nans`. The views read their source's columns under other names: in ClickHouse an alias
-- (`... AS bucket`) would otherwise stand for the column of that name in the other expressions.
-- Shift amounts are UInt8: a signed one makes bitShiftLeft's result signed. See docs/schema.md.

CREATE TABLE IF NOT EXISTS {{db}}.scalar_buckets_16
(
    tenant      LowCardinality(String),
    task        String,
    metric      LowCardinality(String),
    variant     LowCardinality(String),
    bucket      Int64                                              CODEC(Delta, ZSTD(1)),
    rows        SimpleAggregateFunction(sum, UInt64)               CODEC(T64, ZSTD(1)),
    mask        SimpleAggregateFunction(groupBitOr, UInt16)         CODEC(ZSTD(1)),
    nans        SimpleAggregateFunction(sum, UInt64)               CODEC(T64, ZSTD(1)),
    total       SimpleAggregateFunction(sum, Float64)              CODEC(ZSTD(1)),
    low         SimpleAggregateFunction(min, Float64)              CODEC(ZSTD(1)),
    high        SimpleAggregateFunction(max, Float64)              CODEC(ZSTD(1)),
    max_version SimpleAggregateFunction(max, UInt64)               CODEC(Delta, ZSTD(1)),
    received_at SimpleAggregateFunction(max, DateTime64(3, 'UTC')) CODEC(Delta, ZSTD(1))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, task, metric, variant, bucket);

CREATE TABLE IF NOT EXISTS {{db}}.scalar_buckets_32
(
    tenant      LowCardinality(String),
    task        String,
    metric      LowCardinality(String),
    variant     LowCardinality(String),
    bucket      Int64                                              CODEC(Delta, ZSTD(1)),
    rows        SimpleAggregateFunction(sum, UInt64)               CODEC(T64, ZSTD(1)),
    mask        SimpleAggregateFunction(groupBitOr, UInt32)         CODEC(ZSTD(1)),
    nans        SimpleAggregateFunction(sum, UInt64)               CODEC(T64, ZSTD(1)),
    total       SimpleAggregateFunction(sum, Float64)              CODEC(ZSTD(1)),
    low         SimpleAggregateFunction(min, Float64)              CODEC(ZSTD(1)),
    high        SimpleAggregateFunction(max, Float64)              CODEC(ZSTD(1)),
    max_version SimpleAggregateFunction(max, UInt64)               CODEC(Delta, ZSTD(1)),
    received_at SimpleAggregateFunction(max, DateTime64(3, 'UTC')) CODEC(Delta, ZSTD(1))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, task, metric, variant, bucket);

CREATE TABLE IF NOT EXISTS {{db}}.scalar_buckets_64
(
    tenant      LowCardinality(String),
    task        String,
    metric      LowCardinality(String),
    variant     LowCardinality(String),
    bucket      Int64                                              CODEC(Delta, ZSTD(1)),
    rows        SimpleAggregateFunction(sum, UInt64)               CODEC(T64, ZSTD(1)),
    mask        SimpleAggregateFunction(groupBitOr, UInt64)         CODEC(ZSTD(1)),
    nans        SimpleAggregateFunction(sum, UInt64)               CODEC(T64, ZSTD(1)),
    total       SimpleAggregateFunction(sum, Float64)              CODEC(ZSTD(1)),
    low         SimpleAggregateFunction(min, Float64)              CODEC(ZSTD(1)),
    high        SimpleAggregateFunction(max, Float64)              CODEC(ZSTD(1)),
    max_version SimpleAggregateFunction(max, UInt64)               CODEC(Delta, ZSTD(1)),
    received_at SimpleAggregateFunction(max, DateTime64(3, 'UTC')) CODEC(Delta, ZSTD(1))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, task, metric, variant, bucket);

CREATE TABLE IF NOT EXISTS {{db}}.scalar_buckets_128
(
    tenant      LowCardinality(String),
    task        String,
    metric      LowCardinality(String),
    variant     LowCardinality(String),
    bucket      Int64                                              CODEC(Delta, ZSTD(1)),
    rows        SimpleAggregateFunction(sum, UInt64)               CODEC(T64, ZSTD(1)),
    mask        SimpleAggregateFunction(groupBitOr, UInt128)        CODEC(ZSTD(1)),
    nans        SimpleAggregateFunction(sum, UInt64)               CODEC(T64, ZSTD(1)),
    total       SimpleAggregateFunction(sum, Float64)              CODEC(ZSTD(1)),
    low         SimpleAggregateFunction(min, Float64)              CODEC(ZSTD(1)),
    high        SimpleAggregateFunction(max, Float64)              CODEC(ZSTD(1)),
    max_version SimpleAggregateFunction(max, UInt64)               CODEC(Delta, ZSTD(1)),
    received_at SimpleAggregateFunction(max, DateTime64(3, 'UTC')) CODEC(Delta, ZSTD(1))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, task, metric, variant, bucket);

CREATE TABLE IF NOT EXISTS {{db}}.scalar_buckets_256
(
    tenant      LowCardinality(String),
    task        String,
    metric      LowCardinality(String),
    variant     LowCardinality(String),
    bucket      Int64                                              CODEC(Delta, ZSTD(1)),
    rows        SimpleAggregateFunction(sum, UInt64)               CODEC(T64, ZSTD(1)),
    mask        SimpleAggregateFunction(groupBitOr, UInt256)        CODEC(ZSTD(1)),
    nans        SimpleAggregateFunction(sum, UInt64)               CODEC(T64, ZSTD(1)),
    total       SimpleAggregateFunction(sum, Float64)              CODEC(ZSTD(1)),
    low         SimpleAggregateFunction(min, Float64)              CODEC(ZSTD(1)),
    high        SimpleAggregateFunction(max, Float64)              CODEC(ZSTD(1)),
    max_version SimpleAggregateFunction(max, UInt64)               CODEC(Delta, ZSTD(1)),
    received_at SimpleAggregateFunction(max, DateTime64(3, 'UTC')) CODEC(Delta, ZSTD(1))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, task, metric, variant, bucket);

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

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.scalar_buckets_16_mv TO {{db}}.scalar_buckets_16 AS
SELECT tenant, task, metric, variant, bitShiftRight(iter, 4) AS bucket, count() AS rows,
       groupBitOr(bitShiftLeft(toUInt16(1), toUInt8(bitAnd(iter, 15)))) AS mask, countIf(isNaN(value)) AS nans,
       sum(if(isNaN(value), 0, value)) AS total, min(if(isNaN(value), inf, value)) AS low,
       max(if(isNaN(value), -inf, value)) AS high, max(version) AS max_version, max(received_at) AS received_at
FROM {{db}}.scalars
GROUP BY tenant, task, metric, variant, bucket;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.scalar_buckets_32_mv TO {{db}}.scalar_buckets_32 AS
SELECT tenant, task, metric, variant, bitShiftRight(b, 1) AS bucket, sum(r) AS rows,
       groupBitOr(bitShiftLeft(toUInt32(m), toUInt8(16 * bitAnd(b, 1)))) AS mask, sum(q) AS nans, sum(t) AS total,
       min(lo) AS low, max(hi) AS high, max(v) AS max_version, max(ra) AS received_at
FROM (
    SELECT tenant, task, metric, variant, bucket AS b, rows AS r, mask AS m, nans AS q, total AS t, low AS lo, high AS hi,
           max_version AS v, received_at AS ra
    FROM {{db}}.scalar_buckets_16
)
GROUP BY tenant, task, metric, variant, bucket;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.scalar_buckets_64_mv TO {{db}}.scalar_buckets_64 AS
SELECT tenant, task, metric, variant, bitShiftRight(b, 1) AS bucket, sum(r) AS rows,
       groupBitOr(bitShiftLeft(toUInt64(m), toUInt8(32 * bitAnd(b, 1)))) AS mask, sum(q) AS nans, sum(t) AS total,
       min(lo) AS low, max(hi) AS high, max(v) AS max_version, max(ra) AS received_at
FROM (
    SELECT tenant, task, metric, variant, bucket AS b, rows AS r, mask AS m, nans AS q, total AS t, low AS lo, high AS hi,
           max_version AS v, received_at AS ra
    FROM {{db}}.scalar_buckets_32
)
GROUP BY tenant, task, metric, variant, bucket;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.scalar_buckets_128_mv TO {{db}}.scalar_buckets_128 AS
SELECT tenant, task, metric, variant, bitShiftRight(b, 1) AS bucket, sum(r) AS rows,
       groupBitOr(bitShiftLeft(toUInt128(m), toUInt8(64 * bitAnd(b, 1)))) AS mask, sum(q) AS nans, sum(t) AS total,
       min(lo) AS low, max(hi) AS high, max(v) AS max_version, max(ra) AS received_at
FROM (
    SELECT tenant, task, metric, variant, bucket AS b, rows AS r, mask AS m, nans AS q, total AS t, low AS lo, high AS hi,
           max_version AS v, received_at AS ra
    FROM {{db}}.scalar_buckets_64
)
GROUP BY tenant, task, metric, variant, bucket;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.scalar_buckets_256_mv TO {{db}}.scalar_buckets_256 AS
SELECT tenant, task, metric, variant, bitShiftRight(b, 1) AS bucket, sum(r) AS rows,
       groupBitOr(bitShiftLeft(toUInt256(m), toUInt8(128 * bitAnd(b, 1)))) AS mask, sum(q) AS nans, sum(t) AS total,
       min(lo) AS low, max(hi) AS high, max(v) AS max_version, max(ra) AS received_at
FROM (
    SELECT tenant, task, metric, variant, bucket AS b, rows AS r, mask AS m, nans AS q, total AS t, low AS lo, high AS hi,
           max_version AS v, received_at AS ra
    FROM {{db}}.scalar_buckets_128
)
GROUP BY tenant, task, metric, variant, bucket;

-- Buckets of the rows stored before this migration (instant on an empty table; on a large one it
-- reads every point once and spills its grouping to disk past 1 GiB). Rows inserted while it runs
-- may be counted twice: they show as dirty buckets, repaired from the points.
INSERT INTO {{db}}.scalar_buckets_16
SELECT tenant, task, metric, variant, bitShiftRight(iter, 4) AS bucket, count() AS rows,
       groupBitOr(bitShiftLeft(toUInt16(1), toUInt8(bitAnd(iter, 15)))) AS mask, countIf(isNaN(value)) AS nans,
       sum(if(isNaN(value), 0, value)) AS total, min(if(isNaN(value), inf, value)) AS low,
       max(if(isNaN(value), -inf, value)) AS high, max(version) AS max_version, max(received_at) AS received_at
FROM {{db}}.scalars
GROUP BY tenant, task, metric, variant, bucket
SETTINGS max_bytes_before_external_group_by = 1073741824;
