/**
 * The pre-aggregated scalar curves of migrations 0003 and 0004: per curve, buckets of `width` consecutive
 * iterations (bucket = iter >> log2(width)), and the repairs of dirty ones. See docs/schema.md.
 */

/** The bucket widths `scalar_buckets` holds, smallest first. A bucket's mask has one bit per iteration. */
export const SCALAR_BUCKET_WIDTHS = [16, 32, 64, 128, 256] as const;
export type ScalarBucketWidth = (typeof SCALAR_BUCKET_WIDTHS)[number];

export const SCALAR_BUCKETS = 'scalar_buckets';
/** The materialized view that fills `scalar_buckets` from `scalars`. */
export const SCALAR_BUCKETS_VIEW = 'scalar_buckets_view';
export const SCALAR_BUCKET_REPAIRS = 'scalar_bucket_repairs';

/** Tables derived from `scalars`: whatever deletes a task's scalars deletes its rows here too. */
export const SCALAR_DERIVED_TABLES: readonly string[] = [SCALAR_BUCKETS, SCALAR_BUCKET_REPAIRS];
