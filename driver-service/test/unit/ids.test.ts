import { expect } from 'chai';
import { timeOrderedId } from '../../src/application/ids';

describe('driver ids', () => {
  it('are UUIDv7 strings that sort in creation order, even within one millisecond', () => {
    const ms = Date.parse('2030-01-01T00:00:00.000Z');
    const ids = [timeOrderedId(ms), timeOrderedId(ms), timeOrderedId(ms), timeOrderedId(ms + 1)];
    for (const id of ids) expect(id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).to.deep.equal(ids);
    expect(new Set(ids).size).to.equal(4);
  });
});
