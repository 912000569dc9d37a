/** Errors a bus caller can get; each has a stable `name` to branch on. */

/** No reply to a `call` within its timeout. */
export class BusTimeoutError extends Error {
  override readonly name = 'BusTimeoutError';
  constructor(
    readonly topic: string,
    readonly method: string,
    readonly timeoutMs: number,
    readonly server?: string,
  ) {
    const target = server === undefined ? `topic "${topic}"` : `topic "${topic}" server "${server}"`;
    super(`Timed out after ${timeoutMs} ms waiting for a reply to call "${method}" on ${target}`);
  }
}

/** The remote handler threw; `remoteName` and `message` are the remote error's. */
export class BusRemoteError extends Error {
  override readonly name = 'BusRemoteError';
  constructor(
    readonly remoteName: string,
    message: string,
    readonly topic: string,
    readonly method: string,
    /** JSON-safe own properties of the remote error (e.g. `code`, `status`), if any. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The broker could not be reached (or would not confirm) within the allowed time. */
export class BusUnavailableError extends Error {
  override readonly name = 'BusUnavailableError';
}

/** The bus was closed before or while the operation ran. */
export class BusClosedError extends Error {
  override readonly name = 'BusClosedError';
  constructor(operation: string) {
    super(`Message bus is closed (${operation})`);
  }
}
