import { describe, expect, it } from 'vitest';
import { faultCatalogue } from '../faults/catalogue.js';
import { proxyFault } from './fault-scenario.js';

describe('conformance faults', () => {
  it('take the catalogue’s network faults played on the proxy, and refuse the others saying why', () => {
    expect(proxyFault('reset-mid-reply').name).toBe('reset-mid-reply');
    const usable = faultCatalogue.filter((f) => f.group === 'network' && f.viaProxy).map((f) => f.name);
    expect(usable).toEqual(
      expect.arrayContaining(['reset-mid-reply', 'flapping', 'latency-spike', 'fragments']),
    );
    expect(() => proxyFault('crash')).toThrow(/"crash" is not a network fault played on the fault proxy/);
    expect(() => proxyFault('table-locked')).toThrow(/group store/);
    expect(() => proxyFault('no-such-fault')).toThrow(/no fault "no-such-fault" in the catalogue/);
  });
});
