import { describe, expect, it } from 'vitest';
import { DbTarget } from './db-target.js';
import { dbSpanName, sanitizeQueryText } from './semconv.js';

describe('DbTarget', () => {
  it('makes one metric attribute object per operation name and collection, anew when the facts change', () => {
    const db = new DbTarget('db', { system: 'mysql', namespace: 'shop' }, false);
    const first = db.operationAttributes('SELECT', 'orders');
    expect(first).toEqual({
      'reconnect.target': 'db',
      'db.system.name': 'mysql',
      'db.namespace': 'shop',
      'db.operation.name': 'SELECT',
      'db.collection.name': 'orders',
    });
    expect(db.operationAttributes('SELECT', 'orders')).toBe(first);
    expect(db.operationAttributes(undefined, undefined)).toBe(db.metricAttributes);
    db.update({ system: 'mysql', namespace: 'shop' });
    expect(db.operationAttributes('SELECT', 'orders')).toBe(first); // unchanged facts keep the objects
    db.update({ system: 'mariadb', namespace: 'shop' });
    expect(db.operationAttributes('SELECT', 'orders')).toMatchObject({ 'db.system.name': 'mariadb' });
  });

  it('adds the experimental names under database/dup', () => {
    const db = new DbTarget(
      'db',
      { system: 'mysql', namespace: 'shop', serverAddress: 'h', serverPort: 1 },
      true,
    );
    expect(db.operationAttributes('SELECT', undefined)).toMatchObject({
      'db.system': 'mysql',
      'db.name': 'shop',
      'db.operation': 'SELECT',
    });
    expect(db.spanAttributes).toMatchObject({
      'db.system': 'mysql',
      'server.address': 'h',
      'server.port': 1,
    });
  });
});

describe('the conventions as applied', () => {
  it('names a span {db.operation.name} {target}: collection, else namespace (not Redis’s), else server', () => {
    expect(dbSpanName({ system: 'mysql', namespace: 'shop' }, 'SELECT', 'orders')).toBe('SELECT orders');
    expect(dbSpanName({ system: 'mysql', namespace: 'shop' }, 'SELECT', undefined)).toBe('SELECT shop');
    expect(
      dbSpanName({ system: 'redis', namespace: '0', serverAddress: 'h', serverPort: 6379 }, 'GET', undefined),
    ).toBe('GET h:6379');
    expect(dbSpanName({ system: 'redis', namespace: '0' }, undefined, undefined)).toBe('redis');
    expect(dbSpanName({ system: 'elasticsearch' }, undefined, 'products')).toBe('products');
  });

  it('sanitises query text: every literal becomes ?, IN lists collapse, placeholders stay', () => {
    expect(
      sanitizeQueryText("SELECT * FROM t WHERE a = 'x''y' AND b = 42 AND c IN (1, 2.5, -3) AND d = ?"),
    ).toBe('SELECT * FROM t WHERE a = ? AND b = ? AND c IN (?) AND d = ?');
    expect(sanitizeQueryText('UPDATE t2 SET flag = TRUE, h = 0xFF, s = "q" WHERE id3 = 7')).toBe(
      'UPDATE t2 SET flag = ?, h = ?, s = ? WHERE id3 = ?',
    );
    expect(sanitizeQueryText('x'.repeat(5000))).toHaveLength(2048);
  });
});
