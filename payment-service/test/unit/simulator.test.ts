import { expect } from 'chai';
import { TransientGatewayError, type AuthorizeRequest } from '../../src/gateway/gateway';
import { SimulatedGateway, type AuthorizationMade } from '../../src/gateway/simulator';

function request(overrides: Partial<AuthorizeRequest> = {}): AuthorizeRequest {
  return {
    rideId: 'ride-1',
    paymentId: 'pay-1',
    idempotencyKey: 'pay-1',
    amount: 1234,
    currency: 'EUR',
    paymentMethod: 'pm_card_visa',
    attempt: 1,
    ...overrides,
  };
}

describe('the gateway simulator', () => {
  it('tells onAuthorized of each authorization really made: not of an answer repeated for its key, a decline or a transient failure', async () => {
    const made: AuthorizationMade[] = [];
    const gateway = new SimulatedGateway({ onAuthorized: (m) => made.push(m) });
    await gateway.authorize(request());
    await gateway.authorize(request({ attempt: 2 }));
    await gateway.authorize(request({ rideId: 'ride-2', paymentId: 'pay-2', idempotencyKey: 'pay-2', paymentMethod: 'pm_card_declined' }));
    const flaky = request({ rideId: 'ride-3', paymentId: 'pay-3', idempotencyKey: 'pay-3', paymentMethod: 'pm_card_flaky' });
    let transient = 0;
    for (const attempt of [1, 2, 3]) {
      await gateway.authorize({ ...flaky, attempt }).catch((err: unknown) => {
        if (!(err instanceof TransientGatewayError)) throw err;
        transient += 1;
      });
    }
    expect(transient).to.equal(2);
    expect(made.map((m) => [m.paymentId, m.idempotencyKey, m.rideId, m.amount, m.currency])).to.deep.equal([
      ['pay-1', 'pay-1', 'ride-1', 1234, 'EUR'],
      ['pay-3', 'pay-3', 'ride-3', 1234, 'EUR'],
    ]);
    expect(made.every((m) => m.authorizationId.startsWith('auth_'))).to.equal(true);
    expect([...gateway.authorizationsMade()]).to.deep.equal([
      ['pay-1', 1],
      ['pay-3', 1],
    ]);
  });
});
