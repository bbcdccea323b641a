export { LocalStack, DEFAULT_PORTS, type ComponentName, type ComponentStatus, type StackPorts, type StackState } from './stack';
export { testStack, waitFor, STACK_ENV } from './test-stack';
export { freePort } from './ports';
export { repoRoot, defaultCacheDir, defaultDataDir } from './paths';
export { ensureVenv, hostPython } from './venv';
export { kafkaVersion, OLDEST_SUPPORTED_KAFKA } from './kafka';
