import { changeHesCode } from '@boarding/registry/verbs/change-hes-code';
import { matchCard } from '@boarding/registry/verbs/match-card';
import type { ProducerRecord } from 'kafkajs';
import { CardStatusValue } from './card-status-message';
import { readStatusPage } from './outbox';
import { publishFullStatus } from './publish-full';
import { createStatusFixture, type StatusFixture } from './status-fixture.test-helpers';

/** The producer's twin: every message sent, in order, as [cardNo, status, version]. */
function recordingProducer(onSend: (sends: number) => Promise<void> = async () => undefined) {
  const sent: [string, string, number][] = [];
  let sends = 0;
  return {
    sent,
    producer: {
      send: async (record: ProducerRecord) => {
        for (const m of record.messages) {
          const v = CardStatusValue.parse(JSON.parse(String(m.value)));
          expect(m.key).toBe(v.cardNo);
          sent.push([v.cardNo, v.status, v.version]);
        }
        sends += 1;
        await onSend(sends);
        return [];
      },
    },
  };
}

describe('publish --full: every card, page by page, ending on the newest version', () => {
  let f: StatusFixture;
  beforeAll(async () => {
    f = await createStatusFixture('status_feed_publish_full');
  });
  afterAll(async () => {
    await f.close();
  });

  it('publishes every card once, in card id order across pages, and reports progress up to the total', async () => {
    const ids = Array.from({ length: 5 }, () => f.identity());
    for (const id of ids) {
      await matchCard({
        ctx: f.ctx(),
        input: { cardNo: id.cardNo, cardKind: 'PERSONAL', tcKimlikNo: id.tc, hesCode: id.hes },
      });
    }
    const { sent, producer } = recordingProducer();
    const progress: [number, number][] = [];
    const report = await publishFullStatus({
      db: f.database.db,
      producer,
      topic: 'unused',
      pageSize: 2,
      onProgress: (p) => progress.push([p.published, p.total]),
    });
    expect(sent).toEqual(ids.map((id) => [id.cardNo, 'ALLOWED', 1]));
    expect(progress).toEqual([
      [0, 5],
      [2, 5],
      [4, 5],
      [5, 5],
    ]);
    expect(report).toMatchObject({ topic: 'unused', cards: 5, republished: 0 });
  });

  it('sends a card again when its status changed while its page was being sent (compaction keeps the last by offset)', async () => {
    const before = (await readStatusPage(f.database.db, 0, 100)).map((r): [string, string, number] => [
      r.cardNo,
      r.status,
      r.version,
    ]);
    const first = before[0]?.[0] ?? '';
    const { sent, producer } = recordingProducer(async (sends) => {
      // A change committed (and perhaps already published by the relay) while the page was in flight.
      if (sends === 1) {
        await changeHesCode({
          ctx: f.ctx(),
          input: { cardNo: first, hesCode: f.identity().hes, hesStatus: 'RISKY' },
        });
      }
    });
    const report = await publishFullStatus({ db: f.database.db, producer, topic: 't' });
    expect(report).toMatchObject({ cards: before.length, republished: 1 });
    // The page as it was read, then the card's new version: its last message is the newest.
    expect(sent).toEqual([...before, [first, 'HES_RISKY', 2]]);
  });
});
