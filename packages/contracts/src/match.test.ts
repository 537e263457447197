import { IMPORT_HEADER, Match, parseImportRow } from './match';

// Synthetic values: the TC numbers are the SPEC's examples, the rest is made up.
const TC = '17291716060';
const HES = 'ABCD1234X9';
const row = {
  card_no: '0412345678901234',
  tc_kimlik_no: TC,
  hes_code: HES,
  card_kind: 'PERSONAL',
  valid_from: '2020-11-01T00:00:00+03:00',
  valid_to: '2020-11-20T12:00:00+03:00',
};
const withRow = (patch: Record<string, string>): Record<string, string> => ({ ...row, ...patch });

describe('parseImportRow', () => {
  it('turns a valid row into a match with Date bounds', () => {
    expect(parseImportRow(row)).toEqual({
      ok: true,
      row: {
        cardNo: '0412345678901234',
        tcKimlikNo: TC,
        hesCode: HES,
        cardKind: 'PERSONAL',
        validFrom: new Date('2020-10-31T21:00:00.000Z'),
        validTo: new Date('2020-11-20T09:00:00.000Z'),
      },
    });
  });

  it('reads an empty or blank valid_to as an open range', () => {
    for (const validTo of ['', '  ']) {
      const result = parseImportRow(withRow({ valid_to: validTo }));
      expect(result.ok && result.row.validTo).toBeNull();
    }
  });

  it('normalises hand-typed cells: spaces, case, HES dashes', () => {
    const result = parseImportRow({
      card_no: ' 0412abcdef ',
      tc_kimlik_no: ' 10000000146 ',
      hes_code: 'abcd-1234-x9',
      card_kind: ' anonymous ',
      valid_from: ' 2020-11-01T00:00:00Z ',
      valid_to: '',
    });
    expect(result).toEqual({
      ok: true,
      row: {
        cardNo: '0412ABCDEF',
        tcKimlikNo: '10000000146',
        hesCode: HES,
        cardKind: 'ANONYMOUS',
        validFrom: new Date('2020-11-01T00:00:00.000Z'),
        validTo: null,
      },
    });
  });

  it.each<[string, Record<string, string>, string]>([
    ['a card number that is not hex', { card_no: '0412XYZ678' }, 'CARD_NO_INVALID'],
    ['a TC with a wrong check digit', { tc_kimlik_no: '17291716050' }, 'TC_CHECKSUM'],
    ['a TC with a leading zero', { tc_kimlik_no: '07291716092' }, 'TC_LEADING_ZERO'],
    ['a TC with 10 digits', { tc_kimlik_no: '1729171606' }, 'TC_INVALID_LENGTH'],
    ['a TC with a letter', { tc_kimlik_no: '1729171606O' }, 'TC_NOT_DIGITS'],
    ['a short HES code', { hes_code: 'ABCD-1234' }, 'HES_INVALID'],
    ['the Turkish card kind', { card_kind: 'KISISEL' }, 'CARD_KIND_INVALID'],
    ['an empty valid_from', { valid_from: '' }, 'INVALID_FIELD'],
    ['a valid_from that is not a date', { valid_from: '01.11.2020' }, 'TIME_INVALID'],
    ['a valid_from without offset', { valid_from: '2020-11-01T00:00:00' }, 'TIME_NO_OFFSET'],
    ['a valid_to without offset', { valid_to: '2020-11-20T12:00:00' }, 'TIME_NO_OFFSET'],
    ['valid_to equal to valid_from', { valid_to: '2020-10-31T21:00:00Z' }, 'RANGE_EMPTY'],
    ['valid_to before valid_from', { valid_to: '2020-10-01T00:00:00+03:00' }, 'RANGE_EMPTY'],
    ['an extra column', { note: 'x' }, 'UNKNOWN_FIELD'],
  ])('rejects a row with %s as %s', (_case, patch, reason) => {
    expect(parseImportRow(withRow(patch))).toMatchObject({ ok: false, reason });
  });

  it('rejects a row missing a column, naming the column', () => {
    const { hes_code: _dropped, ...short } = row;
    expect(parseImportRow(short)).toEqual({
      ok: false,
      reason: 'INVALID_FIELD',
      detail: 'hes_code: required',
    });
  });

  it('reports the leftmost bad cell first', () => {
    const result = parseImportRow(withRow({ tc_kimlik_no: '17291716050', hes_code: 'x', valid_to: 'x' }));
    expect(result).toEqual({
      ok: false,
      reason: 'TC_CHECKSUM',
      detail: 'tc_kimlik_no: check digits do not match',
    });
  });

  it('names the column and the rule but never the personal data in the detail', () => {
    const badTc = '17291716050';
    const badHes = 'ABCD1234X';
    const patches: Record<string, string>[] = [
      { tc_kimlik_no: badTc },
      { hes_code: badHes },
      { valid_to: '2020-01-01T00:00:00Z' },
    ];
    for (const patch of patches) {
      const result = parseImportRow(withRow(patch));
      expect(result.ok).toBe(false);
      const detail = result.ok ? '' : result.detail;
      for (const secret of [badTc, badHes, TC, HES, '6060', '6050']) expect(detail).not.toContain(secret);
    }
  });

  it('has the SPEC header in order', () => {
    expect(IMPORT_HEADER.join(',')).toBe('card_no,tc_kimlik_no,hes_code,card_kind,valid_from,valid_to');
  });
});

describe('Match schema', () => {
  const match = {
    cardNo: '0412345678901234',
    tcKimlikNo: TC,
    hesCode: HES,
    cardKind: 'PERSONAL',
    validFrom: new Date('2020-11-01T00:00:00Z'),
    validTo: null,
  };

  it('accepts an open-ended match', () => {
    expect(Match.parse(match)).toEqual(match);
  });

  it('rejects an empty range', () => {
    const result = Match.safeParse({ ...match, validTo: match.validFrom });
    expect(result.success).toBe(false);
  });
});
