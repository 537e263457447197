import { CardKind, CardNo, normaliseCardKind, normaliseCardNo } from './card-no';

describe('normaliseCardNo', () => {
  it.each([
    ['0412345678901234', '0412345678901234'],
    [' 0412abcdef\n', '0412ABCDEF'],
    ['12345678', '12345678'],
    ['ABCDEF0123456789ABCD', 'ABCDEF0123456789ABCD'],
  ])('normalises %j to %s', (input, value) => {
    expect(normaliseCardNo(input)).toEqual({ ok: true, value });
  });

  it.each([
    ['too short', '1234567'],
    ['too long', 'ABCDEF0123456789ABCDE'],
    ['not hex', '0412XYZ678'],
    ['inner space', '0412 345678'],
    ['inner dash', '0412-345678'],
    ['empty', ''],
  ])('rejects a card number that is %s', (_case, input) => {
    expect(normaliseCardNo(input)).toEqual({ ok: false, reason: 'CARD_NO_INVALID' });
  });
});

describe('CardNo schema', () => {
  it('outputs the normalised number', () => {
    expect(CardNo.parse('0412abcdef')).toBe('0412ABCDEF');
  });
});

describe('card kind', () => {
  it('accepts PERSONAL and ANONYMOUS exactly in the schema', () => {
    expect(CardKind.parse('PERSONAL')).toBe('PERSONAL');
    expect(CardKind.parse('ANONYMOUS')).toBe('ANONYMOUS');
    expect(CardKind.safeParse('personal').success).toBe(false);
  });

  it('normalises case and surrounding spaces for hand-edited input', () => {
    expect(normaliseCardKind(' anonymous ')).toEqual({ ok: true, value: 'ANONYMOUS' });
  });

  it.each(['', 'KISISEL', 'HAMILINE', 'PERSONAL CARD'])('rejects %j with CARD_KIND_INVALID', (input) => {
    expect(normaliseCardKind(input)).toEqual({ ok: false, reason: 'CARD_KIND_INVALID' });
  });
});
