/** Wire formats shared by both bus implementations: JSON bodies, replies, notifications. */
import { randomUUID } from 'node:crypto';
import { BusRemoteError } from './errors.js';
import type { Notification, NotificationPriority } from './bus.js';

/** The body of a call, cast or fanout message. */
export interface RequestBody {
  method: string;
  args: unknown;
}

/** What a thrown error becomes on the wire. */
export interface RemoteErrorInfo {
  name: string;
  message: string;
  details: Record<string, unknown>;
}

/** The body of a reply to a call. */
export type ReplyBody = { ok: true; result: unknown } | { ok: false; error: RemoteErrorInfo };

/** JSON-encodes a value; `undefined` becomes `null`. Throws on values JSON cannot hold. */
export function encode(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value ?? null));
}

export function decode(content: Buffer): unknown {
  return JSON.parse(content.toString('utf8'));
}

/** Round-trips a value through JSON, so the in-process bus delivers what AMQP would. */
export function jsonClone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value ?? null)) as T;
}

/** Reads a request body, tolerating junk (a method of `''` is then never served). */
export function toRequest(value: unknown): RequestBody {
  const v = (value ?? {}) as Partial<RequestBody>;
  return { method: typeof v.method === 'string' ? v.method : '', args: v.args ?? null };
}

/** Describes a thrown value for the caller: name, message and JSON-safe own properties. */
export function describeError(err: unknown): RemoteErrorInfo {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err), details: {} };
  // A subclass that does not set `name` still says what it is through its constructor.
  const ctorName = (err.constructor as { name?: unknown } | undefined)?.name;
  const name = err.name !== 'Error' ? err.name : typeof ctorName === 'string' && ctorName ? ctorName : 'Error';
  const details: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(err)) {
    if (key === 'name' || key === 'message' || key === 'stack') continue;
    try {
      details[key] = jsonClone(value);
    } catch {
      // Not JSON-representable: the caller cannot use it anyway.
    }
  }
  return { name, message: err.message, details };
}

/** Turns a reply into the call's result, or throws the remote error. */
export function settleReply(reply: unknown, topic: string, method: string): unknown {
  const r = reply as Partial<{ ok: boolean; result: unknown; error: Partial<RemoteErrorInfo> }>;
  if (r && r.ok === true) return r.result ?? null;
  const e = r?.error ?? {};
  throw new BusRemoteError(
    typeof e.name === 'string' ? e.name : 'Error',
    typeof e.message === 'string' ? e.message : 'remote error',
    topic,
    method,
    e.details && typeof e.details === 'object' ? e.details : {},
  );
}

/** The error a server answers with when asked for a method it does not have. */
export function noSuchMethod(topic: string, method: string): Error {
  const err = new Error(`Endpoint on topic "${topic}" does not support RPC method "${method}"`);
  err.name = 'NoSuchMethod';
  return err;
}

/** UTC time as oslo.messaging prints it: `2024-05-01 12:34:56.789000`. */
export function osloTimestamp(date: Date = new Date()): string {
  return `${date.toISOString().slice(0, 23).replace('T', ' ')}000`;
}

/** Builds the OpenStack notification envelope. */
export function buildNotification(
  eventType: string,
  payload: unknown,
  publisherId: string,
  priority: NotificationPriority,
): Notification {
  return {
    message_id: randomUUID(),
    event_type: eventType,
    publisher_id: publisherId,
    priority: priority === 'error' ? 'ERROR' : 'INFO',
    payload: jsonClone(payload),
    timestamp: osloTimestamp(),
  };
}
