export { createQuery, type QueryDeps } from './app';
export { queryConfigSpec, queryOwnConfigSpec, readQueryConfig, type QueryConfig } from './config';
