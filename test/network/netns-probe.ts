/**
 * A traffic probe that runs inside a network namespace (`ip netns exec <ns> node netns-probe.js`)
 * and obeys JSON lines on stdin, answering one JSON line per request on stdout: TCP echo servers,
 * UDP receivers that record who sent what, connects with a time bound, a long-lived connection
 * for "does the established flow survive", and a tight connect loop that reports the wall-clock
 * instant of the first success (for enforcement latency). Not a test itself: firewall tests drive it.
 */
import { createServer, connect, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';

/** One request; `id` is echoed back in the answer. */
export type ProbeRequest = { readonly id: number } & (
  | { readonly op: 'listen-tcp'; readonly port: number }
  | { readonly op: 'listen-udp'; readonly port: number }
  | { readonly op: 'udp-received' }
  | { readonly op: 'udp-send'; readonly host: string; readonly port: number; readonly data: string; readonly from?: string }
  | { readonly op: 'tcp-connect'; readonly host: string; readonly port: number; readonly timeoutMs: number; readonly from?: string }
  | { readonly op: 'tcp-open'; readonly host: string; readonly port: number; readonly timeoutMs: number }
  | { readonly op: 'tcp-echo'; readonly conn: number; readonly data: string; readonly timeoutMs: number }
  | { readonly op: 'probe'; readonly host: string; readonly port: number; readonly everyMs: number; readonly maxMs: number }
);

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export const wallMs = (): number => performance.timeOrigin + performance.now();

const received: { from: string; data: string }[] = [];
const conns = new Map<number, Socket>();
let nextConn = 1;

function tcpConnect(host: string, port: number, timeoutMs: number, from?: string): Promise<Socket | null> {
  return new Promise((resolve) => {
    const s = connect({ host, port, ...(from ? { localAddress: from } : {}) });
    const timer = setTimeout(() => { s.destroy(); resolve(null); }, timeoutMs);
    s.once('connect', () => { clearTimeout(timer); resolve(s); });
    s.once('error', () => { clearTimeout(timer); s.destroy(); resolve(null); });
  });
}

function echo(s: Socket, data: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let got = '';
    const onData = (b: Buffer): void => {
      got += b.toString();
      if (got.includes(data)) done(true);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    function done(ok: boolean): void { clearTimeout(timer); s.off('data', onData); resolve(ok); }
    s.on('data', onData);
    s.write(data);
  });
}

/** Opens a new connection every `everyMs` until one connects; resolves with the wall time of that connect. */
function probe(host: string, port: number, everyMs: number, maxMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const sockets: Socket[] = [];
    let finished = false;
    const finish = (at: number | null): void => {
      if (finished) return;
      finished = true;
      clearInterval(tick);
      clearTimeout(limit);
      for (const s of sockets) s.destroy();
      resolve(at);
    };
    const attempt = (): void => {
      const s = connect({ host, port });
      sockets.push(s);
      s.once('connect', () => finish(wallMs()));
      s.once('error', () => s.destroy());
    };
    const tick = setInterval(attempt, everyMs);
    const limit = setTimeout(() => finish(null), maxMs);
    attempt();
  });
}

async function handle(r: ProbeRequest): Promise<Record<string, unknown>> {
  switch (r.op) {
    case 'listen-tcp': {
      const srv = createServer((s) => { s.on('data', (b) => s.write(b)); s.on('error', () => s.destroy()); });
      await new Promise<void>((ok, fail) => { srv.once('error', fail); srv.listen(r.port, ok); });
      return { ok: true };
    }
    case 'listen-udp': {
      const sock = createSocket('udp4');
      sock.on('message', (m, info) => received.push({ from: info.address, data: m.toString() }));
      await new Promise<void>((ok) => sock.bind(r.port, ok));
      return { ok: true };
    }
    case 'udp-received':
      return { ok: true, received: received.splice(0) };
    case 'udp-send': {
      const sock = createSocket('udp4');
      if (r.from) await new Promise<void>((ok) => sock.bind({ address: r.from }, ok));
      await new Promise<void>((ok, fail) => sock.send(r.data, r.port, r.host, (e) => (e ? fail(e) : ok())));
      sock.close();
      return { ok: true };
    }
    case 'tcp-connect': {
      const t0 = wallMs();
      const s = await tcpConnect(r.host, r.port, r.timeoutMs, r.from);
      s?.destroy();
      return { ok: s !== null, ms: wallMs() - t0 };
    }
    case 'tcp-open': {
      const s = await tcpConnect(r.host, r.port, r.timeoutMs);
      if (!s) return { ok: false };
      s.on('error', () => s.destroy());
      const conn = nextConn++;
      conns.set(conn, s);
      return { ok: true, conn };
    }
    case 'tcp-echo': {
      const s = conns.get(r.conn);
      return { ok: s ? await echo(s, r.data, r.timeoutMs) : false };
    }
    case 'probe':
      return { ok: true, at: await probe(r.host, r.port, r.everyMs, r.maxMs) };
  }
}

// Only when run as a program (the test imports the types and wallMs).
if (process.argv[1]?.endsWith('netns-probe.js')) {
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const r = JSON.parse(line) as ProbeRequest;
    handle(r).then(
      (a) => process.stdout.write(`${JSON.stringify({ id: r.id, ...a })}\n`),
      (e: unknown) => process.stdout.write(`${JSON.stringify({ id: r.id, ok: false, error: String(e) })}\n`),
    );
  });
  // The driving test closing stdin (or dying) ends the probe.
  lines.on('close', () => process.exit(0));
}
