import { resolvePolicy, type Target } from '@reconnect/core';
import { startRedis, useServer } from '@reconnect/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import type { RedisClient } from '../src/index.js';
import { until } from './helpers.js';
import { opStream, preset, startTarget } from './target-helpers.js';

// The promise measure.test.ts prints figures for (opt-in, RECONNECT_MEASURE=1), asserted in the normal suite in a
// short form: under a real hang (SIGSTOP) no operation waits past its deadline, with each preset as shipped. The
// hang outlasts the deadline, so the bound is tested, not waited out: the 5 s hang of the measurement is shorter
// than preset:redis's 10 s deadline, so here its operations carry a 1.5 s deadline of their own (shorter than the
// preset's 2 s attempt timeout: the deadline has to cut the attempt).
const slackMs = 150;

describe('under a real hang, no operation waits past its deadline', () => {
  const server = useServer(() => startRedis());
  let target: Target<RedisClient> | undefined;
  afterEach(async () => {
    await target?.stop();
    target = undefined;
  });

  for (const [name, callDeadline] of [
    ['fast-failover', undefined],
    ['redis', 1500],
  ] as const) {
    it(`preset ${name}${callDeadline === undefined ? '' : `, per-call deadline ${callDeadline} ms`}`, async () => {
      const deadline = callDeadline ?? resolvePolicy(preset(name)).retry.deadline;
      const t = await startTarget(server().port, preset(name));
      target = t;
      const options =
        callDeadline === undefined ? { idempotent: true } : { idempotent: true, deadline: callDeadline };
      const ops = opStream(20, () => t.execute((c) => c.get('k'), options));
      await new Promise((r) => setTimeout(r, 200));
      const hungAt = Date.now();
      await server().hang();
      await new Promise((r) => setTimeout(r, deadline + 1000));
      const resumedAt = Date.now();
      await server().resume();
      await until(() => ops.firstSuccessStartedAfter(resumedAt) !== undefined, 15_000);
      await ops.stop();
      // Every operation that started while the server was hung, however it ended.
      const during = ops.results.filter((r) => r.startedAt >= hungAt && r.startedAt < resumedAt);
      const longest = Math.max(...during.map((r) => r.settledAt - r.startedAt));
      console.log(
        `hang ${resumedAt - hungAt} ms, preset ${name}: ${during.length} operations, longest ${longest} ms (deadline ${deadline})`,
      );
      // The hang bit: operations failed instead of being answered.
      expect(during.filter((r) => !r.ok).length).toBeGreaterThan(0);
      expect(longest).toBeLessThanOrEqual(deadline + slackMs);
    });
  }
});
