import pino, { type Logger } from 'pino';

/** A structured (JSON) logger; to a file when `file` is given, else to stdout. */
export function createLogger(opts: { level?: string; file?: string; name?: string } = {}): Logger {
  const dest = opts.file ? pino.destination({ dest: opts.file, mkdir: true, sync: false }) : pino.destination(1);
  return pino({ name: opts.name ?? 'nephos', level: opts.level ?? 'info', base: { pid: process.pid } }, dest);
}

/** A logger that writes nothing (tests that do not look at logs). */
export const silentLogger = (): Logger => pino({ level: 'silent' });
export type { Logger };
