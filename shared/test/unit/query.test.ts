import { expect } from 'chai';
import { query, sortDocs } from '../../src/store/query';

describe('in-memory query with a limit', () => {
  it('returns exactly the first rows of the full stable sort, for any limit', () => {
    const docs = Array.from({ length: 300 }, (_, i) => ({
      id: `d${i}`,
      owner: i % 3 === 0 ? 'a' : 'b',
      at: `2026-01-0${(i * 7) % 9}`,
      n: (i * 13) % 5,
    }));
    const sort = [
      { field: 'at', direction: -1 as const },
      { field: 'n', direction: 1 as const },
    ];
    const full = sortDocs(
      docs.filter((d) => d.owner === 'a'),
      sort,
    );
    for (const limit of [1, 2, 7, 20, 99, 100, 101, 500]) {
      expect(query(docs, { owner: 'a' }, { sort, limit }).map((d) => d.id)).to.deep.equal(full.slice(0, limit).map((d) => d.id));
    }
  });

  it('keeps natural order and stops at the limit when there is no sort', () => {
    const docs = Array.from({ length: 50 }, (_, i) => ({ id: `d${i}`, even: i % 2 === 0 }));
    expect(query(docs, { even: true }, { limit: 3 }).map((d) => d.id)).to.deep.equal(['d0', 'd2', 'd4']);
  });
});
