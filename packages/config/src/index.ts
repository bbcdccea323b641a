import Ajv from 'ajv';

/** Environment variables as `process.env` holds them. Only a service's `main.ts` reads `process.env`. */
export type Env = Readonly<Record<string, string | undefined>>;

export type FieldType = 'string' | 'integer' | 'number' | 'boolean';
type ValueOf<T extends FieldType> = T extends 'string' ? string : T extends 'boolean' ? boolean : number;

export interface Field<T extends FieldType = FieldType> {
  /** Environment variable name. */
  readonly env: string;
  readonly type: T;
  readonly default: ValueOf<T>;
  /** One line for the configuration reference. */
  readonly description: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly enum?: readonly string[];
}

export type ConfigSpec = Readonly<Record<string, Field>>;
export type ConfigOf<S extends ConfigSpec> = { readonly [K in keyof S]: ValueOf<S[K]['type']> };

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Declares a typed configuration; `field` keeps each entry's literal type for inference. */
export function field<T extends FieldType>(f: Field<T>): Field<T> {
  return f;
}

/**
 * Validates the variables named in `spec` (coercing "8008" to 8008, "true" to true, filling
 * defaults) and returns a frozen object keyed by the spec's names. Throws ConfigError naming
 * every bad variable at once, so an operator fixes them in one go.
 */
export function parseConfig<S extends ConfigSpec>(spec: S, env: Env): ConfigOf<S> {
  const properties: Record<string, object> = {};
  const input: Record<string, unknown> = {};
  for (const f of Object.values(spec)) {
    const { env: name, description: _d, ...schema } = f;
    properties[name] = schema;
    const raw = env[name];
    if (raw !== undefined && raw !== '') input[name] = raw;
  }
  const ajv = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: true, strict: true });
  const validate = ajv.compile({ type: 'object', properties });
  if (!validate(input)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath.slice(1)} ${e.message ?? 'is invalid'}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(spec)) out[key] = input[f.env];
  return Object.freeze(out) as ConfigOf<S>;
}

/** The reference of a spec, for docs and `--help`: variable, type, default, description. */
export function describeConfig(spec: ConfigSpec): Array<{ env: string; type: FieldType; default: unknown; description: string }> {
  return Object.values(spec).map((f) => ({ env: f.env, type: f.type, default: f.default, description: f.description }));
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

/** The settings every service has: its HTTP port and its log level. */
export function serviceSpec(defaultPort: number, portDescription: string) {
  return {
    port: field({ env: 'PORT', type: 'integer', default: defaultPort, minimum: 0, maximum: 65535, description: portDescription }),
    logLevel: field({ env: 'LOG_LEVEL', type: 'string', default: 'info', enum: LOG_LEVELS, description: 'Log level' }),
    diskUsagePaths: field({
      env: 'DISK_USAGE_PATHS',
      type: 'string',
      default: '',
      description: 'Data folders whose disk usage and filesystem free space /metrics exports: name=/path pairs separated by commas',
    }),
  } as const;
}
