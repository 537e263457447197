import { CardStatusValue, cardStatusMessage } from './card-status-message';

describe('cardStatusMessage', () => {
  it("writes SPEC §10's value, fields in order, keyed by the card number", () => {
    const message = cardStatusMessage({
      cardNo: '04A1B2C3D4E5F601',
      status: 'HES_RISKY',
      since: new Date('2020-11-18T06:30:00.000Z'),
      version: 3,
    });
    expect(message).toEqual({
      key: '04A1B2C3D4E5F601',
      value:
        '{"schema":"card-status.v1","cardNo":"04A1B2C3D4E5F601","status":"HES_RISKY","since":"2020-11-18T06:30:00.000Z","version":3}',
    });
    expect(CardStatusValue.parse(JSON.parse(message.value))).toMatchObject({ version: 3 });
  });

  it('a value with anything more (a TC, a HES code) is not a card-status.v1 value', () => {
    const value = {
      schema: 'card-status.v1',
      cardNo: '04A1B2C3D4E5F601',
      status: 'ALLOWED',
      since: '2020-11-18T06:30:00.000Z',
      version: 1,
      tcKimlikNo: '17291716060',
    };
    expect(CardStatusValue.safeParse(value).success).toBe(false);
  });
});
