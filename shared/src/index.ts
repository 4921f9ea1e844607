// The public surface of the project's library.
export * from './envelope';
export * from './events';
export * from './errors';
export * from './config';
export * from './logger';
export * from './metrics';
export * from './store/port';
export * from './messaging/handler';
