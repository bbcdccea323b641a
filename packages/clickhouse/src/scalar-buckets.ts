/**
 * The pre-aggregated scalar curves of migration 0003: per curve, buckets of `width` consecutive
 * iterations (bucket = iter >> log2(width)), and the repairs of dirty ones. See docs/schema.md.
 */

/** Bucket widths with a table, smallest first. Each level's mask has one bit per iteration. */
export const SCALAR_BUCKET_WIDTHS = [16, 32, 64, 128, 256] as const;
export type ScalarBucketWidth = (typeof SCALAR_BUCKET_WIDTHS)[number];

export function scalarBucketTable(width: ScalarBucketWidth): string {
  return `scalar_buckets_${width}`;
}

export const SCALAR_BUCKET_REPAIRS = 'scalar_bucket_repairs';

/** Tables derived from `scalars`: whatever deletes a task's scalars deletes its rows here too. */
export const SCALAR_DERIVED_TABLES: readonly string[] = [...SCALAR_BUCKET_WIDTHS.map(scalarBucketTable), SCALAR_BUCKET_REPAIRS];
