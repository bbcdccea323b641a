export { createQuery, type QueryDeps } from './app';
export { queryConfigSpec, queryOwnConfigSpec, readQueryConfig, type QueryConfig } from './config';
// Statements the query benchmark also runs straight in ClickHouse, to set the service beside them.
export { rawPageStatement } from './routes/scalar-metrics-iter-raw';
export { singleValuesStatement, MAX_SINGLE_VALUES } from './routes/get-task-single-value-metrics';
export { metricFilter } from './metric-filter';
