-- Each scalar curve's size and range, kept with every part of `scalars` (a projection): charts
-- and latest values learn a curve's point count and iteration range without reading its points.
-- count() also counts rows a merge has not replaced yet (an upper bound); min/max are exact.
-- Merges and lightweight DELETEs rebuild the projection, so it never keeps deleted rows.

ALTER TABLE {{db}}.scalars MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild', lightweight_mutation_projection_mode = 'rebuild';

ALTER TABLE {{db}}.scalars ADD PROJECTION IF NOT EXISTS curve_stats
(
    SELECT tenant, task, metric, variant, count(), min(iter), max(iter), min(timestamp), max(timestamp)
    GROUP BY tenant, task, metric, variant
);

-- Builds it for rows stored before this migration; instant on an empty table.
ALTER TABLE {{db}}.scalars MATERIALIZE PROJECTION curve_stats;
