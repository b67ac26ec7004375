import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  isTestkitError,
  MissingBinaryError,
  startMariaDB,
  startPostgres,
  startRedis,
  startRedisSentinel,
  trackedResources,
  useServer,
} from '../src/index.js';
import { familyMembers, isAlive } from '../src/cleanup/process-group.js';
import { mariadb, psql, track } from './helpers/cli.js';
import { connectOutcome, rawConnect, rawPg, record } from './helpers/raw.js';

const started: { dir: string; pid: number | undefined }[] = [];
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('startRedis', () => {
  const redis = useServer(async () => {
    const s = await startRedis();
    started.push({ dir: s.dir, pid: s.pid });
    return s;
  });

  it('listens on a free loopback port and answers PING', async () => {
    const s = redis();
    expect(s.host).toBe('127.0.0.1');
    expect(s.port).toBeGreaterThan(0);
    expect(s.port).not.toBe(6379);
    expect(s.url).toBe(`redis://127.0.0.1:${s.port}`);
    expect(s.options).toEqual({ host: '127.0.0.1', port: s.port });
    const client = new Redis({ ...s.options, lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await client.connect();
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });

  it('kill() is a crash: a raw client sees ECONNREFUSED; restart() serves on the same port', async () => {
    const s = redis();
    const pid = s.pid!;
    expect(await connectOutcome(s.port)).toBe('connected');
    await s.kill();
    expect(s.status).toBe('killed');
    expect(s.pid).toBeUndefined();
    expect(familyMembers(pid)).toEqual([]);
    expect(await connectOutcome(s.port)).toBe('ECONNREFUSED');
    await s.restart();
    expect(s.status).toBe('running');
    expect(s.pid).not.toBe(pid);
    expect(await connectOutcome(s.port)).toBe('connected');
  });

  it('hang() keeps the socket open but answers nothing until resume()', async () => {
    const s = redis();
    const socket = await rawConnect(s.port);
    const seen = record(socket);
    try {
      await s.hang();
      expect(s.status).toBe('hung');
      socket.write('PING\r\n');
      await delay(400);
      expect(seen.data().toString()).toBe('');
      expect(seen.ended()).toBeUndefined();
      // A new connection is still accepted by the kernel: a hang is not a refusal.
      expect(await connectOutcome(s.port)).toBe('connected');
      await s.resume();
      const start = performance.now();
      while (seen.data().toString() !== '+PONG\r\n' && performance.now() - start < 2000) await delay(10);
      expect(seen.data().toString()).toBe('+PONG\r\n');
    } finally {
      socket.destroy();
    }
  });

  // Each heal test checks its own outcome once useServer's afterEach has run (onTestFinished runs after the
  // afterEach hooks), so none depends on another test running before or after it.
  it('useServer heal: a test that ends with the server killed leaves it running again on the same port', async () => {
    const port = redis().port;
    await redis().kill();
    expect(redis().status).toBe('killed');
    expect(await connectOutcome(port)).toBe('ECONNREFUSED');
    onTestFinished(async () => {
      expect(redis().status).toBe('running');
      expect(redis().port).toBe(port);
      expect(await connectOutcome(port)).toBe('connected');
    });
  });

  it('useServer heal: a test that ends with the server hung leaves it answering', async () => {
    await redis().hang();
    expect(redis().status).toBe('hung');
    onTestFinished(async () => {
      expect(redis().status).toBe('running');
      const socket = await rawConnect(redis().port);
      const seen = record(socket);
      socket.write('PING\r\n');
      const start = performance.now();
      while (seen.data().toString() !== '+PONG\r\n' && performance.now() - start < 2000) await delay(10);
      socket.destroy();
      expect(seen.data().toString()).toBe('+PONG\r\n');
    });
  });

  it('applies config directives and extra args', async () => {
    const s = await startRedis({ config: { maxmemory: '10mb' }, args: ['--databases', '4'] });
    const client = new Redis({ ...s.options, lazyConnect: true });
    try {
      await client.connect();
      expect(await client.config('GET', 'maxmemory')).toEqual(['maxmemory', String(10 * 1024 * 1024)]);
      expect(await client.config('GET', 'databases')).toEqual(['databases', '4']);
      expect(await client.config('GET', 'save')).toEqual(['save', '']);
    } finally {
      client.disconnect();
      await s.stop();
    }
  });

  it('restart() after kill() keeps data with persistence: aof', async () => {
    const s = await startRedis({ persistence: 'aof' });
    try {
      const client = new Redis({ ...s.options, lazyConnect: true });
      await client.connect();
      await client.set('k', 'survives');
      client.disconnect();
      await s.kill();
      await s.restart();
      const again = new Redis({ ...s.options, lazyConnect: true });
      await again.connect();
      expect(await again.get('k')).toBe('survives');
      again.disconnect();
    } finally {
      await s.stop();
    }
  });

  it('stop() removes the process group and the temporary directory', async () => {
    const s = await startRedis();
    const pid = s.pid!;
    expect(existsSync(s.dir)).toBe(true);
    expect(trackedResources().some((r) => r.description.includes(s.dir))).toBe(true);
    await s.stop();
    await s.stop(); // idempotent
    expect(s.status).toBe('stopped');
    expect(existsSync(s.dir)).toBe(false);
    expect(familyMembers(pid)).toEqual([]);
    expect(trackedResources().some((r) => r.description.includes(s.dir))).toBe(false);
    await expect(s.restart()).rejects.toThrow(/stopped/);
  });

  it('startRedisSentinel() monitors a master', async () => {
    const sentinel = await startRedisSentinel({ masterPort: redis().port, masterName: 'main' });
    const client = new Redis({ ...sentinel.options, lazyConnect: true });
    try {
      await client.connect();
      expect(await client.call('SENTINEL', 'get-master-addr-by-name', 'main')).toEqual([
        '127.0.0.1',
        String(redis().port),
      ]);
    } finally {
      client.disconnect();
      await sentinel.stop();
    }
  });
});

describe('startMariaDB', () => {
  let startupMs = 0;
  const db = useServer(async () => {
    const t0 = performance.now();
    const s = await startMariaDB();
    startupMs = performance.now() - t0;
    started.push({ dir: s.dir, pid: s.pid });
    return s;
  });

  it('starts fast, as root with an empty password, with a `test` database', async () => {
    const s = db();
    console.log(`MariaDB install + start: ${Math.round(startupMs)} ms`);
    expect(startupMs).toBeLessThan(10_000);
    expect(s.options).toEqual({
      host: '127.0.0.1',
      port: s.port,
      user: 'root',
      password: '',
      database: 'test',
    });
    expect(await mariadb(s.port, 'SELECT DATABASE(), @@log_bin, @@skip_name_resolve')).toBe('test\t0\t1');
  });

  it('kill() → ECONNREFUSED; restart() keeps the data', async () => {
    const s = db();
    await mariadb(s.port, 'CREATE TABLE t (id INT PRIMARY KEY) ENGINE=InnoDB; INSERT INTO t VALUES (1), (2)');
    await s.kill();
    expect(await connectOutcome(s.port)).toBe('ECONNREFUSED');
    await s.restart();
    expect(await mariadb(s.port, 'SELECT COUNT(*) FROM t')).toBe('2');
  });

  it('hang(): a query waits until resume(), then completes', async () => {
    const s = db();
    await s.hang();
    const query = track(mariadb(s.port, 'SELECT 42', 10_000));
    await delay(500);
    expect(query.settled).toBe(false);
    await s.resume();
    expect(await query.promise).toBe('42');
  });
});

describe('startPostgres', () => {
  let startupMs = 0;
  const pg = useServer(async () => {
    const t0 = performance.now();
    const s = await startPostgres();
    startupMs = performance.now() - t0;
    started.push({ dir: s.dir, pid: s.pid });
    return s;
  });

  it('starts with trust auth for user postgres', async () => {
    const s = pg();
    console.log(`PostgreSQL initdb + start: ${Math.round(startupMs)} ms`);
    expect(s.options).toEqual({ host: '127.0.0.1', port: s.port, user: 'postgres', database: 'postgres' });
    expect(await psql(s.port, 'SELECT current_user')).toBe('postgres');
  });

  it('kill() → ECONNREFUSED (every backend dies too); restart() keeps the data', async () => {
    const s = pg();
    await psql(s.port, 'CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2), (3)');
    const pid = s.pid!;
    const open = await rawPg(s.port);
    // Backends call setsid(): they are in the family as descendants, not as group members.
    const family = familyMembers(pid);
    expect(family.length).toBeGreaterThan(3);
    await s.kill();
    open.close();
    expect(familyMembers(pid)).toEqual([]);
    for (const member of family) expect(isAlive(member)).toBe(false);
    expect(await connectOutcome(s.port)).toBe('ECONNREFUSED');
    await s.restart();
    expect(await psql(s.port, 'SELECT count(*) FROM t')).toBe('3');
  });

  it('hang() stops every backend: a query on an open connection waits until resume()', async () => {
    const s = pg();
    const open = await rawPg(s.port);
    try {
      expect(await open.query('SELECT 1')).toBe('1');
      await s.hang();
      const query = track(open.query('SELECT 2'));
      await delay(500);
      expect(query.settled).toBe(false);
      await s.resume();
      expect(await query.promise).toBe('2');
    } finally {
      open.close();
    }
  });

  it('hang(): a new connection waits until resume()', async () => {
    const s = pg();
    await s.hang();
    const query = track(psql(s.port, 'SELECT 7', 10_000));
    await delay(500);
    expect(query.settled).toBe(false);
    await s.resume();
    expect(await query.promise).toBe('7');
  });
});

describe('missing binaries', () => {
  it('name the Debian package to install', async () => {
    const redis = await startRedis({ binary: '/nonexistent/redis-server' }).catch((e: unknown) => e);
    expect(redis).toBeInstanceOf(MissingBinaryError);
    expect(isTestkitError(redis)).toBe(true);
    expect((redis as Error).message).toContain('apt-get install redis-server');
    await expect(startMariaDB({ binary: '/nonexistent/mariadbd' })).rejects.toThrow(
      'apt-get install mariadb-server',
    );
    await expect(startPostgres({ binDir: '/nonexistent' })).rejects.toThrow('apt-get install postgresql');
  });
});

afterAll(() => {
  // Runs after every describe's useServer teardown: nothing this file started may survive.
  expect(trackedResources()).toEqual([]);
  for (const s of started) {
    expect(existsSync(s.dir)).toBe(false);
    if (s.pid !== undefined) expect(familyMembers(s.pid)).toEqual([]);
  }
});
