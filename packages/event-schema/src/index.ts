export {
  parseHocon,
  resolveRefs,
  definitionSchema,
  listEndpoints,
  endpointSchema,
  SeedParseError,
  SEED_PATH,
  REFERENCE_PATH,
  SchemaDocument,
  seedDocument,
  referenceDocument,
  compareVersions,
} from './seed';
export type { HoconValue, HoconObject, HoconOptions, JsonSchema, EndpointVersions } from './seed';

export {
  validateEvent,
  prepareValidators,
  eventSchema,
  isValidTaskId,
  isLogLevel,
  EVENT_TYPES,
  EVENT_DEFINITIONS,
  LOG_LEVELS,
  DEFAULT_LOG_LEVEL,
  MAX_TASK_ID_LENGTH,
  MIN_TIMESTAMP_MS,
  MAX_TIMESTAMP_MS,
} from './events';
export type {
  Event,
  EventType,
  ScalarEvent,
  VectorEvent,
  ImageEvent,
  PlotEvent,
  LogEvent,
  LogLevel,
  ValidateContext,
  ValidateResult,
  RejectCode,
} from './events';

export {
  EVENT_KINDS,
  EVENT_TABLES,
  HEADER_COLUMNS,
  kindOfType,
  kindOfTable,
  tableColumns,
  insertColumns,
  MODEL_KEY_PREFIX,
  ownerKey,
  ownerOfKey,
} from './kinds';
export type { EventKind, EventTable, EventOf, KindSpec, FieldSpec, ColumnSpec, WireField, Owner } from './kinds';

export {
  encodeMessage,
  fieldsSizeBound,
  readTopicMessage,
  layoutV2,
  WIRE_TABLES,
  WIRE_COLUMNS,
  decodeMessage,
  decodeTopicMessage,
  encodeDeleteTask,
  packEvents,
  messageKey,
  DecodeError,
  CODEC_VERSION,
  DEFAULT_MAX_MESSAGE_BYTES,
} from './codec';
export type { Message, DeleteTaskMessage, TopicMessage, DecodeErrorReason, ReadMessage, V2Layout, V2Section, WireTable } from './codec';
export { tsvString, tsvFloat, tsvFloatArray, tsvInt, tsvLine, toCHDateTime64, DateTimeText, fromTsvString, fromTsvFloat, fromTsvFloatArray, fromCHDateTime64 } from './tsv';
