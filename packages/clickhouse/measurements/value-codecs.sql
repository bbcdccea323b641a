-- Which codec for scalars.value? 1M float32-precision training values (loss, accuracy, grad_norm,
-- a stepped learning rate, whole-number GPU figures), the same rows in one table per codec.
-- Run it in any ClickHouse (clickhouse local, or chDB), then compare:
--   SELECT table, sum(data_compressed_bytes) / 1e6 AS bytes_per_point FROM system.columns
--   WHERE database = currentDatabase() AND name = 'value' AND table LIKE 'c_%' GROUP BY table;
--   SELECT sum(value) FROM c_<codec> SETTINGS max_threads = 1;  -- read speed
CREATE TABLE c_gorilla (task String, metric LowCardinality(String), iter Int64 CODEC(Delta, ZSTD(1)), value Float64 CODEC(Gorilla, ZSTD(1))) ENGINE = MergeTree ORDER BY (task, metric, iter);
CREATE TABLE c_zstd (task String, metric LowCardinality(String), iter Int64 CODEC(Delta, ZSTD(1)), value Float64 CODEC(ZSTD(1))) ENGINE = MergeTree ORDER BY (task, metric, iter);
CREATE TABLE c_zstd3 (task String, metric LowCardinality(String), iter Int64 CODEC(Delta, ZSTD(1)), value Float64 CODEC(ZSTD(3))) ENGINE = MergeTree ORDER BY (task, metric, iter);
CREATE TABLE c_fpc (task String, metric LowCardinality(String), iter Int64 CODEC(Delta, ZSTD(1)), value Float64 CODEC(FPC, ZSTD(1))) ENGINE = MergeTree ORDER BY (task, metric, iter);
CREATE TABLE c_delta (task String, metric LowCardinality(String), iter Int64 CODEC(Delta, ZSTD(1)), value Float64 CODEC(Delta, ZSTD(1))) ENGINE = MergeTree ORDER BY (task, metric, iter);
CREATE TABLE src (task String, metric LowCardinality(String), iter Int64, value Float64) ENGINE = Memory;
INSERT INTO src SELECT concat('task-', toString(number % 100)) AS task, ['loss','accuracy','grad_norm','lr','gpu_util'][(intDiv(number, 100) % 5) + 1] AS metric, intDiv(number, 500) AS iter, multiIf(metric = 'loss', toFloat64(toFloat32(2.5 * exp(-iter / 400.) + 0.05 * randNormal(0, 1))), metric = 'accuracy', toFloat64(toFloat32(1 - exp(-iter / 300.) * 0.9 + 0.01 * randNormal(0, 1))), metric = 'grad_norm', toFloat64(toFloat32(abs(randNormal(1, 0.3)))), metric = 'lr', 0.001 * pow(0.5, intDiv(iter, 500)), toFloat64(rand() % 101)) AS value FROM numbers(1000000);
INSERT INTO c_gorilla SELECT * FROM src;
INSERT INTO c_zstd SELECT * FROM src;
INSERT INTO c_zstd3 SELECT * FROM src;
INSERT INTO c_fpc SELECT * FROM src;
INSERT INTO c_delta SELECT * FROM src;
OPTIMIZE TABLE c_gorilla FINAL;
OPTIMIZE TABLE c_zstd FINAL;
OPTIMIZE TABLE c_zstd3 FINAL;
OPTIMIZE TABLE c_fpc FINAL;
OPTIMIZE TABLE c_delta FINAL
;
