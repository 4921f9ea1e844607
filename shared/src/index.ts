// The public surface of the project's library.
export * from './envelope';
export * from './events';
export * from './errors';
export * from './config';
export * from './logger';
export * from './metrics';
export * from './store/port';
export * from './messaging/handler';
export * from './messaging/dispatch';
export * from './waitFor';
export * from './http/types';
export * from './http/validate';
