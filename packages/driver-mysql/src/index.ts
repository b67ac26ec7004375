// The whole public surface of @reconnect/driver-mysql.
import { mysqlDriver } from './driver.js';

export default mysqlDriver;
export { mysqlDriver };
export {
  classifyMySqlError,
  codeMatches,
  isReadOnlyError,
  readOnlyErrnos,
  serverErrno,
  serverErrorRule,
  serverErrorRules,
  type MySqlClassification,
  type ServerErrorRule,
} from './classify.js';
export { busyErrnos, isServerBusy } from './acquire.js';
export {
  busyBackoffBaseMs,
  busyBackoffMaxMs,
  ConnectPacer,
  defaultConnectRate,
  type ConnectPacerOptions,
} from './connect-pacer.js';
export {
  driverErrorCodes,
  isMySqlDriverError,
  isNotSent,
  markNotSent,
  MySqlDriverError,
  type MySqlDriverErrorCode,
} from './errors.js';
export {
  describeMySqlOptions,
  maxLagMs,
  maxLagSchema,
  mysqlAddresses,
  mysqlNodeSchema,
  mysqlOptionsSchema,
  mysqlSecretKeys,
  nodeRoleSchema,
  parseMySqlNode,
  parseMySqlUri,
  policyOwnedKeys,
  sslOptionsSchema,
  type MySqlAddress,
  type MySqlDriverOptions,
  type MySqlDriverOptionsInput,
  type MySqlNodeInput,
} from './options.js';
export { checkReplicaLag, replicaLagVerdict, type LagRule, type LagVerdict } from './replica-lag.js';
export {
  defaultKeepAliveInitialDelay,
  defaultQueueLimit,
  maxCloseGraceMs,
  mysql2PoolOptions,
  poolSettings,
  type PoolSettings,
} from './policy-mapping.js';
export {
  closeMySqlPool,
  createMySqlPool,
  killsSettled,
  mysqlPoolStats,
  openPool,
  probePool,
  type CreatePoolContext,
  type MySqlPool,
  type MySqlPoolStats,
} from './pool.js';
export {
  transaction,
  type IsolationLevel,
  type TransactionContext,
  type TransactionOptions,
} from './transaction.js';
export {
  defaultIdempotencyTable,
  defaultIdempotencyTtlMs,
  ensureIdempotencyKeyTable,
  idempotencyKeyTableDdl,
  maxIdempotencyKeyLength,
  pruneIdempotencyKeys,
  statementOnce,
  transactionOnce,
  type IdempotencyKeyOptions,
  type OnceResult,
  type TransactionOnceOptions,
} from './idempotency-key.js';
export { discoverRoles, type Topology } from './discover.js';
