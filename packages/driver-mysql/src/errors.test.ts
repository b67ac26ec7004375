import { AttemptEndedError } from '@reconnect/core';
import { describe, expect, it } from 'vitest';
import { classifyMySqlError } from './classify.js';
import {
  driverErrorCodes,
  isMySqlDriverError,
  isNotSent,
  markNotSent,
  MySqlDriverError,
  type MySqlDriverErrorCode,
} from './errors.js';

describe("the driver's own errors are built complete", () => {
  const codes = Object.keys(driverErrorCodes) as MySqlDriverErrorCode[];

  it('whether anything was sent is said by the code, at construction: classify and isNotSent agree', () => {
    for (const code of codes) {
      const error = new MySqlDriverError(code, 'x');
      const notSent = (driverErrorCodes[code] as { sent?: false }).sent === false;
      expect(isNotSent(error), code).toBe(notSent);
      expect(classifyMySqlError(error).sent === false, code).toBe(notSent);
    }
    expect(codes.filter((code) => isNotSent(new MySqlDriverError(code, 'x')))).toEqual([
      'ACQUIRE_TIMEOUT',
      'CONNECT_TIMEOUT',
      'CONNECTION_DESTROYED',
      'CLOSED_BY_CLIENT',
      'VALIDATION_FAILED',
      'REPLICA_LAGGING',
    ]);
  });

  it('whether the driver itself caused the failure (local) is said by the code too, and only with not sent', () => {
    for (const code of codes) {
      const rule = driverErrorCodes[code] as { sent?: false; local?: true };
      expect(classifyMySqlError(new MySqlDriverError(code, 'x')).local, code).toBe(rule.local);
      if (rule.local === true) expect(rule.sent, code).toBe(false);
    }
    // A wait in its own queue, a statement queued on a connection it destroyed, one added to a connection it closed.
    // Not a handshake or a validation ping that got no answer: those waited on the server.
    expect(codes.filter((code) => classifyMySqlError(new MySqlDriverError(code, 'x')).local)).toEqual([
      'ACQUIRE_TIMEOUT',
      'CONNECTION_DESTROYED',
      'CLOSED_BY_CLIENT',
    ]);
  });

  it('markNotSent adds nothing to an error that already says it was not sent', () => {
    for (const error of [new MySqlDriverError('ACQUIRE_TIMEOUT', 'x'), new AttemptEndedError()]) {
      const before = Reflect.ownKeys(error);
      expect(markNotSent(error)).toBe(error);
      expect(Reflect.ownKeys(error)).toEqual(before);
      expect(isNotSent(error)).toBe(true);
    }
  });

  it('marks a foreign error (mysql2’s), which only its catcher knows was not sent', () => {
    const lost = Object.assign(new Error('Connection lost'), { code: 'PROTOCOL_CONNECTION_LOST' });
    expect(isNotSent(lost)).toBe(false);
    expect(isNotSent(markNotSent(lost))).toBe(true);
    expect(classifyMySqlError(lost)).toEqual({
      kind: 'connection',
      code: 'PROTOCOL_CONNECTION_LOST',
      sent: false,
    });
  });

  it('isMySqlDriverError by name and code, not by class or message', () => {
    expect(isMySqlDriverError(new MySqlDriverError('QUERY_ABANDONED', 'x'))).toBe(true);
    // Another copy of the package: same name and code, another class.
    const copy = Object.assign(new Error('x'), { name: 'MySqlDriverError', code: 'ACQUIRE_TIMEOUT' });
    expect(isMySqlDriverError(copy)).toBe(true);
    expect(isNotSent(copy)).toBe(true);
    expect(
      isMySqlDriverError(Object.assign(new Error('x'), { name: 'MySqlDriverError', code: 'NOPE' })),
    ).toBe(false);
    expect(isMySqlDriverError(new Error('No pooled connection became free'))).toBe(false);
  });
});
