// Errors that carry a code; HTTP maps them to problem+json in one place (http/problem.ts).
export type ErrorCode =
  | 'validation'
  | 'not-found'
  | 'conflict'
  | 'forbidden'
  | 'rider-inactive'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'malformed-json'
  | 'concurrency'
  | 'duplicate-key'
  | 'duplicate-message'
  | 'config'
  | 'unavailable';

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class NotFoundError extends AppError {
  constructor(what: string, id: string) {
    super('not-found', `${what} ${id} not found`, { id });
  }
}

export class ConflictError extends AppError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('conflict', message, details);
  }
}

/** A write lost an optimistic-concurrency race; the unit of work retries the whole work. */
export class ConcurrencyError extends AppError {
  constructor(collection: string, id: string, expectedVersion: number) {
    super('concurrency', `${collection} ${id} changed since version ${expectedVersion}`, { collection, id, expectedVersion });
  }
}

/** A unique constraint (including `_id`) was violated; the transaction that hit it is aborted. */
export class DuplicateKeyError extends AppError {
  constructor(collection: string, key: string) {
    super('duplicate-key', `duplicate key in ${collection}: ${key}`, { collection, key });
  }
}

/** The inbox already holds (consumer, messageId): the message was processed before and is acked without effect. */
export class DuplicateMessageError extends AppError {
  constructor(consumer: string, messageId: string) {
    super('duplicate-message', `${consumer} already processed ${messageId}`, { consumer, messageId });
  }
}

export class ConfigError extends AppError {
  constructor(message: string) {
    super('config', message);
  }
}
