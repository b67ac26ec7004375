// What one run showed, per store and per client, and whether Reconnect kept its promises. Everything
// here is bookkeeping over the recorded operations, the target's events and the server's own data:
// no figure is estimated.

/** After a server returns, idempotent reads may still fail this long without breaking a promise. */
export const RECOVERY_GRACE_MS = 2000;
/** Timer slack allowed over an operation's deadline (one shared event loop, two shared cores). */
export const DEADLINE_SLACK_MS = 250;

const ms = (v) => (v === undefined ? undefined : Math.round(v));

/** Ids held more than once: the extra copies, summed. */
function duplicates(ids) {
  const counts = new Map();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  let extra = 0;
  const which = [];
  for (const [id, n] of counts) {
    if (n > 1) {
      extra += n - 1;
      which.push(id);
    }
  }
  return { extra, which, counts };
}

/**
 * Figures of one lane (one client against one store).
 * @param {import('./lane.js').Lane} lane
 * @param {string[]} serverIds
 * @param {{ startedAt: number, healedAt: number, name: string }[]} faults
 * @param {number} endedAt
 */
export function laneFigures(lane, serverIds, faults, endedAt, deadlineMs, slackMs = DEADLINE_SLACK_MS) {
  const recs = lane.records;
  const reads = recs.filter((r) => r.kind === 'read');
  const writes = recs.filter((r) => r.kind === 'write');
  const settled = (r) => r.t1 !== undefined;
  const dup = duplicates(serverIds);
  const onServer = dup.counts;
  const lost = [...lane.acked].filter((id) => !onServer.has(id));
  const unknown = writes.filter((w) => w.ok === false && w.outcome === 'unknown');
  const windows = faults.map((f) => [f.startedAt, (f.healedAt ?? endedAt) + RECOVERY_GRACE_MS]);
  const inWindow = (r) => windows.some(([a, b]) => r.t0 <= b && (r.t1 ?? endedAt) >= a);
  const failedOutside = reads.filter((r) => r.ok === false && !inWindow(r));
  let longest = 0;
  let longestStillWaiting = false;
  for (const r of recs) {
    const d = (r.t1 ?? endedAt) - r.t0;
    if (d > longest) {
      longest = d;
      longestStillWaiting = !settled(r);
    }
  }
  const pastDeadline =
    deadlineMs === undefined ? [] : recs.filter((r) => (r.t1 ?? endedAt) - r.t0 > deadlineMs + slackMs);
  return {
    lane: lane.name,
    via: lane.via,
    reads: { ok: reads.filter((r) => r.ok).length, failed: reads.filter((r) => r.ok === false).length },
    writes: {
      ok: writes.filter((r) => r.ok).length,
      failed: writes.filter((r) => r.ok === false).length,
      unknown: unknown.length,
      unknownLanded: unknown.filter((w) => onServer.has(w.id)).length,
      failedLanded: writes.filter((w) => w.ok === false && onServer.has(w.id)).length,
    },
    stillWaiting: recs.filter((r) => !settled(r)).length,
    skipped: lane.skipped,
    serverWrites: serverIds.length,
    duplicated: dup.extra,
    duplicatedIds: dup.which.slice(0, 20),
    lostAcknowledged: lost.length,
    lostIds: lost.slice(0, 20),
    failedReadsOutsideFaults: failedOutside.length,
    longestMs: ms(longest),
    longestStillWaiting,
    pastDeadline: pastDeadline.length,
    errors: countBy(recs.filter((r) => r.ok === false).map((r) => r.code ?? 'Error')),
  };
}

function countBy(list) {
  const out = {};
  for (const k of list) out[k] = (out[k] ?? 0) + 1;
  return out;
}

/**
 * Per fault: how long until it was noticed, and from the server's return to the first success.
 * Reconnect notices through its target's events (state left `connected`, a node declared dead, a
 * retry or a give-up); a raw client's first sign is its first failed operation.
 */
export function faultFigures(fault, lane, targetEvents) {
  const until = (fault.healedAt ?? Infinity) + RECOVERY_GRACE_MS;
  let detectedAt;
  if (targetEvents !== undefined) {
    const e = targetEvents.find(
      (ev) =>
        ev.at >= fault.startedAt &&
        ev.at <= until &&
        (ev.kind === 'node-dead' ||
          ev.kind === 'retry' ||
          ev.kind === 'give-up' ||
          (ev.kind === 'state' && ev.to !== 'connected')),
    );
    detectedAt = e?.at;
  } else {
    const failed = lane.records
      .filter((r) => r.ok === false && r.t1 >= fault.startedAt && r.t1 <= until)
      .sort((a, b) => a.t1 - b.t1)[0];
    detectedAt = failed?.t1;
  }
  const firstOk =
    fault.healedAt === undefined
      ? undefined
      : lane.records.filter((r) => r.ok && r.t1 >= fault.healedAt).sort((a, b) => a.t1 - b.t1)[0];
  return {
    fault: fault.name,
    detectedMs: detectedAt === undefined ? null : ms(detectedAt - fault.startedAt),
    recoveredMs: firstOk === undefined ? null : ms(firstOk.t1 - fault.healedAt),
  };
}

/** Whether Reconnect kept its promises on one store; each broken one is a sentence. */
export function brokenPromises(store) {
  const r = store.figures.reconnect;
  const out = [];
  const t = store.title;
  if (r.duplicated > 0) out.push(`${t}: ${r.duplicated} write(s) ran twice on the server through Reconnect`);
  if (r.lostAcknowledged > 0)
    out.push(`${t}: ${r.lostAcknowledged} acknowledged write(s) are missing on the server`);
  if (r.failedReadsOutsideFaults > 0)
    out.push(`${t}: ${r.failedReadsOutsideFaults} idempotent read(s) failed outside the fault windows`);
  if (r.pastDeadline > 0)
    out.push(
      `${t}: ${r.pastDeadline} operation(s) took longer than the ${store.deadlineMs} ms deadline (+${DEADLINE_SLACK_MS} ms)`,
    );
  if (r.stillWaiting > 0) out.push(`${t}: ${r.stillWaiting} operation(s) through Reconnect never settled`);
  if (r.reads.ok === 0 || r.writes.ok === 0) out.push(`${t}: the workload through Reconnect did not run`);
  for (const f of store.faults) {
    if (f.error) out.push(`${t}: the fault "${f.name}" could not be played: ${f.error}`);
  }
  return out;
}

const pad = (s, n) => String(s).padEnd(n);
const dur = (v, waiting) =>
  v === null || v === undefined
    ? 'never'
    : `${v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v} ms`}${waiting ? ' (still waiting)' : ''}`;

/**
 * The summary rows of one store, Reconnect beside the raw client: what the text summary prints and the report's
 * table shows.
 * @returns {{ label: string, reconnect: string, raw: string }[]}
 */
export function summaryRows(s) {
  const r = s.figures.reconnect;
  const raw = s.figures.raw;
  const rows = [];
  const row = (label, a, b) => rows.push({ label, reconnect: String(a), raw: String(b) });
  row(
    `reads ${s.readName}: ok / failed`,
    `${r.reads.ok} / ${r.reads.failed}`,
    `${raw.reads.ok} / ${raw.reads.failed}`,
  );
  row(
    `writes ${s.writeName}: ok / failed (unknown)`,
    `${r.writes.ok} / ${r.writes.failed} (${r.writes.unknown})`,
    `${raw.writes.ok} / ${raw.writes.failed} (${raw.writes.unknown})`,
  );
  row('duplicated writes (on the server)', r.duplicated, raw.duplicated);
  row('lost acknowledged writes', r.lostAcknowledged, raw.lostAcknowledged);
  row(
    'longest operation',
    dur(r.longestMs, r.longestStillWaiting),
    dur(raw.longestMs, raw.longestStillWaiting),
  );
  s.faults.forEach((f, i) => {
    const a = s.faultFigures.reconnect[i];
    const b = s.faultFigures.raw[i];
    const label = s.faults.length > 1 ? ` (${f.short ?? i + 1})` : '';
    row(
      `detected after${label}`,
      dur(a.detectedMs),
      b.detectedMs === null ? 'never (no error)' : `${dur(b.detectedMs)} (1st error)`,
    );
    row(`server back → first success${label}`, dur(a.recoveredMs), dur(b.recoveredMs));
  });
  return rows;
}

const failures = (f) => f.reads.failed + f.writes.failed;
const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * One sentence on why the two columns of a store differ, from its figures alone (every number in it is one of the
 * table's): more failures through Reconnect are operations that reached their deadline while the fault held the
 * server (by design: a caller gets an answer within the deadline), more through the raw client are what Reconnect
 * retried; duplicates are writes the raw client resent; with neither, the difference is how fast each noticed and
 * recovered.
 */
export function whyTheyDiffer(s) {
  const r = s.figures.reconnect;
  const raw = s.figures.raw;
  const rawName = s.rawName.replace(/ \(defaults\)$/, '');
  const deadline = `${s.deadlineMs / 1000} s`;
  const rf = failures(r);
  const wf = failures(raw);
  const clauses = [];
  if (rf > wf) {
    const byDeadline = r.errors?.ERR_DEADLINE_EXCEEDED ?? 0;
    const held =
      raw.longestMs > s.deadlineMs
        ? `, while ${rawName} kept its callers waiting up to ${dur(raw.longestMs)}`
        : '';
    const why =
      byDeadline === rf
        ? `each gave up at its ${deadline} deadline while the fault held the server — by design, so a caller has an answer within ${deadline}${held}`
        : byDeadline > 0
          ? `${byDeadline} of them gave up at the ${deadline} deadline while the fault held the server — by design${held}`
          : `they ended with ${Object.entries(r.errors ?? {})
              .map(([code, n]) => `${code} (${n})`)
              .join(', ')}`;
    clauses.push(`Reconnect failed ${plural(rf, 'operation')} where ${rawName} failed ${wf}: ${why}`);
  } else if (wf > rf) {
    clauses.push(
      `${rawName} failed ${plural(wf, 'operation')} where Reconnect failed ${rf}: Reconnect retried, within its ${deadline} deadline, what was safe to retry`,
    );
  }
  if (raw.duplicated > r.duplicated) {
    const instead =
      r.writes.unknown > 0 ? `; ${plural(r.writes.unknown, 'write')} ended outcome: unknown instead` : '';
    clauses.push(
      `${rawName} applied ${plural(raw.duplicated, 'write')} twice (it resent writes whose answers were lost), where Reconnect never resends a write that may have run${instead}`,
    );
  }
  if (clauses.length === 0) {
    const i = s.faults.length - 1;
    const a = s.faultFigures.reconnect[i];
    const b = s.faultFigures.raw[i];
    const noticed = a.detectedMs === null ? 'did not notice it' : `noticed it after ${dur(a.detectedMs)}`;
    const rawNoticed =
      b.detectedMs === null ? 'reported no error' : `saw its first error after ${dur(b.detectedMs)}`;
    clauses.push(
      `${rf === 0 ? 'Neither failed an operation' : `Both failed ${rf}`}; they differ in speed: through the ${s.faults[i]?.short ?? 'fault'} Reconnect ${noticed} and succeeded again ${dur(a.recoveredMs)} after the server was back, ${rawName} ${rawNoticed} and needed ${dur(b.recoveredMs)}`,
    );
  }
  return `${clauses.join('; ')}.`;
}

/** The summary as text: one block per store, Reconnect beside the raw client, and why the columns differ. */
export function formatSummary(stores) {
  const lines = [];
  for (const s of stores) {
    lines.push('');
    if (s.skipped) {
      lines.push(`${s.title}: SKIPPED — ${s.skipped}`);
      continue;
    }
    const r = s.figures.reconnect;
    const left = 48;
    const col = 28;
    lines.push(`${s.title}  (${s.faults.map((f) => f.name).join('; ')})`);
    lines.push(`  ${pad('', left)}${pad(`Reconnect (${s.target})`, col)}${s.rawName}`);
    for (const row of summaryRows(s))
      lines.push(`  ${pad(row.label, left)}${pad(row.reconnect, col)}${row.raw}`);
    if (r.writes.unknown > 0) {
      const ran = r.writes.unknownLanded;
      lines.push(
        `  (through Reconnect ${r.writes.unknown} write(s) ended with outcome: unknown, never replayed: ${ran} had run on the server, once each; ${r.writes.unknown - ran} had not)`,
      );
    }
    lines.push(`  why: ${whyTheyDiffer(s)}`);
  }
  return lines;
}
