import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, field, parseConfig } from './index';

const spec = {
  port: field({ env: 'PORT', type: 'integer', default: 8008, minimum: 1, maximum: 65535, description: 'HTTP port' }),
  auth: field({ env: 'AUTH_ENABLED', type: 'boolean', default: false, description: 'auth on' }),
  level: field({ env: 'LOG_LEVEL', type: 'string', default: 'info', enum: ['debug', 'info'], description: 'log level' }),
};

test('parseConfig fills defaults and coerces strings', () => {
  assert.deepEqual(parseConfig(spec, {}), { port: 8008, auth: false, level: 'info' });
  assert.deepEqual(parseConfig(spec, { PORT: '9000', AUTH_ENABLED: 'true', LOG_LEVEL: 'debug' }), {
    port: 9000,
    auth: true,
    level: 'debug',
  });
});

test('parseConfig result is frozen', () => {
  const c = parseConfig(spec, {});
  assert.ok(Object.isFrozen(c));
});

test('parseConfig names every bad variable', () => {
  assert.throws(
    () => parseConfig(spec, { PORT: 'abc', LOG_LEVEL: 'loud' }),
    (e: unknown) => e instanceof ConfigError && /PORT/.test(e.message) && /LOG_LEVEL/.test(e.message),
  );
  assert.throws(() => parseConfig(spec, { PORT: '70000' }), ConfigError);
});
