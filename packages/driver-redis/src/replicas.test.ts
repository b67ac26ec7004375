import { describe, expect, it } from 'vitest';
import { isWriteCommand } from './replicas.js';

describe('isWriteCommand (which commands waitForReplicas sends WAIT after)', () => {
  it("follows ioredis's command table: writes and scripts yes, reads, read-only scripts and control commands no", () => {
    for (const name of [
      'set',
      'SET',
      'incr',
      'rpush',
      'del',
      'hset',
      'xadd',
      'flushall',
      'eval',
      'evalsha',
      'fcall',
    ])
      expect(isWriteCommand(name), name).toBe(true);
    for (const name of [
      'get',
      'GET',
      'mget',
      'exists',
      'eval_ro',
      'evalsha_ro',
      'fcall_ro',
      'ping',
      'wait',
      'multi',
      'exec',
      'select',
      'publish',
    ])
      expect(isWriteCommand(name), name).toBe(false);
  });

  it('counts a command the table does not know (a module) as a write: an unconfirmed write would be the worse mistake', () => {
    expect(isWriteCommand('json.set')).toBe(true);
  });
});
