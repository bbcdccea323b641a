export { createWriter, type WriterDeps } from './app';
export { writerConfigSpec, readWriterConfig, type WriterConfig } from './config';
