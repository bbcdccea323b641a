export { createQuery, type QueryDeps } from './app';
export { queryConfigSpec, queryOwnConfigSpec, readQueryConfig, type QueryConfig } from './config';
// For the query benchmark: it runs the viewer's step statement directly in ClickHouse beside the endpoint.
export { imageStepStatement, stepCandidates, type ImageSampleState, type VariantState } from './samples';
