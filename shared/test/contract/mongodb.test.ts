// Runs the store contract against MongoDB: MONGO_URL, or a container when Docker is there; otherwise says loudly it did not run.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import Mocha from 'mocha';
import mongoose from 'mongoose';
import { createEnvelope } from '../../src/envelope';
import { MongoStore } from '../../src/store/mongo';
import type { Store } from '../../src/store/port';
import { waitFor } from '../../src/waitFor';
import { announceLane } from '../../../test/support/lanes';
import { resolveMongo, type MongoTarget } from '../../../test/support/mongo';
import { contractCollections, storeContract, widgets } from './storeContract';

const LANE = 'contract/mongodb';
const runId = randomUUID().slice(0, 8);
let dbCounter = 0;
const nextDbName = () => `contract_${runId}_${++dbCounter}`;

describe('store contract: MongoDB adapter', function () {
  this.timeout(180_000);
  let target: MongoTarget | null = null;
  const needMongo: Mocha.Suite[] = [];

  before(async function () {
    target = await resolveMongo();
    if (target) {
      announceLane(LANE, 'ran', target.source);
      return;
    }
    announceLane(LANE, 'did not run', 'no MONGO_URL, no Docker');
    // Replace every test by ONE pending test, so the report shows the lane as not run rather than passing.
    for (const suite of needMongo) {
      suite.tests = [];
      suite.suites = [];
    }
    this.test!.parent!.addTest(new Mocha.Test(`${LANE}: did not run (no MONGO_URL, no Docker)`));
  });

  after(async () => {
    if (target) await target.stop();
  });

  needMongo.push(
    describe('contract', () => {
      storeContract(() => ({
        async open(): Promise<Store> {
          const store = new MongoStore({ url: target!.url, dbName: nextDbName() });
          await store.init(contractCollections);
          return store;
        },
        async dispose(store: Store): Promise<void> {
          const mongo = store as MongoStore;
          await mongo.dropDatabase();
          await mongo.close();
        },
      }));
    }),
  );

  needMongo.push(
    describe('MongoDB specifics', () => {
      let dbName: string;
      let store: MongoStore;
      let raw: mongoose.Connection;

      beforeEach(async () => {
        dbName = nextDbName();
        store = new MongoStore({ url: target!.url, dbName, outboxRetentionSeconds: 3600, inboxRetentionSeconds: 7200 });
        await store.init(contractCollections);
        raw = await mongoose.createConnection(target!.url, { dbName }).asPromise();
      });

      afterEach(async () => {
        await store.dropDatabase();
        await store.close();
        await raw.close();
      });

      const indexesOf = async (collection: string) => raw.db!.collection(collection).listIndexes().toArray();

      it('creates the collections and indexes at init, including outbox and inbox with their TTLs, idempotently', async () => {
        await store.init(contractCollections);
        const names = (await raw.db!.listCollections().toArray()).map((c) => c.name);
        expect(names).to.include.members(['outbox', 'inbox', 'widgets', 'counters', 'cabs']);
        const outbox = await indexesOf('outbox');
        expect(outbox.map((i) => i.key)).to.deep.include({ status: 1, occurredAt: 1 });
        expect(outbox.find((i) => i.key.dispatchedAt === 1)?.expireAfterSeconds).to.equal(3600);
        expect((await indexesOf('inbox')).find((i) => i.key.processedAt === 1)?.expireAfterSeconds).to.equal(7200);
        expect((await indexesOf('widgets')).find((i) => i.key.sku === 1)?.unique).to.equal(true);
        expect((await indexesOf('cabs')).some((i) => i.key.location === '2dsphere')).to.equal(true);
      });

      it('adjusts the TTL of an existing outbox index when the retention changes', async () => {
        const other = new MongoStore({ url: target!.url, dbName, outboxRetentionSeconds: 60 });
        await other.init(contractCollections);
        await other.close();
        expect((await indexesOf('outbox')).find((i) => i.key.dispatchedAt === 1)?.expireAfterSeconds).to.equal(60);
      });

      it('stores the domain id as _id, and inbox records under "consumer:messageId"', async () => {
        const messageId = randomUUID();
        await store.run(async (tx) => {
          await tx.repo(widgets).insert({ id: 'w-1', version: 1, sku: 's-1', kind: 'k', rank: 1, createdAt: new Date().toISOString() });
          await tx.inbox.record('driver-service', messageId, 'ride.requested');
        });
        const stored = await raw.db!.collection<{ _id: string }>('widgets').findOne({ _id: 'w-1' });
        expect(stored).to.not.equal(null);
        expect(stored).to.not.have.property('id');
        const inbox = await raw.db!.collection<{ _id: string }>('inbox').findOne({ _id: `driver-service:${messageId}` });
        expect(inbox).to.include({ consumer: 'driver-service', messageId, type: 'ride.requested' });
        expect((inbox as unknown as { processedAt: unknown }).processedAt).to.be.instanceOf(Date);
      });

      it('with the change-stream doorbell, wakes the relay for outbox rows committed by another process', async () => {
        const watcher = new MongoStore({ url: target!.url, dbName, changeStreamDoorbell: true });
        await watcher.init(contractCollections);
        let rung = 0;
        watcher.outbox.onNewMessages(() => {
          rung += 1;
        });
        try {
          // The stream starts asynchronously: keep committing until one insert rings the doorbell.
          await waitFor(
            async () => {
              await store.run((tx) =>
                tx.outbox.add(
                  createEnvelope({
                    type: 'ride.rated',
                    source: 'ride-service',
                    correlationId: 'r',
                    payload: { rideId: 'r', riderId: 'u', driverId: 'd', stars: 4 },
                  }),
                ),
              );
              return rung > 0;
            },
            { timeoutMs: 10_000, intervalMs: 200, description: 'the outbox change stream to ring' },
          );
        } finally {
          await watcher.close();
        }
      });

      it('reports unhealthy once closed', async () => {
        const other = new MongoStore({ url: target!.url, dbName });
        await other.init([]);
        expect(await other.isHealthy()).to.equal(true);
        await other.close();
        expect(await other.isHealthy()).to.equal(false);
      });
    }),
  );
});
