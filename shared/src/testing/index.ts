// @ridehail/shared/testing: what the services' handler and route tests share; no service's src may import it.
export * from './builders';
export * from './harness';
export * from './http';
