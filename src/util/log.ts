import { pino, destination, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stderr, so stdout stays free for command output. */
export function createLogger(level: string = process.env.ARCHWAY_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: undefined }, destination(2));
}

/** For tests and library use where nothing should be printed. */
export const silentLogger: Logger = pino({ level: 'silent' });
