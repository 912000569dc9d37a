/**
 * The in-process bus: the same contract as the RabbitMQ bus, with Maps for queues.
 * Buses built on one `InProcessBroker` talk to each other, like processes sharing a broker.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { BusClosedError, BusTimeoutError } from './errors.js';
import { buildNotification, jsonClone, settleReply } from './envelope.js';
import type { ReplyBody, RequestBody } from './envelope.js';
import { dispatch, InFlight, logUnanswered } from './dispatch.js';
import { matchesEventType } from './event-pattern.js';
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

interface Envelope {
  kind: DeliveryKind;
  messageId: string;
  /** JSON of the `RequestBody`, parsed anew for every delivery so handlers never share objects. */
  json: string;
  /** A call's request dies with its caller's timeout, as an AMQP `expiration` would make it. */
  expiresAt?: number;
  reply?: (reply: ReplyBody) => void;
}

type Consumer = (message: Envelope) => void;

interface Queue {
  messages: Envelope[];
  consumers: Consumer[];
  next: number;
}

interface NotificationListener {
  pattern: string;
  deliver(notification: Notification): void;
}

/** The shared state of in-process buses: durable queues, fanout groups, notification listeners. */
export class InProcessBroker {
  private readonly queues = new Map<string, Queue>();
  private readonly fanouts = new Map<string, Set<Consumer>>();
  private readonly listeners = new Set<NotificationListener>();

  /** Queues a message for one consumer of `queueName`, keeping it until one comes. */
  enqueue(queueName: string, message: Envelope): void {
    const queue = this.queue(queueName);
    queue.messages.push(message);
    this.pump(queue);
  }

  /** Adds a competing consumer; returns its cancel function. */
  consume(queueName: string, consumer: Consumer): () => void {
    const queue = this.queue(queueName);
    queue.consumers.push(consumer);
    this.pump(queue);
    return () => {
      queue.consumers = queue.consumers.filter((c) => c !== consumer);
    };
  }

  /** Number of messages waiting in a queue (for tests and diagnostics). */
  depth(queueName: string): number {
    return this.queues.get(queueName)?.messages.length ?? 0;
  }

  publishFanout(topic: string, message: Envelope): void {
    for (const consumer of this.fanouts.get(topic) ?? []) consumer(message);
  }

  listenFanout(topic: string, consumer: Consumer): () => void {
    let group = this.fanouts.get(topic);
    if (!group) this.fanouts.set(topic, (group = new Set()));
    group.add(consumer);
    return () => {
      group.delete(consumer);
    };
  }

  publishNotification(notification: Notification): void {
    for (const listener of this.listeners) {
      if (matchesEventType(listener.pattern, notification.event_type)) listener.deliver(notification);
    }
  }

  listenNotifications(listener: NotificationListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) this.queues.set(name, (queue = { messages: [], consumers: [], next: 0 }));
    return queue;
  }

  private pump(queue: Queue): void {
    while (queue.messages.length > 0 && queue.consumers.length > 0) {
      const message = queue.messages.shift() as Envelope;
      if (message.expiresAt !== undefined && message.expiresAt <= Date.now()) continue;
      queue.next = (queue.next + 1) % queue.consumers.length;
      queue.consumers[queue.next](message);
    }
  }
}

export interface InProcessBusOptions {
  /** Share one broker between buses to let them reach each other; a private one otherwise. */
  broker?: InProcessBroker;
  logger?: BusLogger;
  /** Default `call` timeout; 60 s. */
  defaultCallTimeoutMs?: number;
  /** Default notification `publisher_id`; `nephos.<hostname>`. */
  publisherId?: string;
}

interface PendingCall {
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** A `Bus` whose messages never leave the process. */
export class InProcessBus implements Bus {
  readonly broker: InProcessBroker;
  private readonly logger?: BusLogger;
  private readonly defaultCallTimeoutMs: number;
  private readonly publisherId: string;
  private readonly subscriptions = new Set<Subscription>();
  private readonly pending = new Map<string, PendingCall>();
  private closing?: Promise<void>;

  constructor(opts: InProcessBusOptions = {}) {
    this.broker = opts.broker ?? new InProcessBroker();
    this.logger = opts.logger;
    this.defaultCallTimeoutMs = opts.defaultCallTimeoutMs ?? 60_000;
    this.publisherId = opts.publisherId ?? `nephos.${hostname()}`;
  }

  async call<T = unknown>(topic: string, method: string, args: unknown, opts: CallOptions = {}): Promise<T> {
    this.assertOpen('call');
    const timeoutMs = opts.timeoutMs ?? this.defaultCallTimeoutMs;
    const json = requestJson(method, args);
    const messageId = randomUUID();
    return new Promise<T>((resolve, reject) => {
      const reply = (body: ReplyBody): void => {
        if (!this.pending.delete(messageId)) return; // timed out or closed meanwhile
        clearTimeout(timer);
        try {
          resolve(settleReply(body, topic, method) as T);
        } catch (err) {
          reject(err as Error);
        }
      };
      const message: Envelope = { kind: 'call', messageId, json, expiresAt: Date.now() + timeoutMs, reply };
      const timer = setTimeout(() => {
        this.pending.delete(messageId);
        // A timer may fire a millisecond before the clock reaches expiresAt: the request dies with the call all the same.
        message.expiresAt = 0;
        reject(new BusTimeoutError(topic, method, timeoutMs, opts.server));
      }, timeoutMs);
      this.pending.set(messageId, { reject, timer });
      this.broker.enqueue(queueName(topic, opts.server), message);
    });
  }

  async cast(topic: string, method: string, args: unknown, opts: CastOptions = {}): Promise<void> {
    this.assertOpen('cast');
    const json = requestJson(method, args);
    this.broker.enqueue(queueName(topic, opts.server), { kind: 'cast', messageId: randomUUID(), json });
  }

  async fanout(topic: string, method: string, args: unknown): Promise<void> {
    this.assertOpen('fanout');
    const json = requestJson(method, args);
    this.broker.publishFanout(topic, { kind: 'fanout', messageId: randomUUID(), json });
  }

  async notify(eventType: string, payload: unknown, opts: NotifyOptions = {}): Promise<void> {
    this.assertOpen('notify');
    const notification = buildNotification(eventType, payload, opts.publisherId ?? this.publisherId, opts.priority ?? 'info');
    this.broker.publishNotification(notification);
  }

  async onNotification(pattern: string, handler: NotificationHandler): Promise<Subscription> {
    this.assertOpen('onNotification');
    const inFlight = new InFlight();
    const cancel = this.broker.listenNotifications({
      pattern,
      deliver: (notification) => {
        const copy = jsonClone(notification);
        void inFlight.track(
          nextTurn()
            .then(() => handler(copy))
            .catch((err: unknown) => {
              this.logger?.error({ pattern, event_type: copy.event_type, err }, 'bus: notification handler failed');
            }),
        );
      },
    });
    return this.track(async () => {
      cancel();
      await inFlight.drain();
    });
  }

  async serve(topic: string, handlers: BusHandlers, opts: ServeOptions = {}): Promise<Subscription> {
    this.assertOpen('serve');
    const inFlight = new InFlight();
    const consumer: Consumer = (message) => {
      void inFlight.track(nextTurn().then(() => this.handle(topic, opts.server, handlers, message)));
    };
    const cancels = [this.broker.consume(topic, consumer), this.broker.listenFanout(topic, consumer)];
    if (opts.server !== undefined) cancels.push(this.broker.consume(queueName(topic, opts.server), consumer));
    return this.track(async () => {
      for (const cancel of cancels) cancel();
      await inFlight.drain();
    });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const [id, call] of this.pending) {
        clearTimeout(call.timer);
        call.reject(new BusClosedError('call'));
        this.pending.delete(id);
      }
      await Promise.all([...this.subscriptions].map((s) => s.stop()));
    })();
    return this.closing;
  }

  private async handle(topic: string, server: string | undefined, handlers: BusHandlers, message: Envelope): Promise<void> {
    const body = JSON.parse(message.json) as RequestBody;
    const ctx: BusContext = { topic, method: body.method, kind: message.kind, server, messageId: message.messageId, redelivered: false };
    const reply = await dispatch(handlers, body.args, ctx);
    if (message.reply) message.reply(reply);
    else logUnanswered(this.logger, reply, ctx);
  }

  private track(stopWork: () => Promise<void>): Subscription {
    let stopping: Promise<void> | undefined;
    const subscription: Subscription = {
      stop: () => {
        stopping ??= stopWork().finally(() => this.subscriptions.delete(subscription));
        return stopping;
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  private assertOpen(operation: string): void {
    if (this.closing) throw new BusClosedError(operation);
  }
}

function queueName(topic: string, server?: string): string {
  return server === undefined ? topic : `${topic}.${server}`;
}

function requestJson(method: string, args: unknown): string {
  const body: RequestBody = { method, args: args ?? null };
  return JSON.stringify(body);
}

/** Lets the sender's promise settle before the handler runs, as with a real broker. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
