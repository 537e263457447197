import { BinaryArrayWriter } from './binary-arrays';

describe('BinaryArrayWriter refuses what it cannot write exactly', () => {
  it('integers that are not safe, or beyond int4', () => {
    expect(() => new BinaryArrayWriter('int8').int(2 ** 53)).toThrow(RangeError);
    expect(() => new BinaryArrayWriter('int8').int(1.5)).toThrow(RangeError);
    expect(() => new BinaryArrayWriter('int8').int(Number.NaN)).toThrow(RangeError);
    expect(() => new BinaryArrayWriter('int4').int(2147483648)).toThrow(RangeError);
  });

  it('days that are not YYYY-MM-DD calendar days', () => {
    for (const bad of ['2020-02-30', '2020-13-01', '2020-1-01', '20201118', 'x']) {
      expect(() => new BinaryArrayWriter('date').date(bad)).toThrow(RangeError);
    }
  });

  it('an element of another type than the array’s', () => {
    expect(() => new BinaryArrayWriter('int8').text('x')).toThrow(TypeError);
    expect(() => new BinaryArrayWriter('text').int(1)).toThrow(TypeError);
  });
});

describe('BinaryArrayWriter lays out the bytes array_recv reads', () => {
  it('one dimension from 1, NULL as length -1, int8 big-endian', () => {
    const w = new BinaryArrayWriter('int8', 0);
    w.int(-2);
    w.int(null);
    expect(w.finish().toString('hex')).toBe(
      [
        '00000001',
        '00000001',
        '00000014',
        '00000002',
        '00000001',
        '00000008',
        'fffffffffffffffe',
        'ffffffff',
      ].join(''),
    );
  });

  it('an empty array has no dimension', () => {
    expect(new BinaryArrayWriter('text').finish().toString('hex')).toBe('000000000000000000000019');
  });
});
