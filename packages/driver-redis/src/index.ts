// The whole public surface of @reconnect/driver-redis.
import { redisDriver } from './driver.js';

export default redisDriver;
export { redisDriver };
export {
  classifyRedisError,
  replyCode,
  transientReplyCodes,
  authReplyCodes,
  tlsCertificateErrors,
} from './classify.js';
export { createRedisClient, topologyOf, type RedisClient, type CreateClientContext } from './client.js';
export {
  redisCommands,
  type RedisCommands,
  type RedisCommandsOptions,
  type RedisCallOptions,
  type RedisOnceOptions,
  type RedisArgument,
} from './commands.js';
export { defaultIdempotencyKeyTtlMs, guardKeyOf, hashTagOf, type OnceReply } from './write-once.js';
export {
  driverErrorCodes,
  isRedisDriverError,
  NotReplicatedError,
  redactRedisError,
  RedisDriverError,
  type RedisDriverErrorCode,
} from './errors.js';
export {
  defaultIdempotencyTable,
  idempotencyTable,
  isIdempotentCommand,
  type IdempotencyRule,
  type IdempotencyTable,
} from './idempotency.js';
export { isWriteCommand } from './replicas.js';
export {
  redisOptionsSchema,
  waitForReplicasSchema,
  clusterOptionsSchema,
  describeRedisOptions,
  parseNode,
  policyOwnedKeys,
  redisSecretKeys,
  type RedisDriverOptions,
  type RedisDriverOptionsInput,
  type RedisNodeInput,
} from './options.js';
export {
  connectionOptions,
  clusterOptions,
  deferredReconnectMs,
  reconnectStrategy,
  reconnectOnReadonly,
  type ReconnectStrategyOptions,
} from './policy-mapping.js';
