// What the tests of this package reach beyond the public surface: the client's private state.
export { elasticsearchDriver } from './driver.js';
export { lastClusterHealth, stateOf } from './client.js';
