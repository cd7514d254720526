import { type Logger as BoltLogger, LogLevel } from '@slack/bolt';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** `json`: one JSON object a line, for log collectors. `pretty`: one readable line an event, for a person. */
export type LogFormat = 'json' | 'pretty';

/**
 * LOG_FORMAT when it is set; otherwise readable lines when stdout is a terminal (someone is
 * watching) and JSON lines when it is not (a container's log driver, systemd, a file, a pipe).
 */
export function chooseLogFormat(
  override: LogFormat | undefined,
  stdoutIsTTY: boolean | undefined,
): LogFormat {
  return override ?? (stdoutIsTTY === true ? 'pretty' : 'json');
}

/**
 * carebot's structured logger, on stdout unless `destination` is given. Fields that could carry
 * secrets are redacted by path, in case an error object with request headers or a config object
 * ever gets logged; redaction happens before formatting, so both formats hide the same fields.
 */
export function createLogger(
  level: string,
  destination?: pino.DestinationStream,
  format: LogFormat = 'json',
): Logger {
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
    format === 'pretty' ? prettyLines(destination) : destination,
  );
}

/**
 * pino-pretty in the main thread and writing synchronously (not pino's worker-thread transport), so
 * its lines keep their order with what the process writes to stdout itself: the sandbox's banner
 * and "open http://…" line are not overtaken by log lines that were logged before them.
 */
function prettyLines(destination: pino.DestinationStream | undefined): pino.DestinationStream {
  return pretty({
    destination: destination ?? 1,
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,app',
    singleLine: true,
    // On stdout, colours where pino-pretty's default finds a colour terminal (and NO_COLOR unset);
    // into a given stream (tests), none.
    ...(destination === undefined ? {} : { colorize: false }),
  });
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
