// Picks the store adapter from configuration: MongoDB when MONGO_URL is set, else the in-memory store (said loudly).
import type { Logger } from '../logger';
import { MemoryStore } from './memory';
import { MongoStore, type MongoStoreOptions } from './mongo';
import type { Store } from './port';

export interface CreateStoreOptions {
  mongoUrl?: string;
  dbName: string;
  logger: Logger;
  /** Extra MongoDB settings (retention windows, change-stream doorbell); ignored by the in-memory store. */
  mongo?: Partial<Omit<MongoStoreOptions, 'url' | 'dbName' | 'logger'>>;
}

export function createStore(opts: CreateStoreOptions): Store {
  if (opts.mongoUrl) {
    return new MongoStore({ ...opts.mongo, url: opts.mongoUrl, dbName: opts.dbName, logger: opts.logger });
  }
  opts.logger.warn('MONGO_URL is not set: using the IN-MEMORY store; data is lost on exit', { database: opts.dbName });
  return new MemoryStore({ name: opts.dbName });
}
