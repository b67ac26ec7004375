/* global setInterval, clearInterval */
// The MariaDB fleet benchmark's view of the server (fleet-mysql.js): its own counters, sampled every 100 ms over one
// root connection, and what they say after a restart.
import mysql from 'mysql2/promise';

/** Samples the server's connection counters every `everyMs` over one root connection, reconnecting while it is down. */
export function statusSampler(port, everyMs = 100) {
  const samples = [];
  let conn;
  let busy = false;
  let stopped = false;
  const timer = setInterval(async () => {
    if (busy || stopped) return;
    busy = true;
    try {
      if (conn === undefined) {
        conn = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 500 });
        conn.on('error', () => {});
      }
      const [rows] = await conn.query(
        "SHOW GLOBAL STATUS WHERE Variable_name IN ('Connections', 'Connection_errors_max_connections', 'Threads_connected')",
      );
      const v = Object.fromEntries(rows.map((r) => [r.Variable_name, Number(r.Value)]));
      samples.push({
        at: Date.now(),
        attempts: v.Connections,
        refused: v.Connection_errors_max_connections,
        connected: v.Threads_connected,
      });
    } catch {
      conn?.destroy();
      conn = undefined;
    } finally {
      busy = false;
    }
  }, everyMs);
  return {
    samples,
    stop() {
      stopped = true;
      clearInterval(timer);
      conn?.destroy();
    },
  };
}

/**
 * Peaks per 100 ms among samples after `fromAt` (a fresh server process's counters): connections accepted
 * (`Connections`) and connections arriving (accepted + refused with 1040, which `Connections` does not count: each
 * is a TCP connection the server took and answered); `rates`: both per sample, in ms after `fromAt`.
 */
export function peakAttemptsPer100ms(samples, fromAt) {
  const after = samples.filter((s) => s.at >= fromAt);
  let peak = 0;
  let peakArrivals = 0;
  const rates = [];
  for (let i = 1; i < after.length; i++) {
    const dt = Math.max(100, after[i].at - after[i - 1].at);
    const accepted = after[i].attempts - after[i - 1].attempts;
    const arrived = accepted + after[i].refused - after[i - 1].refused;
    peak = Math.max(peak, (accepted * 100) / dt);
    peakArrivals = Math.max(peakArrivals, (arrived * 100) / dt);
    rates.push([after[i].at - fromAt, accepted, arrived]);
  }
  const last = after.at(-1);
  return {
    peak: Math.round(peak),
    peakArrivals: Math.round(peakArrivals),
    attempts: last?.attempts ?? 0,
    refused: last?.refused ?? 0,
    maxConnected: Math.max(0, ...after.map((s) => s.connected)),
    rates,
  };
}

/** The p-th percentile of `xs`, where `null` (never) sorts last: `null` when more than (100 − p) % never came. */
export const percentile = (xs, p) => {
  const s = xs.map((x) => x ?? Number.POSITIVE_INFINITY).sort((a, b) => a - b);
  const v = s.length === 0 ? undefined : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
  return v === undefined || v === Number.POSITIVE_INFINITY ? null : v;
};
