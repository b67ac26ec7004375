// The driver kit: what every driver needs and no driver should write again. Exported from @reconnect/core.
export { closeWithin, settledWithin } from './close-within.js';
export { policyOwnedOptions } from './policy-owned.js';
export { reconnectDelays } from './reconnect-delays.js';
export {
  classifySocketError,
  isAbortError,
  lostInFlightCodes,
  refusedBeforeSendCodes,
} from './socket-errors.js';
// One timer for many time limits, ordered by expiry (the executor's; the MySQL driver's queued calls).
export { TimeoutList, type Timed } from '../engine/timeout-list.js';
