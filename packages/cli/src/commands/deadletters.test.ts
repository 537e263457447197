import { maskPersonalData } from './deadletters';

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
