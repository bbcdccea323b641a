export { encodeMessageV1 } from './codec/v1-fixture';
