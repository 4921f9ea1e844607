import { expect } from 'chai';
import { ConfigError, loadConfig } from '@ridehail/shared';
import { configSchema, definition } from '../../src/main';

describe('driver-service configuration', () => {
  it('defaults to port 3002 and a 5 km search radius', () => {
    const config = loadConfig(configSchema, {});
    expect(config.PORT).to.equal(3002);
    expect(config.DRIVER_SEARCH_RADIUS_KM).to.equal(5);
  });

  it('reads DRIVER_SEARCH_RADIUS_KM', () => {
    expect(loadConfig(configSchema, { DRIVER_SEARCH_RADIUS_KM: '2.5' }).DRIVER_SEARCH_RADIUS_KM).to.equal(2.5);
  });

  it('refuses a radius that is not a positive number, naming the variable', () => {
    for (const bad of ['0', '-1', 'far']) {
      expect(() => loadConfig(configSchema, { DRIVER_SEARCH_RADIUS_KM: bad }))
        .to.throw(ConfigError)
        .with.property('message')
        .that.matches(/DRIVER_SEARCH_RADIUS_KM/);
    }
  });

  it('owns the drivers database, publishes to driver.events, and reacts to the events of DESIGN §2 and §9', () => {
    const def = definition(loadConfig(configSchema, {}));
    expect(def).to.include({ name: 'driver-service', database: 'drivers', exchange: 'driver.events' });
    expect(def.subscriptions.map((s) => s.event)).to.have.members([
      'ride.requested',
      'ride.confirmed',
      'ride.completed',
      'ride.cancelled',
      'payment.declined',
      'payment.captured',
      'ride.rated',
    ]);
    expect(def.collections.map((c) => c.name)).to.have.members(['drivers', 'rideAssignments', 'driverTripSummaries']);
  });
});
