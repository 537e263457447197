import { wholeNumber } from './arguments';

describe('whole-number arguments', () => {
  it('takes digits (with _ as a separator) in range and refuses anything else before any work', () => {
    const atLeastOne = wholeNumber(1);
    expect(atLeastOne('200_000')).toBe(200000);
    for (const bad of ['abc', '1.5', '-1', '1e3', '0', '', '99999999999999999'])
      expect(() => atLeastOne(bad)).toThrow(/whole number/);
    expect(() => wholeNumber(0, 65535)('70000')).toThrow('must be a whole number from 0 to 65535');
  });
});
