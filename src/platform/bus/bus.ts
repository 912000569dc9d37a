/**
 * The message bus contract shared by every Nephos service: oslo.messaging-style RPC
 * (call, cast, fanout) plus OpenStack notifications. Two implementations exist,
 * in-process (`InProcessBus`) and RabbitMQ (`AmqpBus`); both honour this contract.
 *
 * Arguments, results and payloads cross the bus as JSON, in both implementations, so
 * only JSON-representable values survive (a `Date` arrives as a string, `undefined`
 * as `null` or absent).
 */

export { BusClosedError, BusRemoteError, BusTimeoutError, BusUnavailableError } from './errors.js';

/** How a message reached a server. */
export type DeliveryKind = 'call' | 'cast' | 'fanout';

/** What a server-side handler learns about the message it is handling. */
export interface BusContext {
  topic: string;
  method: string;
  kind: DeliveryKind;
  /** The server name given to `serve`, if any. */
  server?: string;
  /** Unique id of the request message. */
  messageId: string;
  /** True when the broker delivers this message again (e.g. after a lost connection). */
  redelivered: boolean;
}

/** A server-side method; its return value (awaited) is the reply of a `call`. */
export type BusHandler = (args: any, ctx: BusContext) => unknown | Promise<unknown>;

/** Handlers keyed by method name. */
export type BusHandlers = Record<string, BusHandler>;

export interface CallOptions {
  /** How long to wait for the reply; the bus default (60 s unless configured) when absent. */
  timeoutMs?: number;
  /** Route to the one server that serves `topic` under this name (queue `topic.server`). */
  server?: string;
}

export interface CastOptions {
  /** Route to the one server that serves `topic` under this name (queue `topic.server`). */
  server?: string;
}

export interface ServeOptions {
  /** Also listen on `topic.<server>` for server-directed calls and casts. */
  server?: string;
}

/** A running listener; `stop()` stops taking messages and waits for the ones in hand. */
export interface Subscription {
  stop(): Promise<void>;
}

export type NotificationPriority = 'info' | 'error';

export interface NotifyOptions {
  /** Who emits it, e.g. `identity.host1`; the bus default when absent. */
  publisherId?: string;
  /** Default `info`. */
  priority?: NotificationPriority;
}

/** The OpenStack notification envelope, as delivered to `onNotification` handlers. */
export interface Notification<P = unknown> {
  message_id: string;
  event_type: string;
  publisher_id: string;
  /** Upper case, as oslo.messaging sends it: `INFO` or `ERROR`. */
  priority: 'INFO' | 'ERROR';
  payload: P;
  /** UTC, oslo format `YYYY-MM-DD HH:MM:SS.ffffff`. */
  timestamp: string;
}

export type NotificationHandler = (notification: Notification<any>) => unknown | Promise<unknown>;

/** A pino-like logger; pino's `Logger` fits. */
export interface BusLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** The message bus. */
export interface Bus {
  /**
   * RPC to one server of `topic` (or of `topic.<server>`). Resolves with the handler's
   * result; rejects with `BusTimeoutError` when no reply comes in time and with
   * `BusRemoteError` when the handler threw.
   */
  call<T = unknown>(topic: string, method: string, args: unknown, opts?: CallOptions): Promise<T>;
  /**
   * Fire and forget to one server. Resolves once the message is safely queued (broker
   * confirmed, persistent, durable queue); a cast to a topic nobody serves yet waits in
   * its queue until a server comes.
   */
  cast(topic: string, method: string, args: unknown, opts?: CastOptions): Promise<void>;
  /** To every server currently serving `topic`; nobody listening means nobody gets it. */
  fanout(topic: string, method: string, args: unknown): Promise<void>;
  /** Emits an OpenStack notification on the `notifications` topic. */
  notify(eventType: string, payload: unknown, opts?: NotifyOptions): Promise<void>;
  /**
   * Receives the notifications whose `event_type` matches `pattern`: exact, or with `*`
   * standing for any run of characters (dots included), so `identity.*` matches
   * `identity.user.created`. Every subscription gets its own copy.
   */
  onNotification(pattern: string, handler: NotificationHandler): Promise<Subscription>;
  /** Serves calls and casts on `topic` (and `topic.<server>`), and fanouts to `topic`. */
  serve(topic: string, handlers: BusHandlers, opts?: ServeOptions): Promise<Subscription>;
  /** Stops all servers and subscriptions, fails pending calls, disconnects. Idempotent. */
  close(): Promise<void>;
}
