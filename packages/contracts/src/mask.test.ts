import fc from 'fast-check';
import { maskCardNo, maskHes, maskPersonalData, maskTc } from './mask';

// Arbitrary strings of every shape: ASCII, any code point, digit runs, with padding.
const anyString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.stringMatching(/^\s*[0-9]{0,20}\s*$/),
  fc.stringMatching(/^\s*[A-Za-z0-9 -]{0,20}\s*$/),
);

describe('maskTc', () => {
  it('keeps only the last 4 digits of a TC kimlik no', () => {
    expect(maskTc('17291716060')).toBe('*******6060');
  });

  it.each([
    ['', '***********'],
    ['1234', '***********'],
    ['1729171', '***********'],
    ['17291716', '**********6'],
    ['1729171606', '********606'],
    ['172917160601234', '*******1234'],
    ['  17291716060\n', '*******6060'],
  ])('masks malformed %j as %s', (input, masked) => {
    expect(maskTc(input)).toBe(masked);
  });

  it('never shows more than a 4-character suffix, and always hides 7 characters', () => {
    fc.assert(
      fc.property(anyString, (input) => {
        const out = maskTc(input);
        expect(out).toHaveLength(11);
        expect(out.startsWith('*******')).toBe(true);
        const shown = out.slice(7).replace(/^\*+/, '');
        const source = input.trim();
        expect(source.endsWith(shown)).toBe(true);
        expect(shown.length).toBeLessThanOrEqual(Math.max(0, source.length - 7));
      }),
    );
  });
});

describe('maskHes', () => {
  it('keeps only the last 2 characters of a HES code', () => {
    expect(maskHes('ABCD1234X9')).toBe('****-****-X9');
    expect(maskHes('ABCD-1234-X9')).toBe('****-****-X9');
  });

  it.each([
    ['', '****-****-**'],
    ['X9', '****-****-**'],
    ['ABCD1234', '****-****-**'],
    ['ABCD12345', '****-****-*5'],
    ['ABCD1234X9ZZZZ', '****-****-ZZ'],
  ])('masks malformed %j as %s', (input, masked) => {
    expect(maskHes(input)).toBe(masked);
  });

  it('never shows more than a 2-character suffix of the code', () => {
    fc.assert(
      fc.property(anyString, (input) => {
        const out = maskHes(input);
        expect(out).toHaveLength(12);
        expect(out.startsWith('****-****-')).toBe(true);
        const shown = out.slice(10).replace(/^\*+/, '');
        const code = input.trim().replace(/[- ]/g, '');
        expect(code.endsWith(shown)).toBe(true);
        expect(shown.length).toBeLessThanOrEqual(Math.max(0, code.length - 8));
      }),
    );
  });
});

describe('maskCardNo', () => {
  it('keeps only the last 4 characters of a card number', () => {
    expect(maskCardNo('0412345678901234')).toBe('************1234');
    expect(maskCardNo('0412ABCD')).toBe('****ABCD');
  });

  it.each([
    ['', '****'],
    ['1234', '****'],
    ['123456', '****56'],
  ])('masks short %j as %s', (input, masked) => {
    expect(maskCardNo(input)).toBe(masked);
  });

  it('never shows more than a 4-character suffix, and always hides at least 4 characters', () => {
    fc.assert(
      fc.property(anyString, (input) => {
        const out = maskCardNo(input);
        const shown = out.replace(/^\*+/, '');
        const source = input.trim();
        expect(shown.length).toBeLessThanOrEqual(Math.min(4, Math.max(0, source.length - 4)));
        expect(source.endsWith(shown)).toBe(true);
        expect(out.length - shown.length).toBeGreaterThanOrEqual(4);
      }),
    );
  });
});

describe('maskPersonalData', () => {
  it('masks TC-like and HES-like values in raw dead-letter bytes', () => {
    const raw = '{"tc":"17291716060","hes":"ABCD-1234-X9","hes2":"abcd1234x9","seq":184467}';
    const masked = maskPersonalData(raw);
    expect(masked).toBe('{"tc":"*******6060","hes":"****-****-X9","hes2":"****-****-x9","seq":184467}');
  });

  it('leaves card numbers of 16 digits and validator ids readable', () => {
    expect(maskPersonalData('0412345678901234 BUS-30412-1')).toBe('0412345678901234 BUS-30412-1');
  });
});
