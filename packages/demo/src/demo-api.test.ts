import {
  apiKeyCreateArgs,
  CITIZEN_CLIENTS,
  DEMO_CLIENTS,
  DemoApiError,
  matchRequestOf,
  pickPeople,
  readLookupAnswer,
  readMatchAnswer,
} from './demo-api';

const person = (n: number) => ({
  cardNo: `04000000000000${String(n).padStart(2, '0')}`,
  tcKimlikNo: '10000000146',
  hesCode: 'ABCD1234X9',
  cardKind: 'PERSONAL' as const,
});
const web = { channel: 'WEB' as const, location: null, keyId: 'key_web' };

describe('the demo’s API clients', () => {
  it('creates one key per channel, kiosk and activation point at a location, each printed as JSON', () => {
    expect(DEMO_CLIENTS.map(apiKeyCreateArgs)).toEqual([
      ['apikey', 'create', '--channel', 'WEB', '--label', 'boarding demo', '--json'],
      [
        'apikey',
        'create',
        '--channel',
        'KIOSK',
        '--location',
        'metro-konak',
        '--label',
        'boarding demo',
        '--json',
      ],
      [
        'apikey',
        'create',
        '--channel',
        'ACTIVATION_POINT',
        '--location',
        'pier-karsiyaka',
        '--label',
        'boarding demo',
        '--json',
      ],
      ['apikey', 'create', '--channel', 'STAFF', '--label', 'boarding demo', '--json'],
    ]);
    expect(CITIZEN_CLIENTS.map((c) => c.channel)).toEqual(['WEB', 'KIOSK', 'ACTIVATION_POINT']);
  });

  it('sends the match request of SPEC §9: card, TC, HES and card kind', () => {
    expect(matchRequestOf(person(1))).toEqual({
      cardNo: '0400000000000001',
      tcKimlikNo: '10000000146',
      hesCode: 'ABCD1234X9',
      cardKind: 'PERSONAL',
    });
  });
});

describe('pickPeople', () => {
  it('takes the first unmatched people, one per channel, reading no further', () => {
    let read = 0;
    function* people() {
      for (let n = 0; n < 100; n++) {
        read++;
        yield person(n);
      }
    }
    expect(pickPeople(people(), 3).map((p) => p.cardNo)).toEqual([
      '0400000000000000',
      '0400000000000001',
      '0400000000000002',
    ]);
    expect(read).toBeLessThanOrEqual(4);
  });

  it('refuses a day with too few of them', () => {
    expect(() => pickPeople([person(1)], 3)).toThrow(
      'the simulated day has 1 unmatched people, the demo needs 3',
    );
  });
});

describe('reading the API’s answers', () => {
  it('shows a match by its masked card, outcome and HES status', () => {
    const body = {
      matchId: 7,
      outcome: 'MATCHED',
      cardNo: '0400000000000001',
      cardKind: 'PERSONAL',
      tcKimlikNo: '*******0146',
      hesCode: '****-****-X9',
      hesStatus: 'RISKY',
      channel: 'WEB',
      endedMatchIds: [],
    };
    expect(readMatchAnswer(web, '0400000000000001', 201, body)).toEqual({
      channel: 'WEB',
      location: null,
      keyId: 'key_web',
      operation: 'POST /v1/matches',
      card: '************0001',
      status: 201,
      outcome: 'MATCHED',
      detail: 'HES RISKY',
    });
  });

  it.each([
    [409, 'CARD_TAKEN', 'the card is matched to another person'],
    [409, 'MATCH_OVERLAP', 'a concurrent match'],
    [503, 'HES_SERVICE_UNAVAILABLE', 'the HES service did not answer'],
  ])('fails the demo on %i %s, naming the code and the masked card only', (status, code, message) => {
    const read = () => readMatchAnswer(web, '0400000000000001', status, { code, field: null, message });
    expect(read).toThrow(DemoApiError);
    expect(read).toThrow(`the WEB match of card ************0001: HTTP ${status} ${code}: ${message}`);
  });

  it('fails on an answer that is not JSON, by its status', () => {
    expect(() => readMatchAnswer(web, '0400000000000001', 502, null)).toThrow(
      'the WEB match of card ************0001: HTTP 502',
    );
  });

  it('shows the staff lookup masked, even were the API to answer in clear', () => {
    const call = readLookupAnswer(
      { channel: 'STAFF', location: null, keyId: 'key_staff' },
      '0400000000000001',
      200,
      {
        matchId: 7,
        cardNo: '0400000000000001',
        cardKind: 'PERSONAL',
        tcKimlikNo: '10000000146',
        hesCode: 'ABCD1234X9',
        hesStatus: 'RISKLESS',
        validFrom: '2026-12-06T18:00:00.000Z',
        validTo: null,
        channel: 'WEB',
      },
    );
    expect(call).toMatchObject({ card: '************0001', status: 200, outcome: 'FOUND' });
    expect(call.detail).toBe(
      'matched via WEB since 2026-12-06T18:00:00.000Z: TC *******0146, HES ****-****-X9',
    );
    expect(JSON.stringify(call)).not.toMatch(/10000000146|ABCD1234X9|0400000000000001/);
  });

  it('fails when staff find no current match', () => {
    expect(() =>
      readLookupAnswer({ channel: 'STAFF', location: null, keyId: 'k' }, '0400000000000001', 404, {
        code: 'NO_CURRENT_MATCH',
        field: 'cardNo',
        message: 'the card has no current match',
      }),
    ).toThrow(
      'the STAFF lookup of card ************0001: HTTP 404 NO_CURRENT_MATCH: the card has no current match',
    );
  });
});
