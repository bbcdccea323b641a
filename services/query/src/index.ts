export { createQuery, type QueryDeps } from './app';
export { queryConfigSpec, queryOwnConfigSpec, readQueryConfig, type QueryConfig } from './config';
/** The statements of a get_task_log 2.9 page, which the query benchmark times in ClickHouse directly. */
export { BOUNDARY_LINES, COUNT_LOGS, navigatedPageStatements } from './routes/get-task-log';
export { rawPageStatement } from './routes/scalar-metrics-iter-raw';
export { singleValuesStatement, MAX_SINGLE_VALUES } from './routes/get-task-single-value-metrics';
export { metricFilter } from './metric-filter';
export { imageStepStatement, stepCandidates, type ImageSampleState, type VariantState } from './samples';
