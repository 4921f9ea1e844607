// winston JSON-line logging; every line carries `service`, and message/request lines their ids.
import winston from 'winston';

export type Logger = winston.Logger;

export interface LogContext {
  correlationId?: string;
  messageId?: string;
  causationId?: string;
  requestId?: string;
  [key: string]: unknown;
}

export function createLogger(service: string, level = 'info'): Logger {
  return winston.createLogger({
    level,
    defaultMeta: { service },
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: false }), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn'] })],
  });
}

/** A child logger whose lines carry the ids of the message or request they are about. */
export function withContext(logger: Logger, context: LogContext): Logger {
  const clean: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(context)) if (v !== undefined) clean[k] = v;
  return logger.child(clean);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
