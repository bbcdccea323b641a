export { createWriter, type WriterDeps } from './app';
export { writerConfigSpec, writerOwnConfigSpec, readWriterConfig, type WriterConfig } from './config';
export { decodeToRows, versionOf, type DecodedMessage, type RowsToInsert } from './rows';
