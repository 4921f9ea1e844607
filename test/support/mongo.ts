// Finds a MongoDB for the lanes that need one: MONGO_URL, else a testcontainers replica set when a container runtime is reachable.
import { containerRuntimeReachable, shared, type Located } from './sharedInfra';
export interface MongoTarget {
  url: string;
  /** Where it came from, for the lane banner (never contains credentials). */
  source: string;
  /** Gives this caller's use back; a container started here stops when its last user stops it. No-op for MONGO_URL. */
  stop(): Promise<void>;
}

export const MONGO_IMAGE = process.env.MONGO_IMAGE ?? 'mongo:7.0';

const leaseMongo = shared(locate);

/** One MongoDB per process, shared by every lane that asks; null when there is none to be had. */
export async function resolveMongo(): Promise<MongoTarget | null> {
  const lease = await leaseMongo();
  if (!lease) return null;
  return { url: lease.found.url, source: lease.found.source, stop: lease.release };
}

async function locate(): Promise<Located | null> {
  const url = process.env.MONGO_URL;
  if (url) return { url, source: `MONGO_URL (${url.replace(/\/\/[^@/]*@/, '//***@')})`, shutdown: async () => undefined };
  if (!(await containerRuntimeReachable())) return null;
  const { MongoDBContainer } = await import('@testcontainers/mongodb');
  // The module starts mongod with --replSet rs0 and initiates it in its health check: transactions work.
  const container = await new MongoDBContainer(MONGO_IMAGE).start();
  return {
    // The replica set advertises the container's own host name; connect directly to the mapped port instead.
    url: `${container.getConnectionString()}/?directConnection=true`,
    source: `testcontainers ${MONGO_IMAGE}`,
    shutdown: async () => {
      await container.stop();
    },
  };
}
