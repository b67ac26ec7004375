// The whole public surface of @reconnect/testkit.

// Throwaway servers
export { startRedis, type RedisServer, type RedisServerOptions } from './servers/redis.js';
export { startRedisSentinel, type RedisSentinelOptions } from './servers/redis-sentinel.js';
export { startMariaDB, type MariaDBServer, type MariaDBServerOptions } from './servers/mariadb.js';
export {
  makeTestCertificates,
  serveCertificate,
  type CertificateName,
  type CertificatePair,
  type ServerTls,
  type TestCertificates,
} from './servers/tls.js';
export {
  startMariaDBReplicaSet,
  type MariaDBReplicaSet,
  type MariaDBReplicaSetOptions,
  type ReplicationStatus,
} from './servers/mariadb-replica-set.js';
export { startPostgres, type PostgresServer, type PostgresServerOptions } from './servers/postgres.js';
export { startCustomServer, type CustomServerOptions } from './servers/custom.js';
export type { ServerHandle, ServerStatus } from './servers/server-handle.js';
export type { BaseServerOptions } from './servers/launch.js';

// Fault proxy
export {
  startFaultProxy,
  type FaultProxy,
  type FaultProxyOptions,
  type ProxyMode,
  type Direction,
  type CutOptions,
  type LatencyOptions,
  type ThrottleOptions,
  type ProxyStats,
  type ProxyConnectionStats,
  type ConnectionEnd,
} from './proxy/fault-proxy.js';

// Fault catalogue: the faults production has, applied to a throwaway server or the fault proxy
export {
  faultCatalogue,
  faultNamed,
  type ActiveFault,
  type CatalogueFault,
  type FaultEnv,
  type FaultGroup,
  type FaultStore,
} from './faults/catalogue.js';
export { openMariaDBAdmin, openRedisAdmin, type AdminSession } from './faults/admin.js';
export { clockJumpMs, jumpWallClock } from './faults/server-faults.js';

// Cleanup and helpers
export { cleanupAll, trackedResources, type TrackedResourceInfo } from './cleanup/registry.js';
export { testkitRoot, TESTKIT_ROOT_ENV } from './cleanup/temp-dir.js';
export { freePort } from './net/free-port.js';
export { installTestResolver, type TestResolver } from './net/test-resolver.js';
export { startSwitchableHost, switchableAddresses, type SwitchableHost } from './net/switchable-host.js';
export { whenAccepting, type AcceptingWait } from './net/when-accepting.js';
export { canConnect, redisPing, mysqlGreeting, postgresReady, type ProbeResult } from './net/probes.js';
export { useServer, type UseServerOptions } from './vitest/use-server.js';
export { findLeaks, type Leak } from './vitest-global-setup.js';

// Errors
export {
  TestkitError,
  TestkitErrorCodes,
  type TestkitErrorCode,
  isTestkitError,
  MissingBinaryError,
  ServerStartError,
  TestkitTimeoutError,
} from './errors.js';

// Driver conformance suite
export { runDriverConformance } from './conformance/run-driver-conformance.js';
export type { ConformanceOptions, ConformanceOperations, Endpoint } from './conformance/types.js';
export { createCountingClock, type CountingClock } from './conformance/counting-clock.js';
export {
  conformancePolicy,
  conformanceBounds,
  defaultDetectionSlackMs,
  mergePolicies,
  type ConformanceBounds,
} from './conformance/policy.js';
export {
  formatConformanceTable,
  scenarioNames,
  type ConformanceReport,
  type ScenarioName,
  type ScenarioResult,
} from './conformance/report.js';

// Elasticsearch-protocol test cluster
export {
  startElasticsearchCluster,
  type ElasticsearchCluster,
  type ElasticsearchClusterOptions,
  type ElasticsearchNodeOptions,
  type StoredDocument,
} from './elasticsearch/cluster.js';
export type { ElasticsearchNode } from './elasticsearch/es-node.js';
export type {
  NodeFaults,
  Fault,
  FaultRule,
  FaultScope,
  RequestMatch,
  StatusFault,
} from './elasticsearch/node-faults.js';
export type { RequestRecord } from './elasticsearch/coordinator.js';
export type { PublishAddressForm } from './elasticsearch/loopback.js';
export {
  findDuplicateWrites,
  canonicalJson,
  type WriteLogEntry,
  type WriteRequest,
  type DuplicateWrite,
} from './elasticsearch/write-log.js';
export { elasticsearchReady } from './elasticsearch/readiness.js';
export { opStream, type OpResult, type OpStream } from './util/op-stream.js';
export { outcomeWithin, until } from './util/wait.js';
export { sendAfterAttemptEnded, type LateSend } from './util/late-send.js';
