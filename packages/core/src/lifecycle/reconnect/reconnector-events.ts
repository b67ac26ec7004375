import type { DisconnectEvent, ReconnectEvent, ReconnectFailedEvent, StateChangeEvent } from '../types.js';

/** Payload of `attempt`: one connect attempt starts (for spans: one event per try). */
export interface AttemptStartEvent {
  attempt: number;
  /** True for an on-demand attempt triggered by a waiting operation rather than the backoff timer. */
  onDemand: boolean;
}

/** Events of a `Reconnector`. */
export interface ReconnectorEvents {
  stateChange: StateChangeEvent;
  disconnect: DisconnectEvent;
  reconnect: ReconnectEvent;
  reconnectFailed: ReconnectFailedEvent;
  attempt: AttemptStartEvent;
}
