/**
 * Standalone experiment: how fast can a Node HTTP server take a chunked 1 GiB upload while
 * computing md5 + sha512 and writing it to disk, for several ways of arranging the work?
 * Not used by the product; its figures guide src/image's upload path.
 *
 *   node dist/bench/lib/upload-experiment.js [--size-mib 1024] [--runs 2] [variant …]
 *
 * The server runs in a child process (`--serve DIR`), the client in this one, as for the bench.
 * Every variant answers 204 with the digests it computed, which the client checks.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { measureCpu, waitForQuiet } from './cpu.js';
import { ImageData } from './image-data.js';
import { stopProcess } from './proc.js';
import { hashRate, MIB, mbps } from './throughput.js';
import type { FromHashWorker, ToHashWorker } from './upload-experiment-worker.js';

/** One stage of the receiving side: `push` may return a promise meaning "wait before the next". */
interface Sink {
  push(chunk: Buffer): Promise<void> | undefined;
  finish(): Promise<Record<string, string>>;
}

const workerUrl = new URL('./upload-experiment-worker.js', import.meta.url);

class MainHash implements Sink {
  private readonly hash: Hash;
  constructor(private readonly algo: string) {
    this.hash = createHash(algo);
  }
  push(chunk: Buffer): undefined {
    this.hash.update(chunk);
  }
  async finish(): Promise<Record<string, string>> {
    return { [`x-${this.algo}`]: this.hash.digest('hex') };
  }
}

/** The hash on a worker thread: chunks are copied into 1 MiB batches that are transferred there and back. */
class WorkerHash implements Sink {
  private static readonly BATCH = MIB;
  private static readonly MAX_IN_FLIGHT = 8 * MIB;
  private batch = new Uint8Array(WorkerHash.BATCH);
  private fill = 0;
  private inFlight = 0;
  private readonly spare: ArrayBuffer[] = [];
  private waiting: (() => void) | null = null;
  private digest: ((hex: string) => void) | null = null;

  constructor(private readonly algo: string, private readonly worker: Worker) {
    worker.removeAllListeners('message');
    worker.on('message', (m: FromHashWorker) => {
      if (m.op === 'batch') {
        this.inFlight -= m.len;
        this.spare.push(m.buf);
        if (this.waiting && this.inFlight <= WorkerHash.MAX_IN_FLIGHT / 2) {
          const w = this.waiting;
          this.waiting = null;
          w();
        }
      } else if (m.op === 'digest') this.digest?.(m.hex);
    });
  }

  push(chunk: Buffer): Promise<void> | undefined {
    for (let off = 0; off < chunk.length; ) {
      const n = Math.min(chunk.length - off, WorkerHash.BATCH - this.fill);
      this.batch.set(chunk.subarray(off, off + n), this.fill);
      this.fill += n;
      off += n;
      if (this.fill === WorkerHash.BATCH) this.flush();
    }
    if (this.inFlight <= WorkerHash.MAX_IN_FLIGHT) return undefined;
    return new Promise((resolve) => (this.waiting = resolve));
  }

  private flush(): void {
    if (this.fill === 0) return;
    const buf = this.batch.buffer as ArrayBuffer;
    this.worker.postMessage({ op: 'batch', buf, len: this.fill } satisfies ToHashWorker, [buf]);
    this.inFlight += this.fill;
    const reuse = this.spare.pop();
    this.batch = reuse ? new Uint8Array(reuse) : new Uint8Array(WorkerHash.BATCH);
    this.fill = 0;
  }

  async finish(): Promise<Record<string, string>> {
    this.flush();
    const hex = await new Promise<string>((resolve) => {
      this.digest = resolve;
      this.worker.postMessage({ op: 'end' } satisfies ToHashWorker);
    });
    return { [`x-${this.algo}`]: hex };
  }
}

/**
 * fs.WriteStream on an fd, then one fdatasync. The stream gets the numeric fd: given the
 * FileHandle itself with autoClose false, FileHandle.close() never settles afterwards (Node 20.20).
 */
class StreamFile implements Sink {
  private pushed = 0;
  private nextSync: number;
  private syncing: Promise<void> | null = null;
  /** `syncEvery` > 0: an fdatasync is started (not awaited) each time that many more bytes were queued, so writeback overlaps the transfer. */
  private constructor(private readonly fh: FileHandle, private readonly out: WriteStream, private readonly sync: boolean, private readonly syncEvery: number) {
    this.nextSync = syncEvery;
  }
  static async open(path: string, highWaterMark: number, sync: boolean, syncEvery = 0): Promise<StreamFile> {
    const fh = await open(path, 'w', 0o600);
    return new StreamFile(fh, createWriteStream('', { fd: fh.fd, autoClose: false, highWaterMark }), sync, syncEvery);
  }
  push(chunk: Buffer): Promise<void> | undefined {
    this.pushed += chunk.length;
    if (this.syncEvery > 0 && this.pushed >= this.nextSync && this.syncing === null) {
      this.nextSync = this.pushed + this.syncEvery;
      this.syncing = this.fh.datasync().finally(() => (this.syncing = null));
    }
    return this.out.write(chunk) ? undefined : (once(this.out, 'drain') as Promise<unknown> as Promise<void>);
  }
  async finish(): Promise<Record<string, string>> {
    this.out.end();
    await once(this.out, 'finish');
    await this.syncing;
    if (this.sync) await this.fh.datasync();
    await this.fh.close();
    return { 'x-written': String(this.out.bytesWritten) };
  }
}

/**
 * Coalesces chunks into two reused `size`-byte buffers written with positional fd writes: one
 * fills while the other is written (fresh 4 MiB allocations each time cost a page fault per 4 KiB).
 */
class CoalescedFile implements Sink {
  private readonly bufs: [Buffer, Buffer];
  private current = 0;
  private fill = 0;
  private pos = 0;
  private writing: Promise<unknown> = Promise.resolve();
  private constructor(private readonly fh: FileHandle, private readonly size: number) {
    this.bufs = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];
  }
  static async open(path: string, size: number): Promise<CoalescedFile> {
    return new CoalescedFile(await open(path, 'w', 0o600), size);
  }
  push(chunk: Buffer): Promise<void> | undefined {
    let off = 0;
    while (off < chunk.length) {
      const n = chunk.copy(this.bufs[this.current], this.fill, off);
      this.fill += n;
      off += n;
      if (this.fill === this.size) {
        // The other buffer must be written out before it is filled again.
        const rest = chunk.subarray(off);
        return this.flush().then(() => this.push(rest));
      }
    }
    return undefined;
  }
  private async flush(): Promise<void> {
    await this.writing;
    const full = this.bufs[this.current].subarray(0, this.fill);
    this.writing = this.fh.write(full, 0, full.length, this.pos);
    this.pos += this.fill;
    this.current = 1 - this.current;
    this.fill = 0;
  }
  async finish(): Promise<Record<string, string>> {
    if (this.fill > 0) await this.flush();
    await this.writing;
    await this.fh.datasync();
    await this.fh.close();
    return { 'x-written': String(this.pos) };
  }
}

/**
 * One copy into a SharedArrayBuffer ring of 1 MiB slots; each full slot goes to the md5 worker,
 * the sha512 worker and a positional write at once, and is reused when all three are done.
 * The main thread only copies and dispatches.
 */
class SabPipeline implements Sink {
  static readonly SLOT = MIB;
  private readonly view: Buffer;
  private readonly free: number[];
  private readonly refs: number[];
  private slot: number;
  private fill = 0;
  private pos = 0;
  private waiting: (() => void) | null = null;
  private readonly writes = new Set<Promise<void>>();
  private digests = new Map<string, (hex: string) => void>();

  private constructor(private readonly ring: SharedArrayBuffer, private readonly workers: Record<string, Worker>, private readonly fh: FileHandle) {
    this.view = Buffer.from(ring);
    const slots = ring.byteLength / SabPipeline.SLOT;
    this.free = Array.from({ length: slots - 1 }, (_, i) => i + 1);
    this.refs = new Array<number>(slots).fill(0);
    this.slot = 0;
    for (const [algo, w] of Object.entries(workers)) {
      w.removeAllListeners('message');
      w.on('message', (m: FromHashWorker) => {
        if (m.op === 'slot') this.release(m.slot);
        else if (m.op === 'digest') this.digests.get(algo)?.(m.hex);
      });
    }
  }

  static async open(path: string, ring: SharedArrayBuffer, workers: Record<string, Worker>): Promise<SabPipeline> {
    return new SabPipeline(ring, workers, await open(path, 'w', 0o600));
  }

  private release(slot: number): void {
    if (--this.refs[slot] > 0) return;
    this.free.push(slot);
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w();
    }
  }

  private dispatch(): void {
    const slot = this.slot;
    const offset = slot * SabPipeline.SLOT;
    const len = this.fill;
    this.refs[slot] = Object.keys(this.workers).length + 1;
    for (const w of Object.values(this.workers)) w.postMessage({ op: 'slot', slot, offset, len } satisfies ToHashWorker);
    const at = this.pos;
    this.pos += len;
    const write: Promise<void> = this.fh.write(this.view, offset, len, at).then(() => {
      this.writes.delete(write);
      this.release(slot);
    });
    this.writes.add(write);
    this.fill = 0;
    this.slot = -1;
  }

  push(chunk: Buffer): Promise<void> | undefined {
    let off = 0;
    while (off < chunk.length) {
      if (this.slot < 0) {
        const next = this.free.pop();
        if (next === undefined) {
          // Ring full: wait for a slot, then continue with the rest of this chunk.
          const rest = chunk.subarray(off);
          return new Promise<void>((resolve) => (this.waiting = resolve)).then(() => this.push(rest));
        }
        this.slot = next;
      }
      const n = chunk.copy(this.view, this.slot * SabPipeline.SLOT + this.fill, off, off + Math.min(chunk.length - off, SabPipeline.SLOT - this.fill));
      this.fill += n;
      off += n;
      if (this.fill === SabPipeline.SLOT) this.dispatch();
    }
    return undefined;
  }

  async finish(): Promise<Record<string, string>> {
    if (this.slot >= 0 && this.fill > 0) this.dispatch();
    const out: Record<string, string> = {};
    for (const [algo, w] of Object.entries(this.workers)) {
      out[`x-${algo}`] = await new Promise<string>((resolve) => {
        this.digests.set(algo, resolve);
        w.postMessage({ op: 'end' } satisfies ToHashWorker);
      });
    }
    await Promise.all(this.writes);
    await this.fh.datasync();
    await this.fh.close();
    out['x-written'] = String(this.pos);
    return out;
  }
}

/** All the sinks of one upload, fed the same chunk; waits for every one that asks to. */
class Fanout implements Sink {
  constructor(private readonly sinks: Sink[]) {}
  push(chunk: Buffer): Promise<void> | undefined {
    let waits: Promise<void>[] | undefined;
    for (const s of this.sinks) {
      const w = s.push(chunk);
      if (w) (waits ??= []).push(w);
    }
    return waits ? Promise.all(waits).then(() => undefined) : undefined;
  }
  async finish(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const s of this.sinks) Object.assign(out, await s.finish());
    return out;
  }
}

/** The arrangements compared, by name. */
export const VARIANTS = [
  'discard',
  'md5',
  'md5+sha512 main',
  'md5 main, sha512 worker',
  'write stream 4M + fdatasync',
  'md5 main, sha512 worker, write stream 4M + fdatasync',
  'md5 main, sha512 worker, write stream 64K + fdatasync',
  'md5 main, sha512 worker, write stream 4M, no sync',
  'md5 main, sha512 worker, write stream 4M + fdatasync every 64M and at the end',
  'md5 main, sha512 worker, coalesced 4M fd writes + fdatasync',
  'md5 worker, sha512 worker (batch copies), write stream 4M + fdatasync',
  'transform+pipeline: md5 main, sha512 worker, write stream 4M + fdatasync',
  'sab ring: md5 worker, sha512 worker, fd writes + fdatasync',
] as const;

interface ServerState {
  dir: string;
  md5Worker: Worker;
  sha512Worker: Worker;
  sabWorkers: Record<string, Worker>;
  ring: SharedArrayBuffer;
}

async function sinkFor(variant: string, path: string, st: ServerState): Promise<Sink> {
  const sha = (): Sink => new WorkerHash('sha512', st.sha512Worker);
  switch (variant) {
    case 'discard': return new Fanout([]);
    case 'md5': return new MainHash('md5');
    case 'md5+sha512 main': return new Fanout([new MainHash('md5'), new MainHash('sha512')]);
    case 'md5 main, sha512 worker': return new Fanout([new MainHash('md5'), sha()]);
    case 'write stream 4M + fdatasync': return StreamFile.open(path, 4 * MIB, true);
    case 'md5 main, sha512 worker, write stream 4M + fdatasync': return new Fanout([new MainHash('md5'), sha(), await StreamFile.open(path, 4 * MIB, true)]);
    case 'md5 main, sha512 worker, write stream 4M + fdatasync every 64M and at the end':
      return new Fanout([new MainHash('md5'), sha(), await StreamFile.open(path, 4 * MIB, true, 64 * MIB)]);
    case 'md5 main, sha512 worker, write stream 4M, no sync': return new Fanout([new MainHash('md5'), sha(), await StreamFile.open(path, 4 * MIB, false)]);
    case 'md5 main, sha512 worker, write stream 64K + fdatasync': return new Fanout([new MainHash('md5'), sha(), await StreamFile.open(path, 64 * 1024, true)]);
    case 'md5 main, sha512 worker, coalesced 4M fd writes + fdatasync': return new Fanout([new MainHash('md5'), sha(), await CoalescedFile.open(path, 4 * MIB)]);
    case 'md5 worker, sha512 worker (batch copies), write stream 4M + fdatasync':
      return new Fanout([new WorkerHash('md5', st.md5Worker), sha(), await StreamFile.open(path, 4 * MIB, true)]);
    case 'sab ring: md5 worker, sha512 worker, fd writes + fdatasync': return SabPipeline.open(path, st.ring, st.sabWorkers);
    default: throw new Error(`unknown variant ${variant}`);
  }
}

/** The src/image style: a Transform tap hashing in _transform, piped with pipeline() into the write stream. */
async function transformPipeline(req: IncomingMessage, path: string, st: ServerState): Promise<Record<string, string>> {
  const md5 = new MainHash('md5');
  const sha = new WorkerHash('sha512', st.sha512Worker);
  const tap = new Transform({
    readableHighWaterMark: MIB,
    writableHighWaterMark: MIB,
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      const wait = sha.push(chunk);
      md5.push(chunk);
      if (wait) wait.then(() => cb(null, chunk), cb);
      else cb(null, chunk);
    },
  });
  const fh = await open(path, 'w', 0o600);
  const out = createWriteStream('', { fd: fh.fd, autoClose: false, highWaterMark: 4 * MIB });
  await pipeline(req, tap, out);
  await fh.datasync();
  await fh.close();
  return { ...(await md5.finish()), ...(await sha.finish()), 'x-written': String(out.bytesWritten) };
}

async function serve(dir: string): Promise<void> {
  const ring = new SharedArrayBuffer(32 * MIB);
  const st: ServerState = {
    dir,
    ring,
    md5Worker: new Worker(workerUrl, { workerData: { algo: 'md5' } }),
    sha512Worker: new Worker(workerUrl, { workerData: { algo: 'sha512' } }),
    sabWorkers: {
      md5: new Worker(workerUrl, { workerData: { algo: 'md5', ring } }),
      sha512: new Worker(workerUrl, { workerData: { algo: 'sha512', ring } }),
    },
  };
  let n = 0;
  const server = createServer((req, res) => {
    const variant = decodeURIComponent((req.url ?? '/').slice(1));
    const path = join(dir, `upload-${n++}`);
    const fail = (err: unknown): void => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String((err as Error).stack ?? err));
    };
    const done = (headers: Record<string, string>): void => {
      res.writeHead(204, headers).end();
      void rm(path, { force: true });
    };
    if (variant.startsWith('transform+pipeline')) {
      transformPipeline(req, path, st).then(done, fail);
      return;
    }
    sinkFor(variant, path, st).then((sink) => {
      req.on('data', (chunk: Buffer) => {
        const wait = sink.push(chunk);
        if (wait) {
          req.pause();
          wait.then(() => req.resume(), fail);
        }
      });
      req.on('end', () => void sink.finish().then(done, fail));
    }, fail);
  });
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    console.log(`LISTENING ${typeof addr === 'object' && addr ? addr.port : 0}`);
  });
  await new Promise<void>((resolve) => process.once('SIGTERM', resolve));
  server.close();
  for (const w of [st.md5Worker, st.sha512Worker, ...Object.values(st.sabWorkers)]) await w.terminate();
}

async function upload(port: number, variant: string, data: ImageData): Promise<{ rate: number; headers: Record<string, string | string[] | undefined> }> {
  const t0 = process.hrtime.bigint();
  const req = request({ host: '127.0.0.1', port, method: 'PUT', path: `/${encodeURIComponent(variant)}`, headers: { 'transfer-encoding': 'chunked' } });
  const answered = new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  let bytes = 0;
  for (const chunk of data.chunks()) {
    bytes += chunk.length;
    if (!req.write(chunk)) await Promise.race([once(req, 'drain'), answered]);
  }
  req.end();
  const res = await answered;
  const body: Buffer[] = [];
  for await (const c of res) body.push(c as Buffer);
  if (res.statusCode !== 204) throw new Error(`${variant}: HTTP ${res.statusCode} ${Buffer.concat(body).toString().slice(0, 500)}`);
  return { rate: mbps(bytes, Number(process.hrtime.bigint() - t0) / 1e9), headers: res.headers };
}

async function drive(argv: string[]): Promise<void> {
  const made: { server?: number; workdir?: string } = {};
  const onSignal = (): void => {
    void (made.server === undefined ? Promise.resolve() : stopProcess(made.server)).finally(() => {
      if (made.workdir) rmSync(made.workdir, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { 'size-mib': { type: 'string', default: '1024' }, runs: { type: 'string', default: '2' } },
  });
  const size = Number(values['size-mib']) * MIB;
  const variants = positionals.length > 0 ? positionals : [...VARIANTS];
  const data = new ImageData(size);
  const md5 = hashRate('md5', data.chunks());
  const sha512 = hashRate('sha512', data.chunks());
  const md5Small = hashRate('md5', new ImageData(Math.min(size, 256 * MIB), 64 * 1024).chunks());
  console.log(`one core: md5 ${md5.mbps.toFixed(0)} MB/s (1 MiB updates), ${md5Small.mbps.toFixed(0)} MB/s (64 KiB updates); sha512 ${sha512.mbps.toFixed(0)} MB/s`);
  const dir = mkdtempSync(join(tmpdir(), 'nephos-bench-upload-exp-'));
  made.workdir = dir;
  const child = spawn(process.execPath, [new URL(import.meta.url).pathname, '--serve', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  made.server = child.pid;
  try {
    const port = await new Promise<number>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (l) => {
        if (l.startsWith('LISTENING ')) resolve(Number(l.slice(10)));
      });
      child.once('exit', (c) => reject(new Error(`server exited ${c}`)));
    });
    for (const variant of variants) {
      const rates: number[] = [];
      const cpuPerGb: number[] = [];
      for (let i = 0; i < Number(values.runs); i++) {
        await waitForQuiet(0.3, 30_000);
        const cpu = measureCpu([child.pid as number]);
        const { rate, headers } = await upload(port, variant, data);
        cpuPerGb.push(cpu.stop().server / (size / 1e9));
        rates.push(rate);
        if (headers['x-md5'] !== undefined && headers['x-md5'] !== md5.hex) throw new Error(`${variant}: wrong md5`);
        if (headers['x-sha512'] !== undefined && headers['x-sha512'] !== sha512.hex) throw new Error(`${variant}: wrong sha512`);
        if (headers['x-written'] !== undefined && Number(headers['x-written']) !== size) throw new Error(`${variant}: wrote ${String(headers['x-written'])}`);
      }
      const cpu = [...cpuPerGb].sort((a, b) => a - b)[0];
      console.log(`${variant.padEnd(76)} ${rates.map((r) => r.toFixed(0).padStart(5)).join(' ')} MB/s   server ${cpu.toFixed(2)} CPU s/GB (least)`);
    }
  } finally {
    if (child.pid !== undefined) await stopProcess(child.pid);
    rmSync(dir, { recursive: true, force: true });
  }
}

const args = process.argv.slice(2);
if (args[0] === '--serve') {
  void serve(args[1]).then(() => process.exit(0));
} else {
  drive(args).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
