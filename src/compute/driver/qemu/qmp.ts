/**
 * A small QMP (QEMU Machine Protocol) client over a unix socket: the greeting, capability
 * negotiation, commands matched to their replies by id, and asynchronous events kept in order so
 * that a caller can wait for one that arrived before it started waiting. Every wait is bounded.
 *
 * A QMP server socket serves one client at a time (a second one waits for the first to leave), so
 * callers connect for an operation and close when done (see `withQmp`).
 */
import { createConnection, type Socket } from 'node:net';

/** An asynchronous QMP event (SHUTDOWN, STOP, BLOCK_JOB_COMPLETED, DEVICE_DELETED, …). */
export interface QmpEvent {
  readonly event: string;
  readonly data: Record<string, unknown>;
  /** Position among the events of this connection (0, 1, …). */
  readonly seq: number;
}

/** A command QEMU answered with an error (`class` as QEMU names it, e.g. GenericError, CommandNotFound). */
export class QmpCommandError extends Error {
  constructor(readonly command: string, readonly errorClass: string, readonly desc: string) {
    super(`QMP ${command}: ${errorClass}: ${desc}`);
    this.name = 'QmpCommandError';
  }
}

/** No answer in time, or the connection is gone. */
export class QmpConnectionError extends Error {
  constructor(message: string, readonly timedOut: boolean) {
    super(message);
    this.name = 'QmpConnectionError';
  }
}

interface Pending {
  readonly command: string;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

interface EventWaiter {
  readonly match: (e: QmpEvent) => boolean;
  readonly resolve: (e: QmpEvent) => void;
  readonly reject: (e: Error) => void;
}

const MAX_EVENTS = 10_000;
const MAX_LINE = 16 * 1024 * 1024;

export class QmpClient {
  readonly #sock: Socket;
  readonly #pending = new Map<number, Pending>();
  readonly #events: QmpEvent[] = [];
  readonly #waiters = new Set<EventWaiter>();
  #buf = '';
  #nextId = 1;
  #seq = 0;
  #closed: Error | null = null;
  #greeting: ((g: Record<string, unknown>) => void) | null = null;
  /** QEMU's version from the greeting, e.g. `7.2.22`. */
  version = '';

  private constructor(sock: Socket) {
    this.#sock = sock;
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => this.#onData(chunk));
    sock.on('error', (err) => this.#fail(new QmpConnectionError(`QMP socket: ${err.message}`, false)));
    sock.on('close', () => this.#fail(new QmpConnectionError('QMP connection closed', false)));
  }

  /**
   * Connects to the QMP socket at `path`, reads the greeting and enters command mode
   * (qmp_capabilities). Fails after `timeoutMs` (e.g. when another client holds the monitor).
   */
  static async connect(path: string, o: { readonly timeoutMs?: number } = {}): Promise<QmpClient> {
    const timeoutMs = o.timeoutMs ?? 5000;
    const sock = createConnection(path);
    const client = new QmpClient(sock);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new QmpConnectionError(`QMP ${path}: no greeting within ${timeoutMs} ms (monitor busy or QEMU hung)`, true)), timeoutMs);
    });
    const greeted = new Promise<Record<string, unknown>>((resolve, reject) => {
      client.#greeting = resolve;
      sock.once('error', (err) => reject(new QmpConnectionError(`QMP ${path}: ${err.message}`, false)));
      sock.once('close', () => reject(new QmpConnectionError(`QMP ${path}: closed before the greeting`, false)));
    });
    try {
      const g = await Promise.race([greeted, timeout]);
      const v = (g.QMP as { version?: { qemu?: { major: number; minor: number; micro: number } } } | undefined)?.version?.qemu;
      if (v) client.version = `${v.major}.${v.minor}.${v.micro}`;
      await client.execute('qmp_capabilities', undefined, { timeoutMs });
      return client;
    } catch (err) {
      client.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs a command; resolves with its `return` value, rejects with a QmpCommandError or QmpConnectionError. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, o: { readonly timeoutMs?: number } = {}): Promise<T> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = this.#nextId++;
    const timeoutMs = o.timeoutMs ?? 10_000;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new QmpConnectionError(`QMP ${command}: no answer within ${timeoutMs} ms`, true));
      }, timeoutMs);
      this.#pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject, timer });
      this.#sock.write(`${JSON.stringify(args === undefined ? { execute: command, id } : { execute: command, arguments: args, id })}\n`);
    });
  }

  /** The number of events received so far: pass it as `since` to wait only for later ones. */
  mark(): number {
    return this.#seq;
  }

  /** Events received so far (the last 10,000). */
  events(): readonly QmpEvent[] {
    return this.#events;
  }

  /**
   * The first event named `name` (or one of the names, and matching `match`) with seq >= `since` (default 0: any event
   * of this connection, including those that arrived before the call).
   */
  waitEvent(name: string | readonly string[], o: { readonly match?: (data: Record<string, unknown>) => boolean; readonly since?: number; readonly timeoutMs: number }): Promise<QmpEvent> {
    const since = o.since ?? 0;
    const names = typeof name === 'string' ? [name] : name;
    const match = (e: QmpEvent) => e.seq >= since && names.includes(e.event) && (o.match ? o.match(e.data) : true);
    const seen = this.#events.find(match);
    if (seen) return Promise.resolve(seen);
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise<QmpEvent>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new QmpConnectionError(`QMP event ${names.join('/')}: none within ${o.timeoutMs} ms`, true));
      }, o.timeoutMs);
      const waiter: EventWaiter = {
        match,
        resolve: (e) => { clearTimeout(timer); this.#waiters.delete(waiter); resolve(e); },
        reject: (e) => { clearTimeout(timer); this.#waiters.delete(waiter); reject(e); },
      };
      this.#waiters.add(waiter);
    });
  }

  /** Closes the connection; pending commands fail. */
  close(): void {
    this.#fail(new QmpConnectionError('QMP connection closed by the client', false));
    this.#sock.destroy();
  }

  #onData(chunk: string): void {
    this.#buf += chunk;
    if (this.#buf.length > MAX_LINE) {
      this.#fail(new QmpConnectionError('QMP: message too long', false));
      this.#sock.destroy();
      return;
    }
    let nl: number;
    while ((nl = this.#buf.indexOf('\n')) >= 0) {
      const line = this.#buf.slice(0, nl).trim();
      this.#buf = this.#buf.slice(nl + 1);
      if (line) this.#onMessage(line);
    }
  }

  #onMessage(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // not QMP: ignore
    }
    if ('QMP' in msg) {
      this.#greeting?.(msg);
      this.#greeting = null;
      return;
    }
    if (typeof msg.event === 'string') {
      const e: QmpEvent = { event: msg.event, data: (msg.data ?? {}) as Record<string, unknown>, seq: this.#seq++ };
      this.#events.push(e);
      if (this.#events.length > MAX_EVENTS) this.#events.shift();
      for (const w of [...this.#waiters]) if (w.match(e)) w.resolve(e);
      return;
    }
    const id = typeof msg.id === 'number' ? msg.id : null;
    const p = id === null ? undefined : this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id!);
    clearTimeout(p.timer);
    if ('error' in msg) {
      const e = msg.error as { class?: string; desc?: string };
      p.reject(new QmpCommandError(p.command, e.class ?? 'GenericError', e.desc ?? 'unknown error'));
    } else {
      p.resolve(msg.return);
    }
  }

  #fail(err: Error): void {
    if (this.#closed) return;
    this.#closed = err;
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      this.#pending.delete(id);
      p.reject(err);
    }
    for (const w of [...this.#waiters]) w.reject(err);
  }
}

/** Connects to `path`, runs `fn` with the client and closes it, whatever happens. */
export async function withQmp<T>(path: string, fn: (qmp: QmpClient) => Promise<T>, o: { readonly timeoutMs?: number } = {}): Promise<T> {
  const qmp = await QmpClient.connect(path, o);
  try {
    return await fn(qmp);
  } finally {
    qmp.close();
  }
}
