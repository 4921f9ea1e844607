// Runs the store contract against the in-memory adapter: always, on every machine.
import { expect } from 'chai';
import winston from 'winston';
import { Writable } from 'node:stream';
import { createStore } from '../../src/store/factory';
import { MemoryStore } from '../../src/store/memory';
import { announceLane } from '../../../test/support/lanes';
import { contractCollections, storeContract } from './storeContract';

describe('store contract: in-memory adapter', () => {
  before(() => announceLane('contract/memory', 'ran', 'in-memory store'));

  storeContract(() => ({
    async open() {
      const store = new MemoryStore({ name: 'contract' });
      await store.init(contractCollections);
      return store;
    },
    async dispose(store) {
      await store.close();
    },
  }));
});

describe('createStore', () => {
  const captured: { level: string; message: string }[] = [];
  const sink = new Writable({
    objectMode: true,
    write(info: { level: string; message: string }, _encoding, next) {
      captured.push({ level: info.level, message: info.message });
      next();
    },
  });
  const logger = winston.createLogger({ transports: [new winston.transports.Stream({ stream: sink })] });

  it('picks the in-memory store without MONGO_URL, and says so loudly', async () => {
    const store = createStore({ dbName: 'rides', logger });
    expect(store.kind).to.equal('memory');
    expect(captured).to.deep.include({ level: 'warn', message: 'MONGO_URL is not set: using the IN-MEMORY store; data is lost on exit' });
    await store.close();
  });

  it('picks MongoDB when MONGO_URL is set, without leaking credentials into its description', async () => {
    const store = createStore({ mongoUrl: 'mongodb://user:secret@127.0.0.1:1/?replicaSet=rs0', dbName: 'rides', logger });
    expect(store.kind).to.equal('mongodb');
    expect(store.description).to.not.contain('secret');
    expect(store.description).to.contain('rides');
    await store.close();
  });
});
