import { expect } from 'chai';
import { holds, newDriver, onTripChange, onTripGuard, release, relocate, reservationFor, type Driver } from '../../../src/domain/driver';
import { distanceKm, fromGeoPoint, toGeoPoint } from '../../../src/domain/geo';
import { aDriverInput, CENTRE, north } from '../../factories';

const T0 = '2030-01-01T10:00:00.000Z';
const T1 = '2030-01-01T10:05:00.000Z';

function reserved(rideId: string, overrides: Partial<Driver> = {}): Driver {
  return { ...newDriver(aDriverInput(), T0), ...reservationFor(rideId, T0), ...overrides };
}

describe('driver domain', () => {
  describe('a new driver', () => {
    it('is AVAILABLE unless created OFFLINE, and keeps its position as a GeoJSON point', () => {
      const d = newDriver(aDriverInput({ location: { lat: 52.5, lng: 13.4 } }), T0);
      expect(d.status).to.equal('AVAILABLE');
      expect(d.version).to.equal(1);
      expect(d.location).to.deep.equal({ type: 'Point', coordinates: [13.4, 52.5] });
      expect(d).not.to.have.property('currentRideId');
      expect(newDriver(aDriverInput({ status: 'OFFLINE' }), T0).status).to.equal('OFFLINE');
    });
  });

  describe('starting a trip', () => {
    it('is guarded on the driver being RESERVED for that very ride, and writes ON_TRIP', () => {
      expect(onTripGuard('d1', 'r1')).to.deep.equal({ id: 'd1', status: 'RESERVED', currentRideId: 'r1' });
      expect(onTripChange(T1)).to.deep.equal({ status: 'ON_TRIP', updatedAt: T1 });
    });
  });

  describe('release', () => {
    for (const status of ['RESERVED', 'ON_TRIP'] as const) {
      it(`frees a driver ${status} for that ride, clearing currentRideId`, () => {
        const next = release(reserved('r1', { status }), 'r1', T1);
        expect(next?.status).to.equal('AVAILABLE');
        expect(next).not.to.have.property('currentRideId');
        expect(next?.version).to.equal(1, 'the store, not the domain, bumps the version');
      });
    }

    it('never touches a driver that holds a different ride', () => {
      expect(release(reserved('r2'), 'r1', T1)).to.equal(null);
      expect(release(reserved('r2', { status: 'ON_TRIP' }), 'r1', T1)).to.equal(null);
    });

    it('never touches a driver already released, or OFFLINE', () => {
      const free = release(reserved('r1'), 'r1', T1);
      expect(free).not.to.equal(null);
      expect(release(free as Driver, 'r1', T1)).to.equal(null);
      expect(release(newDriver(aDriverInput({ status: 'OFFLINE' }), T0), 'r1', T1)).to.equal(null);
    });

    it('holds() is true only for RESERVED/ON_TRIP with that ride', () => {
      expect(holds(reserved('r1'), 'r1')).to.equal(true);
      expect(holds(reserved('r1'), 'r2')).to.equal(false);
      expect(holds(reserved('r1', { status: 'AVAILABLE' }), 'r1')).to.equal(false);
    });
  });

  describe('relocate', () => {
    it('changes only the position, in any status', () => {
      const d = reserved('r1', { status: 'ON_TRIP' });
      const moved = relocate(d, { lat: 1, lng: 2 }, T1);
      expect(moved.location).to.deep.equal({ type: 'Point', coordinates: [2, 1] });
      expect(moved.status).to.equal('ON_TRIP');
      expect(moved.currentRideId).to.equal('r1');
    });
  });

  describe('geo', () => {
    it('converts {lat,lng} to GeoJSON and back', () => {
      expect(fromGeoPoint(toGeoPoint({ lat: -33.9, lng: 151.2 }))).to.deep.equal({ lat: -33.9, lng: 151.2 });
    });

    it('measures great-circle distances in km', () => {
      expect(distanceKm(CENTRE, CENTRE)).to.equal(0);
      expect(distanceKm(CENTRE, north(3))).to.be.closeTo(3, 0.01);
    });
  });
});
