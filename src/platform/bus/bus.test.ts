/**
 * One contract suite, run against the in-process bus and against RabbitMQ (in a vhost of
 * its own), plus RabbitMQ resilience: a connection cut while casting loses no confirmed cast.
 * Without RabbitMQ the AMQP part fails, unless NEPHOS_TEST_NO_RABBITMQ=1.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import {
  AmqpBus,
  BusClosedError,
  BusRemoteError,
  BusTimeoutError,
  BusUnavailableError,
  createBus,
  InProcessBroker,
  InProcessBus,
} from './index.js';
import type { Bus, BusContext, BusLogger, Notification } from './index.js';

const run = promisify(execFile);
const RABBIT_BASE = process.env.NEPHOS_TEST_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const NO_RABBIT = process.env.NEPHOS_TEST_NO_RABBITMQ === '1';

type BusFactory = () => Promise<Bus>;

const uniqueTopic = (name: string): string => `${name}-${randomUUID().slice(0, 8)}`;

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Time for a message that should NOT arrive to show up if it were going to. */
const settle = (): Promise<void> => sleep(300);

interface LogLine {
  level: 'info' | 'warn' | 'error';
  msg?: string;
  obj: object;
}

function captureLogger(lines: LogLine[]): BusLogger {
  return {
    info: (obj, msg) => void lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => void lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => void lines.push({ level: 'error', obj, msg }),
  };
}

class QuotaExceeded extends Error {
  readonly code = 413;
}

/** The behaviour every Bus implementation must have. `factory()` gives a bus on the same broker. */
function contract(getFactory: () => BusFactory): void {
  let a: Bus;
  let b: Bus;
  before(async () => {
    a = await getFactory()();
    b = await getFactory()();
  });
  after(async () => {
    await a?.close();
    await b?.close();
  });

  it('call returns the handler result, across buses', async () => {
    const topic = uniqueTopic('calc');
    await a.serve(topic, {
      add: ({ x, y }: { x: number; y: number }, ctx: BusContext) => ({ sum: x + y, kind: ctx.kind, method: ctx.method, topic: ctx.topic }),
      nothing: async () => undefined,
    });
    assert.deepEqual(await b.call(topic, 'add', { x: 2, y: 3 }, { timeoutMs: 5000 }), { sum: 5, kind: 'call', method: 'add', topic });
    assert.equal(await b.call(topic, 'nothing', null, { timeoutMs: 5000 }), null);
  });

  it('call propagates a remote exception as BusRemoteError with its name and message', async () => {
    const topic = uniqueTopic('quota');
    await a.serve(topic, {
      reserve: () => {
        throw new QuotaExceeded('quota of 3 instances exceeded');
      },
    });
    const err = await b.call(topic, 'reserve', {}, { timeoutMs: 5000 }).then(
      () => assert.fail('call should have failed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof BusRemoteError, `got ${String(err)}`);
    assert.equal(err.remoteName, 'QuotaExceeded');
    assert.equal(err.message, 'quota of 3 instances exceeded');
    assert.equal(err.details.code, 413);
    assert.equal(err.topic, topic);
    assert.equal(err.method, 'reserve');

    await assert.rejects(b.call(topic, 'no_such', {}, { timeoutMs: 5000 }), (e: unknown) => {
      assert.ok(e instanceof BusRemoteError);
      assert.equal(e.remoteName, 'NoSuchMethod');
      assert.match(e.message, /no_such/);
      return true;
    });
  });

  it('call with nobody serving rejects with a BusTimeoutError naming topic, method and timeout', async () => {
    const topic = uniqueTopic('void');
    const started = Date.now();
    const err = await a.call(topic, 'lookup', { id: 1 }, { timeoutMs: 300 }).then(
      () => assert.fail('call should have timed out'),
      (e: unknown) => e,
    );
    const elapsed = Date.now() - started;
    assert.ok(err instanceof BusTimeoutError, `got ${String(err)}`);
    assert.equal(err.name, 'BusTimeoutError');
    assert.match(err.message, /300 ms/);
    assert.ok(err.message.includes(`"${topic}"`), err.message);
    assert.ok(err.message.includes('"lookup"'), err.message);
    assert.ok(elapsed >= 280 && elapsed < 3000, `took ${elapsed} ms`);

    const directed = await a.call(topic, 'lookup', {}, { timeoutMs: 100, server: 'host9' }).catch((e: unknown) => e);
    assert.ok(directed instanceof BusTimeoutError);
    assert.ok(directed.message.includes('"host9"'), directed.message);
  });

  it('cast goes to exactly one of the servers of a topic', async () => {
    const topic = uniqueTopic('work');
    const seen: Array<{ i: number; by: string; kind: string }> = [];
    const handlers = (by: string) => ({ job: ({ i }: { i: number }, ctx: BusContext) => void seen.push({ i, by, kind: ctx.kind }) });
    await a.serve(topic, handlers('s1'), { server: 's1' });
    await b.serve(topic, handlers('s2'), { server: 's2' });
    for (let i = 0; i < 20; i++) await b.cast(topic, 'job', { i });
    await waitFor('20 casts handled', () => seen.length >= 20);
    await settle();
    assert.equal(seen.length, 20);
    assert.deepEqual(
      seen.map((s) => s.i).sort((x, y) => x - y),
      Array.from({ length: 20 }, (_, i) => i),
    );
    assert.ok(seen.every((s) => s.kind === 'cast'));
  });

  it('cast to a topic nobody serves yet waits for the first server', async () => {
    const topic = uniqueTopic('later');
    for (let i = 0; i < 3; i++) await a.cast(topic, 'job', { i });
    const seen: number[] = [];
    await b.serve(topic, { job: ({ i }: { i: number }) => void seen.push(i) });
    await waitFor('queued casts', () => seen.length >= 3);
    assert.deepEqual(seen.sort(), [0, 1, 2]);
  });

  it('server option routes call and cast to that server only', async () => {
    const topic = uniqueTopic('compute');
    const casts: string[] = [];
    const handlers = (name: string) => ({ whoami: () => name, poke: () => void casts.push(name) });
    await a.serve(topic, handlers('host1'), { server: 'host1' });
    await b.serve(topic, handlers('host2'), { server: 'host2' });
    for (let i = 0; i < 5; i++) {
      assert.equal(await a.call(topic, 'whoami', null, { server: 'host2', timeoutMs: 5000 }), 'host2');
      assert.equal(await b.call(topic, 'whoami', null, { server: 'host1', timeoutMs: 5000 }), 'host1');
    }
    for (let i = 0; i < 5; i++) await a.cast(topic, 'poke', null, { server: 'host1' });
    await waitFor('5 directed casts', () => casts.length >= 5);
    await settle();
    assert.deepEqual(casts, ['host1', 'host1', 'host1', 'host1', 'host1']);
  });

  it('fanout reaches every server of the topic once', async () => {
    const topic = uniqueTopic('scheduler');
    const got: Array<{ by: string; kind: string; args: unknown }> = [];
    const handlers = (by: string) => ({ refresh: (args: unknown, ctx: BusContext) => void got.push({ by, kind: ctx.kind, args }) });
    await a.serve(topic, handlers('s1'), { server: 's1' });
    await b.serve(topic, handlers('s2'), { server: 's2' });
    await a.serve(topic, handlers('anon'));
    await b.fanout(topic, 'refresh', { gen: 7 });
    await waitFor('fanout to 3 servers', () => got.length >= 3);
    await settle();
    assert.deepEqual(got.map((g) => g.by).sort(), ['anon', 's1', 's2']);
    assert.ok(got.every((g) => g.kind === 'fanout'));
    assert.deepEqual(got[0].args, { gen: 7 });
    // Nobody serving: a fanout is simply dropped, not an error.
    await a.fanout(uniqueTopic('empty'), 'refresh', {});
  });

  it('stop() ends serving; what arrives later waits for the next server', async () => {
    const topic = uniqueTopic('stop');
    const first: number[] = [];
    const sub = await a.serve(topic, { job: ({ i }: { i: number }) => void first.push(i) });
    await a.cast(topic, 'job', { i: 1 });
    await waitFor('first cast', () => first.length === 1);
    await sub.stop();
    await sub.stop(); // idempotent
    await a.cast(topic, 'job', { i: 2 });
    await settle();
    assert.deepEqual(first, [1]);
    const second: number[] = [];
    await b.serve(topic, { job: ({ i }: { i: number }) => void second.push(i) });
    await waitFor('cast kept for the next server', () => second.length === 1);
    assert.deepEqual(second, [2]);
  });

  it('notifications carry the OpenStack envelope and are filtered by pattern', async () => {
    const service = uniqueTopic('identity').replace(/-/g, '_');
    const wildcard: Notification[] = [];
    const exact: Notification[] = [];
    const all: Notification[] = [];
    await b.onNotification(`${service}.*`, (n) => void wildcard.push(n));
    await b.onNotification(`${service}.user.created`, (n) => void exact.push(n));
    const everything = await a.onNotification('*', (n) => {
      if (n.event_type.startsWith(service) || n.event_type.startsWith(`x${service}`)) all.push(n);
    });
    await a.notify(`${service}.user.created`, { id: 'u1', name: 'alice' }, { publisherId: 'identity.host1' });
    await a.notify(`${service}.project.deleted`, { id: 'p1' }, { priority: 'error' });
    await a.notify(`x${service}.user.created`, { id: 'other' });
    await waitFor('notifications', () => wildcard.length >= 2 && exact.length >= 1 && all.length >= 3);
    await settle();

    assert.deepEqual(wildcard.map((n) => n.event_type).sort(), [`${service}.project.deleted`, `${service}.user.created`]);
    assert.equal(exact.length, 1);
    assert.equal(all.length, 3);
    const created = exact[0];
    assert.equal(created.event_type, `${service}.user.created`);
    assert.deepEqual(created.payload, { id: 'u1', name: 'alice' });
    assert.equal(created.publisher_id, 'identity.host1');
    assert.equal(created.priority, 'INFO');
    assert.match(created.message_id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.match(created.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
    assert.ok(Math.abs(Date.parse(`${created.timestamp.slice(0, 23).replace(' ', 'T')}Z`) - Date.now()) < 60_000);
    const deleted = wildcard.find((n) => n.event_type.endsWith('deleted'));
    assert.equal(deleted?.priority, 'ERROR');
    assert.ok(deleted && deleted.publisher_id.length > 0);

    await everything.stop();
    await a.notify(`${service}.user.updated`, {});
    await waitFor('wildcard after stop of another subscriber', () => wildcard.length >= 3);
    await settle();
    assert.equal(all.length, 3);
  });

  it('close() is idempotent, fails pending calls and refuses new work', async () => {
    const c = await getFactory()();
    const pending = c.call(uniqueTopic('never'), 'wait', {}, { timeoutMs: 10_000 });
    const rejected = assert.rejects(pending, BusClosedError);
    await Promise.all([c.close(), c.close()]);
    await rejected;
    await c.close();
    await assert.rejects(c.cast('x', 'y', {}), BusClosedError);
    await assert.rejects(c.serve('x', {}), BusClosedError);
  });
}

describe('createBus', () => {
  it('picks the implementation from the URL', async () => {
    const mem = await createBus(undefined);
    assert.ok(mem instanceof InProcessBus);
    await mem.close();
    const mem2 = await createBus('memory://');
    assert.ok(mem2 instanceof InProcessBus);
    await mem2.close();
    await assert.rejects(createBus('redis://u:secret@localhost'), (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.ok(!e.message.includes('secret'), e.message);
      return true;
    });
  });

  it('rejects clearly, without the password, when RabbitMQ cannot be reached', async () => {
    const started = Date.now();
    const err = await createBus('amqp://guest:hunter2@127.0.0.1:1', { connectTimeoutMs: 600, reconnect: { initialDelayMs: 50 } }).catch(
      (e: unknown) => e,
    );
    assert.ok(err instanceof BusUnavailableError, `got ${String(err)}`);
    assert.match(err.message, /127\.0\.0\.1:1/);
    assert.match(err.message, /ECONNREFUSED/);
    assert.ok(!err.message.includes('hunter2'), err.message);
    assert.ok(Date.now() - started < 3000);
  });
});

describe('InProcessBus', () => {
  const broker = new InProcessBroker();
  describe('contract', () => contract(() => () => createBus('memory://', { broker })));

  it('expires a call request with its timeout instead of running it late', async () => {
    const bus = new InProcessBus({ broker: new InProcessBroker() });
    const topic = uniqueTopic('late');
    await assert.rejects(bus.call(topic, 'slow', {}, { timeoutMs: 50 }), BusTimeoutError);
    const ran: string[] = [];
    await bus.serve(topic, { slow: () => void ran.push('slow') });
    await settle();
    assert.deepEqual(ran, []);
    assert.equal(bus.broker.depth(topic), 0);
    await bus.close();
  });
});

/** rabbitmqctl, failing with a message that says what to do. */
async function rabbitmqctl(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('rabbitmqctl', args, { timeout: 30_000 });
    return stdout;
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new Error(
      `rabbitmqctl ${args.join(' ')} failed: ${detail}\n` +
        'The AMQP bus tests need a local RabbitMQ (start it with `rabbitmq-server -detached`), ' +
        'or set NEPHOS_TEST_NO_RABBITMQ=1 to skip them.',
    );
  }
}

/** The broker-side pid of the connection carrying `connectionName` in vhost `vhost`. */
async function connectionPid(vhost: string, connectionName: string): Promise<string> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const out = await rabbitmqctl('list_connections', '-q', '-s', 'pid', 'vhost', 'client_properties');
    for (const line of out.split('\n')) {
      const [pid, host, props] = line.split('\t');
      if (host === vhost && props?.includes(`{"connection_name","${connectionName}"}`)) return pid;
    }
    await sleep(200);
  }
  throw new Error(`no RabbitMQ connection named ${connectionName} in vhost ${vhost}`);
}

/** A loopback TCP proxy that can drop its connections and refuse new ones, then recover. */
class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private server?: Server;

  private constructor(
    private readonly host: string,
    private readonly upstreamPort: number,
    public port = 0,
  ) {}

  static async start(host: string, upstreamPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(host, upstreamPort);
    await proxy.listen();
    return proxy;
  }

  /** Cuts every connection and stops accepting, like a broker that went away. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  up(): Promise<void> {
    return this.listen();
  }

  close(): Promise<void> {
    return this.down();
  }

  private listen(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.upstreamPort, this.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          this.sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        this.port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  }
}

describe('AmqpBus (RabbitMQ)', { skip: NO_RABBIT ? 'NEPHOS_TEST_NO_RABBITMQ=1' : false }, () => {
  const vhost = `nephos-test-${randomUUID().slice(0, 8)}`;
  const url = `${RABBIT_BASE}/${encodeURIComponent(vhost)}`;
  let vhostCreated = false;
  const logs: LogLine[] = [];
  const options = { connectTimeoutMs: 5000, reconnect: { initialDelayMs: 50, maxDelayMs: 1000 }, logger: captureLogger(logs) };

  // A setup failure is kept and reported by the tests themselves, so that it counts as
  // failed tests (a failing hook only shows as "cancelled" in node's summary).
  let setupError: Error | undefined;
  const ready = (): void => {
    if (setupError) throw setupError;
  };

  before(async () => {
    try {
      await rabbitmqctl('add_vhost', vhost);
      vhostCreated = true;
      await rabbitmqctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*');
      const probe = await AmqpBus.connect(url, options).catch((err: unknown) => {
        throw new Error(`RabbitMQ at ${RABBIT_BASE.replace(/:[^:@/]*@/, ':***@')} is not reachable over AMQP: ${String(err)}`);
      });
      await probe.close();
    } catch (err) {
      setupError = err instanceof Error ? err : new Error(String(err));
    }
  });

  after(async () => {
    if (vhostCreated) await rabbitmqctl('delete_vhost', vhost);
  });

  it('has a RabbitMQ to test against', () => ready());

  describe('contract', () =>
    contract(() => async () => {
      ready();
      return createBus(url, options);
    }));

  it('loses no confirmed cast when its connection is cut, and calls work again after', { timeout: 40_000 }, async (t) => {
    ready();
    const connectionName = `nephos-test-resilience-${randomUUID().slice(0, 8)}`;
    const lines: LogLine[] = [];
    const bus = await AmqpBus.connect(url, {
      connectionName,
      connectTimeoutMs: 5000,
      reconnect: { initialDelayMs: 300, maxDelayMs: 1000 },
      prefetch: 4,
      logger: captureLogger(lines),
    });
    try {
      const topic = uniqueTopic('resilient');
      const handled = new Set<number>();
      let redeliveries = 0;
      await bus.serve(topic, {
        tick: async ({ i }: { i: number }, ctx: BusContext) => {
          await sleep(3);
          if (ctx.redelivered) redeliveries++;
          handled.add(i);
        },
        ping: () => 'pong',
      });
      const pid = await connectionPid(vhost, connectionName);

      let cutAt: number | undefined;
      const cut = rabbitmqctl('close_connection', pid, 'nephos bus test: cut').then(() => {
        cutAt = Date.now();
      });
      const confirmed: number[] = [];
      const failures: unknown[] = [];
      const sends: Array<Promise<void>> = [];
      let castWhileDown = 0;
      // Keep casting before, during and for a while after the cut.
      for (let i = 0; cutAt === undefined || Date.now() < cutAt + 1500; i++) {
        if (!bus.connected) castWhileDown++;
        sends.push(bus.cast(topic, 'tick', { i }).then(() => void confirmed.push(i), (e: unknown) => void failures.push(e)));
        await sleep(10);
      }
      await cut;
      await Promise.all(sends);

      assert.equal(bus.connectionLosses, 1, 'the cut should have cost exactly one connection');
      assert.ok(castWhileDown > 0, 'some casts should have been issued while disconnected');
      assert.deepEqual(failures, []);
      assert.equal(confirmed.length, sends.length);
      await waitFor(`all ${confirmed.length} confirmed casts handled`, () => confirmed.every((i) => handled.has(i)), 15_000);
      assert.ok(lines.some((l) => l.level === 'warn' && l.msg === 'bus: connection lost, reconnecting'));
      assert.ok(lines.filter((l) => l.level === 'info' && l.msg === 'bus: connected to RabbitMQ').length >= 2);
      assert.equal(await bus.call(topic, 'ping', {}, { timeoutMs: 5000 }), 'pong');
      assert.ok(bus.connected);
      // Timing-dependent, so reported rather than asserted.
      t.diagnostic(`casts: ${sends.length}, issued while down: ${castWhileDown}, redelivered: ${redeliveries}`);
    } finally {
      await bus.close();
    }
  });

  it('rides out a broker outage: casts wait (bounded), servers come back', { timeout: 20_000 }, async () => {
    ready();
    // A TCP proxy in front of RabbitMQ stands in for a broker going down and coming back,
    // without disturbing the real broker that other tests may be using.
    const upstream = new URL(RABBIT_BASE);
    const proxy = await TcpProxy.start(upstream.hostname, Number(upstream.port || 5672));
    const proxied = new URL(url);
    proxied.port = String(proxy.port);
    const bus = await AmqpBus.connect(proxied.toString(), { publishTimeoutMs: 1500, connectTimeoutMs: 5000, reconnect: { initialDelayMs: 50, maxDelayMs: 200 } });
    try {
      const topic = uniqueTopic('outage');
      const got: number[] = [];
      await bus.serve(topic, { job: ({ i }: { i: number }) => void got.push(i), ping: () => 'pong' }, { server: 'h1' });
      await proxy.down();
      await waitFor('the disconnect to be noticed', () => !bus.connected, 5000);

      // Down for longer than a cast may wait: it fails, saying why.
      const started = Date.now();
      const err = await bus.cast(topic, 'job', { i: 0 }).catch((e: unknown) => e);
      const elapsed = Date.now() - started;
      assert.ok(err instanceof BusUnavailableError, `got ${String(err)}`);
      assert.ok(err.message.includes(`cast ${topic}.job`), err.message);
      assert.match(err.message, /1500 ms/);
      assert.match(err.message, /ECONNREFUSED/);
      assert.ok(!err.message.includes('guest:guest'), err.message);
      assert.ok(elapsed >= 1400 && elapsed < 4000, `gave up after ${elapsed} ms`);

      // Down for less than that: the cast waits, then goes out once the broker is back,
      // to the server-specific queue that the server declared again.
      const pending = bus.cast(topic, 'job', { i: 1 }, { server: 'h1' });
      await sleep(200);
      await proxy.up();
      await pending;
      await waitFor('the cast sent during the outage', () => got.includes(1));
      assert.deepEqual(got, [1]);
      assert.equal(await bus.call(topic, 'ping', {}, { server: 'h1', timeoutMs: 5000 }), 'pong');
      assert.equal(bus.connectionLosses, 1);
    } finally {
      await bus.close();
      await proxy.close();
    }
  });
});
