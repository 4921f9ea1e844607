// The connection manager: survives an absent broker, and rebuilds connection and setup after a lost channel.
import { expect } from 'chai';
import type { Channel } from 'amqplib';
import { amqpUrls } from '../../src/config';
import { AmqpConnectionManager } from '../../src/messaging/connection';
import { unreachableReason } from '../../../test/support/rabbit';
import { waitFor } from '../../src/waitFor';
import { testLogger, useBroker } from './support';

describe('broker connection manager when no broker answers', () => {
  it('keeps retrying in the background without throwing, and stops for good on close', async () => {
    // Port 1 on loopback: refused at once, like a broker that is down.
    const manager = new AmqpConnectionManager({
      url: 'amqp://guest:guest@127.0.0.1:1',
      logger: testLogger(),
      name: 'nobody-home',
      maxBackoffMs: 200,
    });
    let setups = 0;
    manager.onConnect(async () => {
      setups += 1;
    });

    manager.start();

    let error: unknown;
    await manager.waitUntilConnected(600).catch((err: unknown) => {
      error = err;
    });
    expect(error).to.be.instanceOf(Error);
    expect(manager.isConnected()).to.equal(false);
    expect(setups).to.equal(0);
    await manager.close();
  });
});

describe('broker connection manager', () => {
  const ctx = useBroker('conn');

  it('runs its setup steps on connect and again after a lost channel, reporting disconnected then connected', async () => {
    const manager = new AmqpConnectionManager({
      url: ctx.broker.url,
      logger: testLogger(),
      name: `${ctx.prefix}conn-test`,
      maxBackoffMs: 500,
    });
    const channels: Channel[] = [];
    const events: string[] = [];
    manager.on('connected', () => events.push('connected'));
    manager.on('disconnected', () => events.push('disconnected'));
    manager.onConnect(async (conn) => {
      channels.push(await manager.openChannel(conn));
    });
    manager.start();
    await manager.waitUntilConnected(10_000);
    expect(channels).to.have.length(1);

    // A channel-level error (404) closes the channel on the broker side: the manager must rebuild, not limp on.
    await channels[0]!.checkQueue(`${ctx.prefix}no-such-queue`).catch(() => undefined);

    await waitFor(() => channels.length === 2 && manager.isConnected(), { description: 'setup to run again on a new connection' });
    expect(events).to.deep.equal(['connected', 'disconnected', 'connected']);
    await manager.close();
    expect(manager.isConnected()).to.equal(false);
    expect(events.at(-1)).to.equal('disconnected');
  });

  it('takes the nodes of a cluster in turn: the first that answers, and after a loss the next one first', async () => {
    // Three "nodes": one that refuses (port 1) and the broker twice under URLs told apart by a harmless parameter.
    let live: string | undefined;
    for (const candidate of amqpUrls(ctx.broker.url)) if (!live && (await unreachableReason(candidate)) === null) live = candidate;
    const node = (heartbeat: number) => {
      const url = new URL(live ?? ctx.broker.url);
      url.searchParams.set('heartbeat', String(heartbeat));
      return url.toString();
    };
    const down = 'amqp://guest:guest@127.0.0.1:1';
    const [b, c] = [node(31), node(32)];
    const manager = new AmqpConnectionManager({
      url: [down, b, c].join(','),
      logger: testLogger(),
      name: `${ctx.prefix}nodes`,
      initialBackoffMs: 20,
      maxBackoffMs: 100,
    });
    const channels: Channel[] = [];
    manager.onConnect(async (conn) => {
      channels.push(await manager.openChannel(conn));
    });
    const seen: (string | undefined)[] = [];
    manager.on('connected', () => seen.push(manager.connectedTo));
    manager.start();
    await manager.waitUntilConnected(10_000);
    const redacted = (url: string) => url.replace(/:guest@/, ':***@');

    // Lost on b: c is tried first. Lost on c: the list wraps to the refusing node, then b.
    for (const expected of [c, b]) {
      const before = channels.length;
      await channels
        .at(-1)!
        .checkQueue(`${ctx.prefix}no-such-queue`)
        .catch(() => undefined);
      await waitFor(() => channels.length === before + 1 && manager.isConnected(), { description: `a reconnect to ${expected}` });
    }
    expect(seen).to.deep.equal([redacted(b), redacted(c), redacted(b)]);
    await manager.close();
    expect(manager.connectedTo).to.equal(undefined);
  });

  it('does not reconnect after close', async () => {
    const manager = new AmqpConnectionManager({
      url: ctx.broker.url,
      logger: testLogger(),
      name: `${ctx.prefix}closing`,
      maxBackoffMs: 100,
    });
    let setups = 0;
    manager.onConnect(async () => {
      setups += 1;
    });
    manager.start();
    await manager.waitUntilConnected(10_000);

    await manager.close();

    let error: unknown;
    await manager.waitUntilConnected(400).catch((err: unknown) => {
      error = err;
    });
    expect(error, 'connected again after close').to.be.instanceOf(Error);
    expect(setups).to.equal(1);
  });
});
