/** The Nephos message bus: `createBus` picks the implementation from a URL. */
import { AmqpBus } from './amqp.js';
import type { AmqpBusOptions } from './amqp.js';
import { InProcessBus } from './in-process.js';
import type { InProcessBroker } from './in-process.js';
import type { Bus } from './bus.js';

export type * from './bus.js';
export { BusClosedError, BusRemoteError, BusTimeoutError, BusUnavailableError } from './errors.js';
export { AmqpBus } from './amqp.js';
export type { AmqpBusOptions } from './amqp.js';
export type { ReconnectOptions } from './amqp-connection.js';
export { InProcessBroker, InProcessBus } from './in-process.js';
export type { InProcessBusOptions } from './in-process.js';

export interface CreateBusOptions extends AmqpBusOptions {
  /** In-process only: share a broker between buses so they reach each other. */
  broker?: InProcessBroker;
}

/**
 * Makes the bus for `url`: `undefined`, `''` or `memory://` gives an `InProcessBus`;
 * `amqp://` or `amqps://` an `AmqpBus`, connected (rejects if RabbitMQ cannot be reached
 * within `connectTimeoutMs`).
 */
export async function createBus(url: string | undefined, opts: CreateBusOptions = {}): Promise<Bus> {
  if (url === undefined || url === '' || url === 'memory://') {
    return new InProcessBus({
      broker: opts.broker,
      logger: opts.logger,
      defaultCallTimeoutMs: opts.defaultCallTimeoutMs,
      publisherId: opts.publisherId,
    });
  }
  if (/^amqps?:\/\//i.test(url)) return AmqpBus.connect(url, opts);
  throw new Error(`Unsupported message bus URL "${url.replace(/\/\/[^@/]*@/, '//***@')}": use memory:// or amqp://`);
}
