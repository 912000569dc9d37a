/**
 * The RabbitMQ bus (AMQP 0-9-1, amqplib). Layout, after oslo.messaging:
 * - call/cast: durable queues `topic` and `topic.<server>` on the default exchange,
 *   declared by senders too so a cast waits for a server that is not there yet;
 *   casts are persistent and confirmed, calls expire with their timeout;
 * - fanout: a fanout exchange `topic_fanout`, one exclusive queue per server;
 * - replies: an exclusive, auto-delete `reply_<id>` queue per connection, by correlation id;
 * - notifications: topic exchange `nephos` (option `exchange`), routing key
 *   `notifications.<priority>.<event_type>`, one exclusive queue per subscription.
 * Consumers ack only after their handler finished, so a delivery in flight when the
 * connection dies is redelivered: delivery is at least once.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Channel, ConsumeMessage } from 'amqplib';
import { AmqpConnection } from './amqp-connection.js';
import type { Link, PublishTarget, ReconnectOptions } from './amqp-connection.js';
import { ack, Listener } from './amqp-listener.js';
import { BusClosedError, BusTimeoutError } from './errors.js';
import { buildNotification, decode, encode, settleReply, toRequest } from './envelope.js';
import type { RequestBody } from './envelope.js';
import { dispatch, logUnanswered } from './dispatch.js';
import { bindingKeyFor, matchesEventType } from './event-pattern.js';
import type {
  Bus,
  BusContext,
  BusHandlers,
  BusLogger,
  CallOptions,
  CastOptions,
  DeliveryKind,
  Notification,
  NotificationHandler,
  NotifyOptions,
  ServeOptions,
  Subscription,
} from './bus.js';

export interface AmqpBusOptions {
  logger?: BusLogger;
  /** Shown by RabbitMQ as the connection's `connection_name` client property. */
  connectionName?: string;
  /** Default `call` timeout; 60 s. */
  defaultCallTimeoutMs?: number;
  /** How long cast/fanout/notify/serve wait for a connection and a confirm; 30 s. */
  publishTimeoutMs?: number;
  /** How long `AmqpBus.connect` waits for the first connection; 10 s. */
  connectTimeoutMs?: number;
  reconnect?: ReconnectOptions;
  /** Unacknowledged deliveries per consumer; 16. */
  prefetch?: number;
  /** Topic exchange for notifications; `nephos`. */
  exchange?: string;
  /** Default notification `publisher_id`; `nephos.<hostname>`. */
  publisherId?: string;
}

interface PendingCall {
  topic: string;
  method: string;
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

const JSON_TYPE = 'application/json';
const KINDS: readonly string[] = ['call', 'cast', 'fanout'] satisfies DeliveryKind[];

/** A `Bus` over RabbitMQ that survives broker restarts and dropped connections. */
export class AmqpBus implements Bus {
  /** The `connection_name` this bus's connection carries. */
  readonly connectionName: string;
  private readonly connection: AmqpConnection;
  private readonly logger?: BusLogger;
  private readonly defaultCallTimeoutMs: number;
  private readonly publishTimeoutMs: number;
  private readonly exchange: string;
  private readonly publisherId: string;
  private readonly listeners = new Set<Listener>();
  private readonly pending = new Map<string, PendingCall>();
  private closing?: Promise<void>;

  /** Connects (waiting up to `connectTimeoutMs` for the first connection) and returns the bus. */
  static async connect(url: string, opts: AmqpBusOptions = {}): Promise<AmqpBus> {
    const bus = new AmqpBus(url, opts);
    bus.connection.start();
    try {
      await bus.connection.waitForLink(Date.now() + (opts.connectTimeoutMs ?? 10_000), 'connect');
    } catch (err) {
      await bus.close();
      throw err;
    }
    return bus;
  }

  private constructor(url: string, opts: AmqpBusOptions) {
    this.logger = opts.logger;
    this.connectionName = opts.connectionName ?? `nephos:${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.defaultCallTimeoutMs = opts.defaultCallTimeoutMs ?? 60_000;
    this.publishTimeoutMs = opts.publishTimeoutMs ?? 30_000;
    this.exchange = opts.exchange ?? 'nephos';
    this.publisherId = opts.publisherId ?? `nephos.${hostname()}`;
    this.connection = new AmqpConnection(url, {
      connectionName: this.connectionName,
      logger: opts.logger,
      reconnect: opts.reconnect,
      prefetch: opts.prefetch ?? 16,
      onLink: (link) => this.attachAll(link),
      onReply: (id, content) => this.settle(id, content),
    });
  }

  /** True while a connection is up. */
  get connected(): boolean {
    return this.connection.connected;
  }

  /** How many times a working connection was lost (and reconnection began). */
  get connectionLosses(): number {
    return this.connection.losses;
  }

  async call<T = unknown>(topic: string, method: string, args: unknown, opts: CallOptions = {}): Promise<T> {
    this.assertOpen('call');
    const timeoutMs = opts.timeoutMs ?? this.defaultCallTimeoutMs;
    const content = requestContent(method, args);
    const id = randomUUID();
    const result = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new BusTimeoutError(topic, method, timeoutMs, opts.server));
      }, timeoutMs);
      this.pending.set(id, { topic, method, resolve, reject, timer });
    });
    const operation = `call ${topic}.${method}`;
    this.connection
      .publish(operation, Date.now() + timeoutMs, this.queueTarget(topic, opts.server), content, (link) => ({
        messageId: id,
        correlationId: id,
        replyTo: link.replyQueue,
        type: 'call',
        contentType: JSON_TYPE,
        expiration: String(timeoutMs),
        mandatory: true,
      }))
      .catch((err: unknown) => {
        // Unpublished by the deadline: the timer reports it as the timeout it is, unless closed.
        const call = this.pending.get(id);
        if (call && err instanceof BusClosedError) {
          this.pending.delete(id);
          clearTimeout(call.timer);
          call.reject(err);
        }
      });
    return result as Promise<T>;
  }

  async cast(topic: string, method: string, args: unknown, opts: CastOptions = {}): Promise<void> {
    this.assertOpen('cast');
    const content = requestContent(method, args);
    const messageId = randomUUID();
    await this.connection.publish(`cast ${topic}.${method}`, this.publishDeadline(), this.queueTarget(topic, opts.server), content, () => ({
      messageId,
      type: 'cast',
      contentType: JSON_TYPE,
      persistent: true,
      mandatory: true,
    }));
  }

  async fanout(topic: string, method: string, args: unknown): Promise<void> {
    this.assertOpen('fanout');
    const content = requestContent(method, args);
    const exchange = fanoutExchange(topic);
    const target: PublishTarget = {
      exchange,
      routingKey: '',
      declare: { key: `x:${exchange}`, run: (ch) => ch.assertExchange(exchange, 'fanout', { durable: true }) },
    };
    const messageId = randomUUID();
    await this.connection.publish(`fanout ${topic}.${method}`, this.publishDeadline(), target, content, () => ({
      messageId,
      type: 'fanout',
      contentType: JSON_TYPE,
    }));
  }

  async notify(eventType: string, payload: unknown, opts: NotifyOptions = {}): Promise<void> {
    this.assertOpen('notify');
    const priority = opts.priority ?? 'info';
    const notification = buildNotification(eventType, payload, opts.publisherId ?? this.publisherId, priority);
    const target: PublishTarget = {
      exchange: this.exchange,
      routingKey: `notifications.${priority}.${eventType}`,
      declare: { key: `x:${this.exchange}`, run: (ch) => this.declareExchange(ch) },
    };
    await this.connection.publish(`notify ${eventType}`, this.publishDeadline(), target, encode(notification), () => ({
      messageId: notification.message_id,
      contentType: JSON_TYPE,
      persistent: true,
    }));
  }

  async onNotification(pattern: string, handler: NotificationHandler): Promise<Subscription> {
    this.assertOpen('onNotification');
    const queue = `notifications_${randomUUID().replace(/-/g, '')}`;
    const listener = new Listener({
      setup: async (ch) => {
        await this.declareExchange(ch);
        await ch.assertQueue(queue, { exclusive: true, autoDelete: true, durable: false });
        await ch.bindQueue(queue, this.exchange, `notifications.*.${bindingKeyFor(pattern)}`);
        return [queue];
      },
      deliver: async (link, msg) => {
        try {
          const notification = decode(msg.content) as Notification;
          if (matchesEventType(pattern, String(notification.event_type))) await handler(notification);
        } catch (err) {
          this.logger?.error({ pattern, err: describe(err) }, 'bus: notification handler failed');
        }
        ack(link, msg);
      },
      cancelled: (link) => this.connection.drop(link, new Error(`consumer of ${queue} cancelled by the broker`)),
    });
    return this.register(listener, 'onNotification');
  }

  async serve(topic: string, handlers: BusHandlers, opts: ServeOptions = {}): Promise<Subscription> {
    this.assertOpen('serve');
    const server = opts.server;
    const exchange = fanoutExchange(topic);
    const fanoutQueue = `${exchange}_${randomUUID().replace(/-/g, '')}`;
    const listener = new Listener({
      setup: async (ch) => {
        const queues = [topic];
        if (server !== undefined) queues.push(`${topic}.${server}`);
        for (const queue of queues) await ch.assertQueue(queue, { durable: true });
        await ch.assertExchange(exchange, 'fanout', { durable: true });
        await ch.assertQueue(fanoutQueue, { exclusive: true, autoDelete: true, durable: false });
        await ch.bindQueue(fanoutQueue, exchange, '');
        return [...queues, fanoutQueue];
      },
      deliver: (link, msg) => this.handleRequest(link, msg, topic, server, handlers),
      cancelled: (link) => this.connection.drop(link, new Error(`a consumer of topic ${topic} was cancelled by the broker`)),
    });
    return this.register(listener, 'serve');
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const [id, call] of this.pending) {
        clearTimeout(call.timer);
        call.reject(new BusClosedError('call'));
        this.pending.delete(id);
      }
      await Promise.all([...this.listeners].map((l) => l.stop(10_000)));
      this.listeners.clear();
      await this.connection.close();
    })();
    return this.closing;
  }

  private async handleRequest(link: Link, msg: ConsumeMessage, topic: string, server: string | undefined, handlers: BusHandlers): Promise<void> {
    let body: RequestBody;
    try {
      body = toRequest(decode(msg.content));
    } catch (err) {
      this.logger?.error({ topic, err: describe(err) }, 'bus: dropped an undecodable message');
      return ack(link, msg);
    }
    const type = msg.properties.type;
    const kind = (typeof type === 'string' && KINDS.includes(type) ? type : 'cast') as DeliveryKind;
    const ctx: BusContext = {
      topic,
      method: body.method,
      kind,
      server,
      messageId: String(msg.properties.messageId ?? ''),
      redelivered: msg.fields.redelivered,
    };
    const reply = await dispatch(handlers, body.args, ctx);
    const { replyTo, correlationId } = msg.properties;
    if (kind === 'call' && typeof replyTo === 'string' && typeof correlationId === 'string') {
      await sendReply(link, replyTo, correlationId, encode(reply));
    } else {
      logUnanswered(this.logger, reply, ctx);
    }
    ack(link, msg);
  }

  private settle(id: string, content: Buffer): void {
    const call = this.pending.get(id);
    if (!call) return; // too late: timed out already
    this.pending.delete(id);
    clearTimeout(call.timer);
    try {
      call.resolve(settleReply(decode(content), call.topic, call.method));
    } catch (err) {
      call.reject(err as Error);
    }
  }

  private async register(listener: Listener, operation: string): Promise<Subscription> {
    this.listeners.add(listener);
    const deadline = this.publishDeadline();
    for (;;) {
      try {
        const link = await this.connection.waitForLink(deadline, operation);
        await listener.attach(link);
        if (link.alive) break;
      } catch (err) {
        if (this.closing || Date.now() >= deadline) {
          this.listeners.delete(listener);
          await listener.stop(0);
          throw err;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    let stopping: Promise<void> | undefined;
    return {
      stop: () => {
        stopping ??= listener.stop().finally(() => this.listeners.delete(listener));
        return stopping;
      },
    };
  }

  private async attachAll(link: Link): Promise<void> {
    await Promise.all([...this.listeners].map((l) => l.attach(link)));
  }

  private queueTarget(topic: string, server?: string): PublishTarget {
    const queue = server === undefined ? topic : `${topic}.${server}`;
    return {
      exchange: '',
      routingKey: queue,
      declare: { key: `q:${queue}`, run: (ch) => ch.assertQueue(queue, { durable: true }) },
    };
  }

  private declareExchange(ch: Channel): Promise<unknown> {
    return ch.assertExchange(this.exchange, 'topic', { durable: true });
  }

  private publishDeadline(): number {
    return Date.now() + this.publishTimeoutMs;
  }

  private assertOpen(operation: string): void {
    if (this.closing) throw new BusClosedError(operation);
  }
}

function fanoutExchange(topic: string): string {
  return `${topic}_fanout`;
}

function requestContent(method: string, args: unknown): Buffer {
  const body: RequestBody = { method, args: args ?? null };
  return encode(body);
}

/** Best effort: if the connection is gone the request is redelivered and answered again. */
function sendReply(link: Link, replyTo: string, correlationId: string, content: Buffer): Promise<void> {
  if (!link.alive) return Promise.resolve();
  return new Promise<void>((resolve) => {
    try {
      link.pub.publish('', replyTo, content, { correlationId, contentType: JSON_TYPE }, () => resolve());
    } catch {
      resolve();
    }
  });
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
