-- The buckets' view of 0003, at about half its insert CPU: it groups the inserted rows once, into
-- 16-wide buckets (with a 16-bit mask), and groups those into the wider widths, instead of
-- grouping every row five times. Same rows in scalar_buckets (a sum of floats may differ in its
-- last bit, as merges already make it). The new view is created before the old one is dropped:
-- rows inserted in between are counted by both and show as dirty buckets, repaired from the
-- points, where a gap would leave buckets that miss points and look clean.

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.scalar_buckets_view TO {{db}}.scalar_buckets AS
SELECT tenant, task, w.1 AS width, metric, variant, bitShiftRight(b16, w.2) AS bucket, sum(r) AS rows,
       groupBitOr(bitShiftLeft(toUInt256(m), toUInt8(16 * bitAnd(b16, bitShiftLeft(toInt64(1), w.2) - 1)))) AS mask,
       sum(n) AS nans, sum(t) AS total, min(lo) AS low, max(hi) AS high, max(v) AS max_version, max(ra) AS received_at
FROM (
    SELECT tenant, task, metric, variant, bitShiftRight(iter, toUInt8(4)) AS b16, count() AS r,
           groupBitOr(bitShiftLeft(toUInt16(1), toUInt8(bitAnd(iter, 15)))) AS m, countIf(isNaN(value)) AS n,
           sum(if(isNaN(value), 0, value)) AS t, min(if(isNaN(value), inf, value)) AS lo,
           max(if(isNaN(value), -inf, value)) AS hi, max(version) AS v, max(received_at) AS ra
    FROM {{db}}.scalars
    GROUP BY tenant, task, metric, variant, b16
)
ARRAY JOIN [(toUInt16(16), toUInt8(0)), (32, 1), (64, 2), (128, 3), (256, 4)] AS w
GROUP BY tenant, task, width, metric, variant, bucket;

DROP TABLE IF EXISTS {{db}}.scalar_buckets_mv;
