export { createQuery, type QueryDeps } from './app';
export { queryConfigSpec, readQueryConfig, type QueryConfig } from './config';
