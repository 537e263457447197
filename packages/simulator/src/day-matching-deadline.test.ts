import { generateDay } from './day';
import { hesStatusOf } from './hes-answers';
import type { RegistryRow } from './registry-model';

// SPEC §10 closing the loop: from the matching deadline on, simulated validators refuse every
// tap of an unmatched card (HES_NOT_MATCHED) and of a risky one (HES_RISKY), so the day file
// holds the refused boardings of risky cards the Ministry looks for.
const DAY = '2020-11-18';
const DEADLINE = '2020-11-18T12:00:00+03:00';

type Tap = { cardNo: string; tappedAt: string; result: string; rejectReason: string | null };

const tapsOf = (messages: { value: string }[]): Tap[] =>
  messages.flatMap((m) => {
    try {
      const v = JSON.parse(m.value) as Tap & { schema?: string };
      return v.schema === 'tap.v1' ? [v] : [];
    } catch {
      return [];
    }
  });

/** The registry's own answer for a card at an instant: no match, or the match's HES status. */
function statusAt(rows: RegistryRow[], cardNo: string, ms: number): 'NOT_MATCHED' | 'RISKY' | 'RISKLESS' {
  const live = rows.find(
    (r) => r.cardNo === cardNo && r.validFrom <= ms && (r.validTo === null || ms < r.validTo),
  );
  return live === undefined ? 'NOT_MATCHED' : hesStatusOf(live.hesCode);
}

describe('simulate --matching-deadline', () => {
  const options = { day: DAY, taps: 6_000, seed: 3, faults: { malformed: 0, drift: 0 } } as const;
  const before = generateDay(options);
  const after = generateDay({ ...options, matchingDeadline: DEADLINE });

  it('after the deadline refuses exactly the unmatched and risky cards, for that reason; before it, nothing changes', () => {
    const deadline = Date.parse(DEADLINE);
    const rows = [...after.registryRows];
    const taps = tapsOf(after.messages);
    const checked = taps.filter((t) => Date.parse(t.tappedAt) >= deadline);
    expect(checked.length).toBeGreaterThan(1000);
    const verdicts = { NOT_MATCHED: 0, RISKY: 0, RISKLESS: 0 };
    for (const t of checked) {
      const status = statusAt(rows, t.cardNo, Date.parse(t.tappedAt));
      verdicts[status]++;
      if (status === 'NOT_MATCHED')
        expect([t.result, t.rejectReason]).toEqual(['REJECTED', 'HES_NOT_MATCHED']);
      else if (status === 'RISKY') expect([t.result, t.rejectReason]).toEqual(['REJECTED', 'HES_RISKY']);
      else expect(['HES_NOT_MATCHED', 'HES_RISKY']).not.toContain(t.rejectReason);
    }
    // All three kinds occur, so the assertions above were exercised.
    expect(verdicts.NOT_MATCHED).toBeGreaterThan(0);
    expect(verdicts.RISKY).toBeGreaterThan(0);
    expect(verdicts.RISKLESS).toBeGreaterThan(0);
    // Taps before the deadline are the same as on a day without one.
    const early = (messages: { value: string }[]) =>
      tapsOf(messages).filter((t) => Date.parse(t.tappedAt) < deadline);
    expect(early(after.messages)).toEqual(early(before.messages));
  });

  it('without a deadline the day is the same as it always was (the demo file does not move)', () => {
    const again = generateDay(options);
    expect(again.messages).toEqual(before.messages);
    expect(after.messages.length).toBe(before.messages.length);
  });

  it('refuses a deadline without an offset', () => {
    expect(() => generateDay({ ...options, matchingDeadline: '2020-11-18T12:00:00' })).toThrow(
      /matchingDeadline/,
    );
  });
});
