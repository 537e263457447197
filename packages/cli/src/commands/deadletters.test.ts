import { maskCardNumbers } from './deadletters';

describe('maskCardNumbers', () => {
  it('masks the cardNo member whatever it holds, to its last 4 at most', () => {
    expect(maskCardNumbers('{"cardNo":"0412345678901234","seq":1}')).toBe(
      '{"cardNo":"************1234","seq":1}',
    );
    expect(maskCardNumbers('{"cardNo" : "not a card!"}')).toBe('{"cardNo" : "*******ard!"}');
    expect(maskCardNumbers('{"cardNo":""}')).toBe('{"cardNo":"****"}');
  });

  it('masks a card-like run of 8–20 hex characters anywhere, in any case', () => {
    expect(maskCardNumbers('card 04123456789abcde seen')).toBe('card ************bcde seen');
    expect(maskCardNumbers('04123456')).toBe('****3456');
  });

  it('leaves what is not a card number: times, short numbers, validator ids, words', () => {
    const text =
      '{"tappedAt":"2020-11-20T08:15:42.120+03:00","seq":184467,"validatorId":"BUS-30412-1","x":"DEADBEEFCAFE"}';
    expect(maskCardNumbers(text)).toBe(text);
  });

  it('masks a hex run cut by the 2 KiB limit: it may be the start of a card number', () => {
    expect(maskCardNumbers('{"note":"0412', true)).toBe('{"note":"****');
    expect(maskCardNumbers('{"note":"0412')).toBe('{"note":"0412');
  });
});
