import { type Logger as BoltLogger, LogLevel } from '@slack/bolt';
import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * carebot's structured logger (JSON lines on stdout). Fields that could carry secrets are redacted
 * by path, in case an error object with request headers or a config object ever gets logged.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'carebot' },
      redact: {
        paths: [
          'token',
          '*.token',
          'headers.authorization',
          '*.headers.authorization',
          'config.headers.Authorization',
          '*.config.headers.Authorization',
          'botToken',
          'appToken',
          'signingSecret',
          'secret',
          '*.secret',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

/** Bolt and the Slack SDKs log through this, so their lines land in the same JSON stream. */
export function boltLogger(base: Logger): BoltLogger {
  let logger = base.child({ component: 'slack' });
  const toBoltLevel: Record<string, LogLevel> = {
    trace: LogLevel.DEBUG,
    debug: LogLevel.DEBUG,
    info: LogLevel.INFO,
    warn: LogLevel.WARN,
    error: LogLevel.ERROR,
    fatal: LogLevel.ERROR,
    silent: LogLevel.ERROR,
  };
  const text = (msg: unknown[]) =>
    redactTokens(msg.map((m) => (typeof m === 'string' ? m : safeString(m))).join(' '));
  return {
    debug: (...msg) => logger.debug(text(msg)),
    info: (...msg) => logger.info(text(msg)),
    warn: (...msg) => logger.warn(text(msg)),
    error: (...msg) => logger.error(text(msg)),
    // carebot's LOG_LEVEL decides; the SDKs' own requests to change it are ignored.
    setLevel: () => {},
    getLevel: () => toBoltLevel[logger.level] ?? LogLevel.INFO,
    setName: (name) => {
      logger = base.child({ component: name });
    },
  };
}

function safeString(value: unknown): string {
  if (value instanceof Error) return value.message;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** Tokens in SDK output (e.g. request options at debug level) never reach the log. */
export function redactTokens(text: string): string {
  return text.replace(/xox[abeprs]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|whsec_[A-Za-z0-9+/=]+/g, '[redacted]');
}
