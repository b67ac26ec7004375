import { describe, expect, it } from 'vitest';
import { LazySignal } from './lazy-signal.js';

describe('LazySignal: abort listeners without a signal', () => {
  it('calls every listener once, in order, without making the AbortSignal; removed ones are not called', () => {
    const s = new LazySignal();
    const calls: string[] = [];
    const a = () => calls.push('a');
    const b = () => calls.push('b');
    const c = () => calls.push('c');
    s.onAbort(a);
    s.onAbort(b);
    s.onAbort(c);
    s.offAbort(a); // the first one: the next takes its place
    s.offAbort(c);
    expect(s.aborted).toBe(false);
    const reason = new Error('cut');
    s.abort(reason);
    s.abort(new Error('again')); // later aborts do nothing
    expect(calls).toEqual(['b']);
    expect(s.reason).toBe(reason);
    // The signal made after the fact is aborted with the same reason.
    expect(s.signal.aborted).toBe(true);
    expect(s.signal.reason).toBe(reason);
  });

  it('a listener added after the abort is never called (check aborted first)', () => {
    const s = new LazySignal();
    s.abort('x');
    let called = false;
    s.onAbort(() => (called = true));
    expect(called).toBe(false);
    expect(s.aborted).toBe(true);
  });
});
