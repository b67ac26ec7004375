// Telemetry names, the database conventions as applied, and OpenTelemetry accessors (through @opentelemetry/api only).
export * from './names.js';
export { errorType, getMeter, getTracer } from './otel.js';
export { sanitizeQueryText } from './semconv.js';
export {
  createEngineInstruments,
  createLifecycleInstruments,
  type EngineInstruments,
  type LifecycleInstruments,
} from './instruments.js';
