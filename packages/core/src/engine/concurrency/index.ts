// The concurrency limit of a target: the adaptive limit, the admission queue, and the source that applies them.
export { GradientLimit, type GradientLimitOptions } from './gradient-limit.js';
export { ConcurrencyLimiter, Permit, type Admission, type LimiterCounts } from './concurrency-limiter.js';
export { LimitedSource } from './limited-source.js';
