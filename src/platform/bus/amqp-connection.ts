/**
 * One self-healing RabbitMQ connection: a confirm channel to publish on, a channel to
 * consume on, reconnection with bounded exponential backoff, and confirmed publishing
 * that waits out a disconnection (up to a deadline) and retries.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import amqp from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, Options } from 'amqplib';
import { BusClosedError, BusUnavailableError } from './errors.js';
import type { BusLogger } from './bus.js';

/** One connection's lifetime ("generation"): its channels and what was declared on it. */
export interface Link {
  readonly id: number;
  readonly conn: ChannelModel;
  readonly pub: ConfirmChannel;
  readonly sub: Channel;
  /** Exclusive per-connection queue that replies to our calls come to. */
  readonly replyQueue: string;
  alive: boolean;
  /** Queues and exchanges already asserted on this connection. */
  readonly declared: Set<string>;
  /** Message ids the broker returned as unroutable (`mandatory`). */
  readonly returned: Set<string>;
}

export interface ReconnectOptions {
  /** First retry delay; 100 ms. */
  initialDelayMs?: number;
  /** Upper bound of the retry delay; 5 s. */
  maxDelayMs?: number;
}

export interface AmqpConnectionOptions {
  connectionName: string;
  logger?: BusLogger;
  reconnect?: ReconnectOptions;
  /** Unacknowledged deliveries per consumer. */
  prefetch: number;
  /** Called with each new link, after it is usable; a rejection drops the link. */
  onLink(link: Link): Promise<void>;
  /** Called for each reply arriving on a link's reply queue. */
  onReply(correlationId: string, content: Buffer): void;
}

type Waiter = { resolve(link: Link): void; reject(err: Error): void };

/** What a message is published to, and what must exist first. */
export interface PublishTarget {
  exchange: string;
  routingKey: string;
  /** Declares the destination on a fresh link (cached per link by `key`). */
  declare?: { key: string; run(ch: ConfirmChannel): Promise<unknown> };
}

export class AmqpConnection {
  private link?: Link;
  private nextId = 1;
  private connecting?: Promise<void>;
  private closed = false;
  private readonly stopRetrying = new AbortController();
  private readonly waiters = new Set<Waiter>();
  private lastError?: unknown;
  /** How many times a working connection was lost. */
  losses = 0;

  constructor(
    private readonly url: string,
    private readonly opts: AmqpConnectionOptions,
  ) {}

  get connected(): boolean {
    return this.link !== undefined;
  }

  /** The URL without its password, for messages and logs. */
  get safeUrl(): string {
    return redactUrl(this.url);
  }

  /** Starts connecting (and reconnecting whenever the connection is lost). */
  start(): void {
    this.ensureConnecting();
  }

  /** The live link, waiting for one until `deadline` (epoch ms). */
  waitForLink(deadline: number, operation: string): Promise<Link> {
    if (this.closed) return Promise.reject(new BusClosedError(operation));
    if (this.link) return Promise.resolve(this.link);
    const started = Date.now();
    return new Promise<Link>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const ms = Math.max(0, Math.round(deadline - started));
        reject(new BusUnavailableError(`${operation}: no connection to RabbitMQ at ${this.safeUrl} for ${ms} ms${this.describeLastError()}`));
      }, Math.max(0, deadline - started));
      const waiter: Waiter = {
        resolve: (link) => {
          clearTimeout(timer);
          resolve(link);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.waiters.add(waiter);
    });
  }

  /**
   * Publishes and resolves once the broker confirmed; on a lost connection, a nack or an
   * unroutable return it retries on the next link until `deadline`, then rejects with
   * `BusUnavailableError`. A retry may duplicate a message the broker did take, so
   * delivery is at least once.
   */
  async publish(
    operation: string,
    deadline: number,
    target: PublishTarget,
    content: Buffer,
    props: (link: Link) => Options.Publish,
  ): Promise<void> {
    let lastError: unknown;
    for (;;) {
      const link = await this.waitForLink(deadline, operation);
      try {
        if (target.declare && !link.declared.has(target.declare.key)) {
          await target.declare.run(link.pub);
          link.declared.add(target.declare.key);
        }
        await this.confirmed(link, target, content, props(link), deadline);
        return;
      } catch (err) {
        if (this.closed) throw new BusClosedError(operation);
        lastError = err;
        // Declare again next time, in case the destination was deleted behind our back.
        if (target.declare) link.declared.delete(target.declare.key);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new BusUnavailableError(
          `${operation}: not confirmed by RabbitMQ at ${this.safeUrl} in time: ${errorText(lastError)}`,
        );
      }
      this.opts.logger?.warn({ operation, err: errorText(lastError) }, 'bus: publish not confirmed, retrying');
      await sleep(Math.min(200, left));
    }
  }

  /** Closes the connection for good; pending waits reject with `BusClosedError`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopRetrying.abort();
    for (const waiter of this.waiters) waiter.reject(new BusClosedError('waiting for a connection'));
    this.waiters.clear();
    const link = this.link;
    this.link = undefined;
    if (link) {
      link.alive = false;
      await link.conn.close().catch(() => undefined);
    }
    // A connect attempt in flight closes what it opens; do not hang on a slow one.
    if (this.connecting) {
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 2_000);
      });
      await Promise.race([this.connecting.catch(() => undefined), limit]);
      clearTimeout(timer);
    }
  }

  /** Gives up on a link (its channel or connection failed) and reconnects. */
  drop(link: Link, reason: unknown): void {
    if (!link.alive) return;
    link.alive = false;
    if (this.link === link) this.link = undefined;
    link.conn.close().catch(() => undefined);
    if (this.closed) return;
    this.losses += 1;
    this.lastError = reason;
    this.opts.logger?.warn({ connection: this.opts.connectionName, err: errorText(reason) }, 'bus: connection lost, reconnecting');
    this.ensureConnecting();
  }

  private ensureConnecting(): void {
    if (this.connecting || this.closed) return;
    this.connecting = this.connectLoop().finally(() => {
      this.connecting = undefined;
      if (!this.link && !this.closed) this.ensureConnecting();
    });
  }

  private async connectLoop(): Promise<void> {
    const initial = this.opts.reconnect?.initialDelayMs ?? 100;
    const max = Math.max(initial, this.opts.reconnect?.maxDelayMs ?? 5_000);
    // The very first connection is tried at once; after a loss, give the broker a moment.
    const waitFirst = this.losses > 0;
    for (let attempt = 0; !this.closed && !this.link; attempt++) {
      if (attempt > 0 || waitFirst) {
        const base = Math.min(max, initial * 2 ** Math.max(0, waitFirst ? attempt : attempt - 1));
        const delay = Math.min(max, base * (0.8 + Math.random() * 0.4));
        try {
          await sleep(delay, undefined, { signal: this.stopRetrying.signal });
        } catch {
          return; // closed while waiting
        }
      }
      let link: Link;
      try {
        link = await this.open();
      } catch (err) {
        this.lastError = err;
        this.opts.logger?.warn({ url: this.safeUrl, attempt: attempt + 1, err: errorText(err) }, 'bus: cannot connect to RabbitMQ');
        continue;
      }
      if (!link.alive) continue; // lost while opening; drop() has noted why
      if (this.closed) {
        link.alive = false;
        await link.conn.close().catch(() => undefined);
        return;
      }
      this.link = link;
      this.opts.logger?.info({ url: this.safeUrl, connection: this.opts.connectionName, link: link.id }, 'bus: connected to RabbitMQ');
      for (const waiter of this.waiters) waiter.resolve(link);
      this.waiters.clear();
      this.opts.onLink(link).catch((err: unknown) => this.drop(link, err));
    }
  }

  private async open(): Promise<Link> {
    const conn = await amqp.connect(this.url, { clientProperties: { connection_name: this.opts.connectionName } });
    // At once: an 'error' event without a listener would crash the process.
    conn.on('error', (err: Error) => this.opts.logger?.warn({ err: err.message }, 'bus: connection error'));
    try {
      const logChannelError = (err: Error): void => this.opts.logger?.warn({ err: err.message }, 'bus: channel error');
      const pub = await conn.createConfirmChannel();
      pub.on('error', logChannelError);
      const sub = await conn.createChannel();
      sub.on('error', logChannelError);
      await sub.prefetch(this.opts.prefetch);
      // A fresh name each time: the broker may not yet have dropped the old exclusive queue.
      const replyQueue = `reply_${randomUUID().replace(/-/g, '')}`;
      const link: Link = { id: this.nextId++, conn, pub, sub, replyQueue, alive: true, declared: new Set(), returned: new Set() };
      const lost = (reason: unknown): void => this.drop(link, reason);
      conn.on('close', (err?: Error) => lost(err ?? new Error('connection closed')));
      conn.on('blocked', (reason: string) => this.opts.logger?.warn({ reason }, 'bus: RabbitMQ blocked publishing'));
      for (const ch of [pub, sub]) {
        ch.on('close', () => lost(new Error('channel closed')));
      }
      pub.on('return', (msg) => {
        if (typeof msg.properties.messageId === 'string') link.returned.add(msg.properties.messageId);
      });
      await sub.assertQueue(replyQueue, { exclusive: true, autoDelete: true, durable: false });
      await sub.consume(
        replyQueue,
        (msg) => {
          if (msg && typeof msg.properties.correlationId === 'string') this.opts.onReply(msg.properties.correlationId, msg.content);
        },
        { noAck: true },
      );
      return link;
    } catch (err) {
      await conn.close().catch(() => undefined);
      throw err;
    }
  }

  private confirmed(link: Link, target: PublishTarget, content: Buffer, props: Options.Publish, deadline: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no confirm from the broker before the deadline')), Math.max(0, deadline - Date.now()));
      try {
        link.pub.publish(target.exchange, target.routingKey, content, props, (err: unknown) => {
          clearTimeout(timer);
          if (err) reject(err instanceof Error ? err : new Error(String(err)));
          else if (props.messageId !== undefined && link.returned.delete(props.messageId)) {
            reject(new Error(`unroutable: nothing bound for "${target.routingKey}" on exchange "${target.exchange}"`));
          } else resolve();
        });
      } catch (err) {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  private describeLastError(): string {
    return this.lastError === undefined ? '' : ` (last error: ${errorText(this.lastError)})`;
  }
}

/** The URL with its password masked. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<invalid url>';
  }
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
