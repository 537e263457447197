import { SlabPool } from './slab-pool';

describe('SlabPool', () => {
  it('hands a slab given back out again, instead of making another', () => {
    const pool = new SlabPool(1024);
    const a = pool.buffer(100);
    expect(a.length).toBe(100);
    pool.give(a);
    const b = pool.buffer(1024);
    expect(b.buffer).toBe(a.buffer);
    const ints = pool.int32s(256);
    expect(ints.length).toBe(256);
    expect(ints.buffer).not.toBe(a.buffer);
    expect([pool.made, pool.out]).toEqual([2, 2]);
  });

  it('gives a request larger than a slab a buffer of its own, left to the collector', () => {
    const pool = new SlabPool(1024);
    const big = pool.buffer(4096);
    expect(big.length).toBe(4096);
    const ints = pool.int32s(1000);
    pool.give(big);
    pool.give(ints);
    expect([pool.made, pool.out]).toEqual([0, 0]);
  });

  it('refuses a slab given back twice: two batches would share it', () => {
    const pool = new SlabPool(1024);
    const a = pool.buffer(10);
    pool.give(a);
    expect(() => pool.give(a)).toThrow('a slab was given back that is not out');
    // A view of a slab counts as the slab.
    const b = pool.buffer(10);
    pool.give(b.subarray(2, 5));
    expect(() => pool.give(b)).toThrow('not out');
  });
});
