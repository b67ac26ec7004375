// The whole public surface of @reconnect/driver-elasticsearch.
import { elasticsearchDriver } from './driver.js';

export default elasticsearchDriver;
export { elasticsearchDriver, defaultProbe, parseProbeQuery } from './driver.js';
export {
  classifyElasticsearchError,
  classifyResponse,
  errorType,
  notAppliedErrorTypes,
  retryAfterMs,
} from './classify.js';
export {
  createElasticsearchClient,
  lastClusterHealth,
  policyClientOptions,
  vendoredHeaders,
  type ClusterHealthSnapshot,
  type CreateClientContext,
  type ElasticsearchClient,
} from './client.js';
export { isMasterOnly, nodesFromInfo, parsePublishAddress, type NodesInfoEntry } from './discover.js';
export {
  bulkItemReplay,
  isIdempotentRequest,
  replayOf,
  type BulkAction,
  type Replay,
} from './idempotency.js';
export {
  elasticsearchRequests,
  isAlreadyApplied,
  type AlreadyApplied,
  type ElasticsearchCallOptions,
  type ElasticsearchRequests,
  type RawRequest,
  type WriteResult,
} from './requests.js';
export {
  bulkWithRetries,
  parseBulkOperations,
  type BulkItemOutcome,
  type BulkItemResult,
  type BulkOptions,
  type BulkResult,
} from './bulk.js';
export {
  BulkItemsRetryableError,
  ClusterRedError,
  ElasticsearchDriverError,
  driverErrorCodes,
  isElasticsearchDriverError,
  type ElasticsearchDriverErrorCode,
} from './errors.js';
export { preferHostname } from './selector.js';
export {
  describeElasticsearchOptions,
  elasticsearchOptionsSchema,
  elasticsearchSecretKeys,
  nodeAddress,
  nodeUrl,
  nodesOf,
  policyOwnedKeys,
  type ElasticsearchDriverOptions,
  type ElasticsearchDriverOptionsInput,
  type ElasticsearchNodeInput,
} from './options.js';
