// What the lanes give back when they end: broker objects under their prefix, their databases, their targets.
import mongoose from 'mongoose';
import { services } from './system/services';
import type { MongoTarget } from './mongo';
import { deleteDeclared, type RabbitTarget } from './rabbit';

/**
 * Gives back what a lane made: the broker objects under its prefix (only when it reached the broker), its MongoDB
 * databases, and the broker and MongoDB targets themselves (a container, when one was started for the lane).
 */
export async function releaseLaneResources(lane: {
  rabbit?: RabbitTarget;
  brokerPrefix: string;
  /** False when the lane never reached the broker, so it declared nothing there. */
  declared?: boolean;
  mongo?: MongoTarget | null;
  mongoDbPrefix: string;
}): Promise<void> {
  if (lane.rabbit) {
    if (lane.declared !== false) await deleteDeclared(lane.rabbit, lane.brokerPrefix);
    await lane.rabbit.stop();
  }
  if (lane.mongo) {
    await dropLaneDatabases(lane.mongo.url, lane.mongoDbPrefix);
    await lane.mongo.stop();
  }
}

/** Drops the databases the four services kept under `prefix` (MONGO_DB_PREFIX) on the MongoDB at `mongoUrl`. */
export async function dropLaneDatabases(mongoUrl: string, prefix: string): Promise<void> {
  const connection = await mongoose.createConnection(mongoUrl).asPromise();
  for (const s of services) await connection.useDb(`${prefix}${s.database}`).dropDatabase();
  await connection.close();
}
