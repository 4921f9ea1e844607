import { expect } from 'chai';
import { haversineKm } from '@ridehail/shared';
import { quoteFare } from '../../src/domain/fare';
import { tariff } from '../factories';

describe('payment-service fare rule', () => {
  it('measures great-circle distance with the haversine formula', () => {
    const paris = { lat: 48.8566, lng: 2.3522 };
    const london = { lat: 51.5074, lng: -0.1278 };
    expect(haversineKm(paris, london)).to.be.closeTo(343.56, 0.1);
    expect(haversineKm(london, paris)).to.equal(haversineKm(paris, london));
  });

  it('charges base plus per-km over the distance, rounded to integer minor units', () => {
    // One degree of latitude is 111.195 km on a 6371 km sphere: 250 + 120 × 111.195 = 13593.4 → 13593.
    const quote = quoteFare({ lat: 10, lng: 20 }, { lat: 11, lng: 20 }, tariff);
    expect(quote).to.deep.equal({ amount: 13593, currency: 'EUR', distanceKm: 111.195 });
    expect(Number.isInteger(quote.amount)).to.equal(true);
  });

  it('charges only the base for a ride that goes nowhere', () => {
    const here = { lat: 52.52, lng: 13.405 };
    expect(quoteFare(here, here, tariff)).to.deep.equal({ amount: 250, currency: 'EUR', distanceKm: 0 });
  });

  it('uses the configured tariff and currency', () => {
    const quote = quoteFare({ lat: 0, lng: 0 }, { lat: 0, lng: 1 }, { baseMinor: 100, perKmMinor: 10, currency: 'GBP' });
    expect(quote.currency).to.equal('GBP');
    expect(quote.amount).to.equal(Math.round(100 + 10 * quote.distanceKm));
  });
});
