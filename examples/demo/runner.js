// `npm run demo`: throwaway servers, the demo's policy file, a steady workload through Reconnect and
// through each raw client at its defaults, a scripted fault sequence, a live view, a summary, a report.
/* global setInterval, clearInterval, performance */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createManager, loadConfig } from '@reconnect/core';
import { LiveView, TargetMonitor } from '@reconnect/cli';
import { cleanupAll } from '@reconnect/testkit';
import { codeOf, Lane } from './lane.js';
import {
  brokenPromises,
  faultFigures,
  formatSummary,
  laneFigures,
  RECOVERY_GRACE_MS,
  DEADLINE_SLACK_MS,
} from './summary.js';
import { startTracing, toOtlpJson } from './telemetry.js';
import { progressLine, viewLines } from './view.js';
import { policySummary } from './policy-summary.js';
import { writeReport } from './report.js';
import { redisScenario } from './scenarios/redis.js';
import { mysqlScenario } from './scenarios/mysql.js';
import { elasticsearchScenario } from './scenarios/elasticsearch.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The policy file the demo runs, as an application would keep it. */
export const configFile = path.join(here, '..', 'demo.config.yaml');

/** Every store's scenario, in the order they are shown. */
export const scenarios = { redis: redisScenario, mysql: mysqlScenario, elasticsearch: elasticsearchScenario };

/** A stand-in for a driver that is not installed, so the file's other targets still build; never started. */
const unavailableDriver = (name) => ({
  name,
  system: name,
  options: { safeParse: (v) => ({ success: true, data: v }) },
  connect: () => Promise.reject(new Error(`driver ${name} not available`)),
  probe: () => Promise.resolve(),
  close: () => Promise.resolve(),
  classify: () => ({ kind: 'fatal', sent: false }),
});

/**
 * Runs the demo; resolves to `{ code, summary }`. `short` halves every fault and pause (the gating test);
 * `out` is where the live view and the summary go.
 */
export async function runDemo({
  short = false,
  outDir = path.resolve('demo-report'),
  only,
  out = process.stdout,
  tty,
  readEveryMs = 50,
  writeEveryMs = 100,
} = {}) {
  const wallStart = Date.now();
  const scale = short ? 0.5 : 1;
  const say = (line) => out.write(`${line}\n`);
  const names = only ?? Object.keys(scenarios);
  for (const n of names)
    if (!scenarios[n]) throw new Error(`unknown store "${n}"; stores: ${Object.keys(scenarios).join(', ')}`);
  // Every store of the policy file is listed; one left out by --only says so like a skipped one.
  const tracing = startTracing();
  const stores = Object.keys(scenarios).map((n) => ({
    ...scenarios[n](),
    key: n,
    ...(names.includes(n) ? {} : { skipped: 'not selected (--only)' }),
  }));
  let manager;
  const view = new LiveView(out, { ...(tty === undefined ? {} : { tty }), logEveryMs: 2000 });
  // One clock for everything recorded: ms since the workload started (negative during set-up).
  const t0 = { at: performance.now() + 1e9 };
  const now = () => performance.now() - t0.at;
  const stamp = () => (now() < 0 ? ' setup' : `${(now() / 1000).toFixed(1).padStart(5)} s`);
  const ticker = { id: undefined };
  try {
    // 1. Which stores can run: a store whose driver package cannot be imported is skipped, and says so.
    for (const s of stores.filter((x) => !x.skipped)) {
      try {
        await import(s.driverPackage);
      } catch (error) {
        s.skipped = `driver not available yet (${s.driverPackage}: ${codeOf(error)})`;
      }
    }
    const running = stores.filter((s) => !s.skipped);
    if (running.length === 0) {
      say(`✗ no store can run: ${stores.map((s) => `${s.title} (${s.skipped})`).join('; ')}`);
      return { code: 1, summary: { ok: false, stores: [], skipped: stores.map((s) => s.key) } };
    }
    say(
      `Reconnect live fault demo${short ? ' (short mode)' : ''}: ${running.map((s) => s.title).join(', ')}`,
    );
    for (const s of stores.filter((x) => x.skipped)) say(`! ${s.title}: SKIPPED — ${s.skipped}`);

    // 2. Throwaway servers through the testkit, passed to the policy file as ${…} variables.
    const setupStart = Date.now();
    const envs = await Promise.all(running.map((s) => s.setup()));
    for (const e of envs) Object.assign(process.env, e);
    for (const s of stores.filter((x) => x.skipped)) Object.assign(process.env, s.placeholderEnv ?? {});
    say(
      `servers up in ${Date.now() - setupStart} ms: ${envs.map((e) => Object.values(e).join(' ')).join('  ')}`,
    );

    // 3. The targets, exactly as an application builds them: createManager reads the policy file.
    const drivers = Object.fromEntries(
      stores.filter((s) => s.skipped).map((s) => [s.driverName, unavailableDriver(s.driverName)]),
    );
    manager = await createManager({ config: configFile, drivers });
    // The same file as the manager read it, for the report's account of each target's policy.
    const resolved = await loadConfig({ config: configFile });
    const shownFile = path.relative(process.cwd(), configFile) || configFile;
    say(
      `targets from ${path.relative(process.cwd(), configFile) || configFile} (createManager): ${manager.names().join(', ')}`,
    );
    await Promise.all(
      running.map(async (s) => {
        s.targetObj = manager.target(s.target);
        s.deadlineMs = s.targetObj.policy.retry.deadline;
        s.policy = policySummary(s.targetObj.policy, resolved.targets[s.target], shownFile);
        s.events = [];
        const rec = (kind, extra) => s.events.push({ at: now(), kind, ...extra });
        s.targetObj.on('stateChange', (e) =>
          rec('state', { to: e.to, from: e.from, code: codeOf(e.error ?? '') }),
        );
        s.targetObj.on('nodeDead', (e) => rec('node-dead', { node: e.node.id }));
        s.targetObj.on('nodeResurrected', (e) => rec('node-back', { node: e.node.id }));
        s.targetObj.on('retry', () => rec('retry'));
        s.targetObj.on('giveUp', (e) => rec('give-up', { reason: e.reason }));
        s.targetObj.on('breakerStateChange', (e) => rec('breaker', { to: e.to }));
        s.monitor = new TargetMonitor(s.targetObj, (e) => view.event(`  ${stamp()}  ${e.text}`));
        await s.targetObj.start();
        await s.prepare?.(s.targetObj);
        s.raw = await s.rawClient();
        s.rawShort = s.rawName.replace(/ \(defaults\)$/, '');
      }),
    );

    // 4. The workload and the fault script, on one clock.
    const faults = running.flatMap((s) =>
      s.faults(scale).map((f) => ({ ...f, store: s, atMs: f.at * 1000, forMs: f.for * 1000 })),
    );
    const endAt = Math.max(...faults.map((f) => f.atMs + f.forMs)) + 3000;
    // A timer cannot fire while the event loop is blocked: the deadline check allows the longest stall seen.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    t0.at = performance.now();
    for (const s of running) {
      s.lanes = {
        reconnect: new Lane({ store: s.key, via: 'reconnect', now, run: reconnectOp(s, tracing.tracer) }),
        raw: new Lane({
          store: s.key,
          via: 'raw',
          now,
          run: (kind, id) => (kind === 'read' ? s.read(s.raw) : s.write(s.raw, 'raw', id)),
        }),
      };
      s.lanes.reconnect.start({ readEveryMs, writeEveryMs });
      s.lanes.raw.start({ readEveryMs, writeEveryMs });
      s.states = [{ at: 0, state: s.targetObj.state }];
      s.events = s.events.filter((e) => e.at >= 0);
      s.targetObj.on('stateChange', (e) => s.states.push({ at: now(), state: e.to }));
    }
    const draw = () => {
      const n = now();
      const next = faults.filter((f) => f.atMs > n).sort((a, b) => a.atMs - b.atMs)[0];
      view.update([
        ...viewLines(stores, n),
        progressLine(n, endAt, next && { name: next.name, at: next.atMs }),
      ]);
    };
    ticker.id = setInterval(draw, 250);
    draw();
    const played = faults.map((f) => playFault(f, now, stamp, view));
    await sleep(endAt);
    await Promise.all(played);

    // 5. Stop issuing, let what is in flight settle (bounded), then count on the servers.
    for (const s of running) {
      s.lanes.reconnect.stop();
      s.lanes.raw.stop();
    }
    await Promise.all(
      running.flatMap((s) => [s.lanes.reconnect.drain(s.deadlineMs + 1000), s.lanes.raw.drain(5000)]),
    );
    const endedAt = now();
    loopDelay.disable();
    const stallMs = Math.round(loopDelay.max / 1e6);
    const slackMs = DEADLINE_SLACK_MS + stallMs;
    clearInterval(ticker.id);
    draw();
    view.close();
    for (const s of running) {
      s.serverWrites = {
        reconnect: await s.serverWrites('reconnect'),
        raw: await s.serverWrites('raw'),
      };
      const fs = faults
        .filter((f) => f.store === s)
        .map((f) => ({
          name: f.name,
          short: f.short,
          plannedAt: f.atMs,
          startedAt: f.startedAt,
          healedAt: f.healedAt,
          ...(f.error ? { error: f.error } : {}),
        }));
      s.faultsPlayed = fs;
      s.figures = {
        reconnect: laneFigures(
          s.lanes.reconnect,
          s.serverWrites.reconnect,
          fs,
          endedAt,
          s.deadlineMs,
          slackMs,
        ),
        raw: laneFigures(s.lanes.raw, s.serverWrites.raw, fs, endedAt, undefined, slackMs),
      };
      s.faultFigures = {
        reconnect: fs.map((f) => faultFigures(f, s.lanes.reconnect, s.events)),
        raw: fs.map((f) => faultFigures(f, s.lanes.raw, undefined)),
      };
    }

    // 6. The summary, the promises, the report.
    const summaryStores = stores.map((s) =>
      s.skipped
        ? { store: s.key, title: s.title, target: s.target, skipped: s.skipped }
        : {
            store: s.key,
            title: s.title,
            target: s.target,
            rawName: s.rawName,
            readName: s.readName,
            writeName: s.writeName,
            deadlineMs: s.deadlineMs,
            slackMs,
            faults: s.faultsPlayed,
            figures: s.figures,
            faultFigures: s.faultFigures,
          },
    );
    const broken = summaryStores.filter((s) => !s.skipped).flatMap(brokenPromises);
    const skipped = summaryStores.filter((s) => s.skipped);
    for (const line of formatSummary(summaryStores)) say(line);
    say('');
    const ranNames = summaryStores.filter((s) => !s.skipped).map((s) => s.title);
    const verdict =
      broken.length === 0
        ? `✓ Reconnect kept its promises on ${ranNames.join(', ')}: no duplicated or lost acknowledged write, no idempotent read failed outside a fault window (+${RECOVERY_GRACE_MS / 1000} s), no operation past its deadline (+${slackMs} ms: ${DEADLINE_SLACK_MS} ms timer slack + the longest event-loop stall, ${stallMs} ms)`
        : `✗ Reconnect broke ${broken.length} promise(s):\n${broken.map((b) => `  ✗ ${b}`).join('\n')}`;
    say(verdict);
    if (skipped.length > 0) {
      say(
        `! not shown: ${skipped.map((s) => `${s.title} (${s.skipped})`).join('; ')} — this run covers ${ranNames.length} of ${stores.length} stores`,
      );
    }
    // The in-memory exporter forgets its spans on shutdown: take them first.
    await tracing.flush();
    const spans = [...tracing.exporter.getFinishedSpans()];
    await tracing.shutdown().catch(() => {});
    const summary = {
      ok: broken.length === 0,
      short,
      broken,
      stores: summaryStores,
      skipped: skipped.map((s) => s.store),
      workloadMs: Math.round(endedAt),
      durationMs: Date.now() - wallStart,
      spans: spans.length,
      recoveryGraceMs: RECOVERY_GRACE_MS,
      deadlineSlackMs: slackMs,
      eventLoopStallMs: stallMs,
    };
    await mkdir(outDir, { recursive: true });
    const otlp = toOtlpJson(spans);
    await writeFile(path.join(outDir, 'spans.json'), JSON.stringify(otlp));
    const report = await writeReport(outDir, {
      summary,
      stores: running,
      spans,
      endedAt,
      verdict,
    });
    summary.traces = report.traces;
    summary.durationMs = Date.now() - wallStart;
    await writeFile(path.join(outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    say(
      `report: ${path.join(outDir, 'index.html')}  spans: ${path.join(outDir, 'spans.json')} (${spans.length} spans, OTLP JSON)`,
    );
    return { code: broken.length === 0 ? 0 : 1, summary };
  } finally {
    clearInterval(ticker.id);
    for (const s of stores) s.lanes?.reconnect.stop();
    for (const s of stores) s.lanes?.raw.stop();
    for (const s of stores) s.monitor?.dispose();
    if (manager) await manager.stopAll();
    for (const s of stores) if (s.raw) await s.closeRaw(s.raw).catch(() => {});
    await Promise.all(stores.map((s) => (s.skipped ? undefined : s.teardown().catch(() => {}))));
    await cleanupAll();
    await tracing.shutdown().catch(() => {});
    say(
      `cleaned up: every server stopped and every client closed (${((Date.now() - wallStart) / 1000).toFixed(1)} s in all)`,
    );
  }
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** One operation through the target, inside a demo span so its trace can be found again. */
function reconnectOp(s, tracer) {
  return (kind, id, rec) =>
    tracer.startActiveSpan(
      `demo.${kind}`,
      { attributes: { 'demo.op_id': id, 'demo.store': s.key } },
      async (span) => {
        rec.traceId = span.spanContext().traceId;
        try {
          return kind === 'read'
            ? await s.targetObj.execute((c) => s.read(c), { idempotent: true, name: s.readName })
            : await s.targetObj.execute((c) => s.write(c, 'reconnect', id), { name: s.writeName });
        } catch (error) {
          span.setStatus({ code: 2, message: codeOf(error) });
          span.setAttribute('error.type', codeOf(error));
          throw error;
        } finally {
          span.end();
        }
      },
    );
}

/** Plays one fault on schedule: announces it, starts it, waits, ends it and announces the server's return. */
async function playFault(f, now, stamp, view) {
  await sleep(Math.max(0, f.atMs - now()));
  view.event(`▶ ${stamp()}  FAULT ${f.store.title}: ${f.name}`);
  f.startedAt = now();
  try {
    await f.start();
    await sleep(Math.max(0, f.startedAt + f.forMs - now()));
    await f.end();
    f.healedAt = now();
    view.event(
      `◀ ${stamp()}  ${f.store.title}: ${f.back ?? 'server back'} (${Math.round(f.healedAt - f.startedAt)} ms after the fault)`,
    );
  } catch (error) {
    f.error = `${codeOf(error)}: ${error?.message ?? error}`;
    view.event(`✗ ${stamp()}  ${f.store.title}: fault failed: ${f.error}`);
  }
}
