import { MetricReader } from '@opentelemetry/sdk-metrics';

/** A metric reader a test collects from on demand (`reader.collect()`): no export, no timer. */
export class TestReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}
