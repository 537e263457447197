import fc from 'fast-check';
import { istanbulIso } from './istanbul-time';

describe('istanbulIso', () => {
  it('writes the SPEC example instant with its +03:00 offset', () => {
    expect(istanbulIso(Date.parse('2020-11-20T05:15:42.120Z'))).toBe('2020-11-20T08:15:42.120+03:00');
    expect(istanbulIso(Date.parse('2020-11-20T21:00:00.000Z'))).toBe('2020-11-21T00:00:00.000+03:00');
    expect(istanbulIso(Date.parse('2020-11-20T20:59:59.999Z'))).toBe('2020-11-20T23:59:59.999+03:00');
  });

  it('equals toISOString shifted by three hours for any whole-millisecond instant of 1971–2099', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1971, 0, 1), max: Date.UTC(2099, 0, 1) }), (ms) => {
        const expected = `${new Date(ms + 3 * 3_600_000).toISOString().slice(0, 23)}+03:00`;
        expect(istanbulIso(ms)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });
});
