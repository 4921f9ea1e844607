// ride-service's composition root: its configuration and its "reacts to → emits" table.
import { ConfigError, loadConfig } from '@ridehail/shared';
import { expect } from 'chai';
import { configSchema, definition } from '../../src/main';

describe('ride-service main', () => {
  it('listens on 3001 unless PORT says otherwise', () => {
    expect(loadConfig(configSchema, {}).PORT).to.equal(3001);
    expect(loadConfig(configSchema, { PORT: '4001' }).PORT).to.equal(4001);
  });

  it('refuses invalid configuration with a message naming the variable', () => {
    expect(() => loadConfig(configSchema, { PORT: 'eighty' })).to.throw(ConfigError, /PORT/);
    expect(() => loadConfig(configSchema, { MONGO_URL: 'http://db' })).to.throw(ConfigError, /MONGO_URL/);
  });

  it('owns the rides database, publishes to ride.events and reacts to the events of DESIGN §2 and §9', () => {
    const def = definition(loadConfig(configSchema, {}));
    expect(def).to.include({ name: 'ride-service', exchange: 'ride.events', database: 'rides' });
    expect(def.collections.map((c) => c.name)).to.have.members(['riders', 'rides', 'riderSummaries', 'idempotencyKeys']);
    expect(def.subscriptions.map((s) => [s.event, s.name])).to.deep.equal([
      ['driver.assigned', 'recordDriverOnDriverAssigned'],
      ['fare.calculated', 'recordFareOnFareCalculated'],
      ['payment.authorized', 'confirmRideOnPaymentAuthorized'],
      ['payment.declined', 'cancelRideOnPaymentDeclined'],
      ['driver.unavailable', 'rejectRideOnDriverUnavailable'],
      ['payment.captured', 'recordPaymentOnPaymentCaptured'],
    ]);
  });
});
