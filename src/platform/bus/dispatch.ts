/** Server-side dispatch shared by both implementations: find the handler, run it, shape the reply. */
import { describeError, jsonClone, noSuchMethod } from './envelope.js';
import type { ReplyBody } from './envelope.js';
import type { BusContext, BusHandlers, BusLogger } from './bus.js';

/** Runs the handler for `ctx.method`; never throws, a failure becomes an error reply. */
export async function dispatch(handlers: BusHandlers, args: unknown, ctx: BusContext): Promise<ReplyBody> {
  const handler = Object.prototype.hasOwnProperty.call(handlers, ctx.method) ? handlers[ctx.method] : undefined;
  try {
    if (typeof handler !== 'function') throw noSuchMethod(ctx.topic, ctx.method);
    // The clone makes an unserialisable result fail here, as an error reply, on both buses.
    return { ok: true, result: jsonClone(await handler(args, ctx)) };
  } catch (err) {
    return { ok: false, error: describeError(err) };
  }
}

/** Logs a failed cast or fanout, whose sender cannot be told. */
export function logUnanswered(logger: BusLogger | undefined, reply: ReplyBody, ctx: BusContext): void {
  if (reply.ok || !logger) return;
  logger.error(
    { topic: ctx.topic, method: ctx.method, kind: ctx.kind, server: ctx.server, error: reply.error },
    `bus: ${ctx.kind} handler failed`,
  );
}

/** Tracks the handlers running for one listener so `stop()` can wait for them. */
export class InFlight {
  private readonly running = new Set<Promise<unknown>>();

  track<T>(work: Promise<T>): Promise<T> {
    this.running.add(work);
    const done = (): void => {
      this.running.delete(work);
    };
    work.then(done, done);
    return work;
  }

  /** Resolves when every handler started so far has finished (or after `maxMs`). */
  async drain(maxMs = 30_000): Promise<void> {
    if (this.running.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, maxMs);
    });
    await Promise.race([Promise.allSettled([...this.running]).then(() => undefined), limit]);
    clearTimeout(timer);
  }
}
