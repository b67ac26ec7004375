import { describe, expect, it } from 'vitest';
import { isMasterOnly, nodesFromInfo, parsePublishAddress } from './discover.js';

describe('discovery: _nodes/_all/http', () => {
  it('parses both publish_address forms (and IPv6)', () => {
    expect(parsePublishAddress('10.0.0.5:9200')).toEqual({ host: '10.0.0.5', port: 9200 });
    expect(parsePublishAddress('es1.internal/10.0.0.5:9200')).toEqual({ host: 'es1.internal', port: 9200 });
    expect(parsePublishAddress('[::1]:9200')).toEqual({ host: '::1', port: 9200 });
    expect(parsePublishAddress('/10.0.0.5:9200')).toEqual({ host: '10.0.0.5', port: 9200 });
    expect(parsePublishAddress('nonsense')).toBeUndefined();
    expect(parsePublishAddress('h:0')).toBeUndefined();
  });

  it('skips master-only nodes, keeps roles and attributes, uses the seeds’ scheme', () => {
    const body = {
      nodes: {
        a: {
          name: 'n1',
          version: '9.1.2',
          roles: ['master', 'data'],
          attributes: { zone: 'z1' },
          http: { publish_address: 'es1/10.0.0.1:9200' },
        },
        b: { name: 'n2', roles: ['master'], http: { publish_address: '10.0.0.2:9200' } },
        c: { name: 'n3', roles: ['master', 'voting_only'], http: { publish_address: '10.0.0.3:9200' } },
        d: { name: 'n4', roles: [], http: { publish_address: '10.0.0.4:9200' } },
        e: { name: 'n5', roles: ['data'] },
      },
    };
    const found = nodesFromInfo(body, 'https:');
    expect(found.map((n) => n.id)).toEqual(['https://es1:9200', 'https://10.0.0.4:9200']);
    expect(found[0]).toMatchObject({
      roles: ['master', 'data'],
      attributes: { 'es.id': 'a', name: 'n1', version: '9.1.2', zone: 'z1' },
    });
    expect(isMasterOnly(['master'])).toBe(true);
    expect(isMasterOnly(['master', 'ingest'])).toBe(false);
    expect(isMasterOnly([])).toBe(false);
    expect(nodesFromInfo(null, 'http:')).toEqual([]);
  });
});
