export {
  ApiError,
  type ApiErrorOptions,
  toApiError,
  invalidPath,
  missingFields,
  validation,
  noEvents,
  invalidTaskId,
  eventsNotAdded,
  invalidScrollId,
  noCredentials,
  badCredentials,
  unknownCredentials,
  notFound,
  payloadTooLarge,
  unavailable,
  internal,
} from './errors';
export {
  newRequestId,
  successEnvelope,
  errorEnvelope,
  type Envelope,
  type EnvelopeMeta,
  type EnvelopeEndpoint,
  type EnvelopeContext,
} from './envelope';
export { tryParsePath, type ApiPath } from './path';
export { parseVersion, formatVersion, compareVersions, selectVersion, type Version } from './version';
export { parseJson, stringifyJson, valueDepthExceeds, JsonParseError, MAX_JSON_DEPTH } from './json';
export {
  readBody,
  decodeUtf8,
  isJsonLines,
  parseObjectBody,
  parseJsonLines,
  parseEventsBody,
  parseQuery,
  queryOf,
  coerceQueryValue,
  mergeQuery,
  RequestAbortedError,
  LINE_ERRORS,
  DEFAULT_BODY_LIMIT,
  DEFAULT_DRAIN_LIMIT,
  DEFAULT_DRAIN_TIMEOUT_MS,
  type ReadBodyOptions,
  type EventLine,
} from './body';
export {
  createAuth,
  loginEndpoint,
  parseKeys,
  loadKeysFile,
  DEFAULT_TENANT,
  MIN_TOKEN_API_VERSION,
  DEFAULT_TOKEN_API_VERSION,
  type Auth,
  type AuthOptions,
  type AccessKey,
  type TokenClaims,
} from './auth';
export {
  createSignedTokens,
  SignedTokenError,
  type SignedTokens,
  type SignedTokenOptions,
  type SignedTokenFailure,
  type SignedClaims,
} from './signed-token';
export {
  objectEndpoint,
  eventsEndpoint,
  rawResponse,
  isRawResponse,
  attachment,
  type Identity,
  type RequestContext,
  type RawResponse,
  type Endpoint,
  type ObjectEndpoint,
  type ObjectEndpointVersion,
  type EventsEndpoint,
  type EventsEndpointVersion,
  type JsonSchema,
} from './endpoint';
export { chainChunks, streamedEnvelope, type Chunk } from './stream';
export { httpMetrics, UNKNOWN_ENDPOINT_LABEL, type HttpMetrics } from './http-metrics';
export { createApiRouter, servedEndpoints, schemaError, sendError, DEFAULT_REQUEST_TIMEOUT_MS, type ApiRouterOptions } from './router';
export { authConfigSpec, authFromConfig, SERVER_VERSION, type AuthConfig } from './auth-config';
