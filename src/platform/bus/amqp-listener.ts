/** A set of consumers (a server or a notification subscription) that is re-made on every new connection. */
import type { Channel, ConsumeMessage } from 'amqplib';
import { InFlight } from './dispatch.js';
import type { Link } from './amqp-connection.js';

export interface ListenerSpec {
  /** Declares what to consume on a fresh channel; returns the queue names. */
  setup(ch: Channel): Promise<string[]>;
  /** Handles one delivery; must ack it (see `ack`) once done. */
  deliver(link: Link, msg: ConsumeMessage): Promise<void>;
  /** The broker cancelled a consumer (its queue was deleted). */
  cancelled(link: Link): void;
}

export class Listener {
  private stopped = false;
  private attachment?: { link: Link; done: Promise<void>; tags: string[] };
  private readonly inFlight = new InFlight();

  constructor(private readonly spec: ListenerSpec) {}

  /** Declares and consumes on `link`; once per link, however often it is asked. */
  attach(link: Link): Promise<void> {
    if (this.attachment?.link === link) return this.attachment.done;
    const tags: string[] = [];
    const done = (async () => {
      if (this.stopped) return;
      const queues = await this.spec.setup(link.sub);
      for (const queue of queues) {
        if (this.stopped) return;
        const { consumerTag } = await link.sub.consume(queue, (msg) => {
          if (!msg) return this.spec.cancelled(link);
          if (this.stopped) return nack(link, msg);
          void this.inFlight.track(this.spec.deliver(link, msg));
        });
        tags.push(consumerTag);
      }
    })();
    this.attachment = { link, done, tags };
    return done;
  }

  /** Cancels the consumers, then waits for the handlers in progress (they ack as usual). */
  async stop(maxWaitMs?: number): Promise<void> {
    this.stopped = true;
    const attachment = this.attachment;
    if (attachment?.link.alive) {
      await attachment.done.catch(() => undefined);
      for (const tag of attachment.tags) await attachment.link.sub.cancel(tag).catch(() => undefined);
    }
    await this.inFlight.drain(maxWaitMs);
  }
}

/** Acknowledges on the channel the message came from; a dead channel means the broker redelivers. */
export function ack(link: Link, msg: ConsumeMessage): void {
  if (!link.alive) return;
  try {
    link.sub.ack(msg);
  } catch {
    // The channel died meanwhile: the broker requeues the message, which is what we want.
  }
}

function nack(link: Link, msg: ConsumeMessage): void {
  if (!link.alive) return;
  try {
    link.sub.nack(msg, false, true);
  } catch {
    // As in ack().
  }
}
