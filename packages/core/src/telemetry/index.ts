// Telemetry names and OpenTelemetry accessors (through @opentelemetry/api only).
export * from './names.js';
export { errorType, getMeter, getTracer } from './otel.js';
export {
  createEngineInstruments,
  createLifecycleInstruments,
  type EngineInstruments,
  type LifecycleInstruments,
} from './instruments.js';
