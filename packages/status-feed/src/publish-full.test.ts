import { changedSinceSent, messagesPerSecond } from './publish-full';

const record = (cardId: number, version: number) => ({
  cardId,
  cardNo: `04000000000000${String(cardId).padStart(2, '0')}`,
  status: 'ALLOWED' as const,
  since: new Date('2020-11-20T05:00:00.000Z'),
  version,
});

describe('publish --full: what to send again after a page', () => {
  it('sends again only the cards whose version moved on since the send', () => {
    const sent = new Map([
      [1, 3],
      [2, 1],
      [3, 7],
    ]);
    const current = [record(1, 4), record(2, 1), record(3, 9)];
    expect(changedSinceSent(sent, current).map((r) => [r.cardId, r.version])).toEqual([
      [1, 4],
      [3, 9],
    ]);
  });

  it('ignores a card that was not in the page, and never goes back to an older version', () => {
    const sent = new Map([[1, 5]]);
    expect(changedSinceSent(sent, [record(1, 4), record(2, 1)])).toEqual([]);
  });

  it('reports 0 msg/s for an empty or instant run instead of NaN or Infinity', () => {
    expect(messagesPerSecond(0, 0)).toBe(0);
    expect(messagesPerSecond(10, 0)).toBe(0);
    expect(messagesPerSecond(10_000, 2)).toBe(5000);
  });
});
