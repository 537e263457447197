import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HesCode } from '@boarding/contracts/hes-code';
import { TcKimlikNo } from '@boarding/contracts/tc-kimlik';
import { planDay } from './day';
import { HES_ANSWERS_CSV_HEADER, hesStatusOf, writeHesAnswersCsv } from './hes-answers';

const options = { day: '2020-11-20', taps: 3_000, seed: 7 } as const;

describe('the HES stand-in’s data of a simulated day', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hes-answers-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const plan = planDay(options);
  const rows = [...plan.registryRows()];
  const unmatched = [...plan.unmatchedPeople()];
  const answers = [...plan.hesAnswers()];

  it('names unmatched people whose card and TC appear in no registry row', () => {
    expect(unmatched.length).toBeGreaterThan(plan.truth.cards * 0.3);
    const cards = new Set(rows.map((r) => r.cardNo));
    const people = new Set(rows.map((r) => r.tcKimlikNo));
    for (const p of unmatched) {
      expect(cards.has(p.cardNo)).toBe(false);
      expect(people.has(p.tcKimlikNo)).toBe(false);
      expect(TcKimlikNo.safeParse(p.tcKimlikNo).success).toBe(true);
      expect(HesCode.safeParse(p.hesCode).success).toBe(true);
    }
    expect(new Set(unmatched.map((p) => p.cardNo)).size).toBe(unmatched.length);
  });

  it('answers for every code of the registry and of the unmatched people, each once, to its owner', () => {
    const byCode = new Map(answers.map((a) => [a.hesCode, a]));
    expect(byCode.size).toBe(answers.length);
    for (const person of [...rows, ...unmatched]) {
      expect(byCode.get(person.hesCode)?.tcKimlikNo).toBe(person.tcKimlikNo);
    }
    for (const a of answers) expect(a.status).toBe(hesStatusOf(a.hesCode));
  });

  it('is the same for the same options, and leaves the registry file as it was', () => {
    const again = planDay(options);
    expect([...again.hesAnswers()]).toEqual(answers);
    expect([...again.unmatchedPeople()]).toEqual(unmatched);
    expect([...again.registryRows()]).toEqual(rows);
  });

  it('writes the stand-in’s CSV format, owner-readable only', async () => {
    const path = join(dir, 'hes.csv');
    expect(await writeHesAnswersCsv(path, answers)).toBe(answers.length);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines[0]).toBe(HES_ANSWERS_CSV_HEADER);
    expect(lines[1]).toBe(`${answers[0]?.hesCode},${answers[0]?.tcKimlikNo},${answers[0]?.status}`);
    expect(lines).toHaveLength(answers.length + 2);
  });
});

describe('hesStatusOf', () => {
  it('is RISKY when SHA-256 of the code starts with a multiple of 10 (the stand-in’s rule)', () => {
    // First four bytes, big-endian: AB00000004 → 134977160, AB00000011 → 1377707660 (RISKY);
    // ABCD1234X9 → 3359610462, AB00000000 → 858486491 (RISKLESS).
    expect(hesStatusOf('AB00000004')).toBe('RISKY');
    expect(hesStatusOf('AB00000011')).toBe('RISKY');
    expect(hesStatusOf('ABCD1234X9')).toBe('RISKLESS');
    expect(hesStatusOf('AB00000000')).toBe('RISKLESS');
  });

  it('is RISKY for about one code in ten', () => {
    const codes = Array.from({ length: 2000 }, (_, i) => `AB${String(i).padStart(8, '0')}`);
    const risky = codes.filter((c) => hesStatusOf(c) === 'RISKY').length;
    expect(risky).toBeGreaterThan(140);
    expect(risky).toBeLessThan(260);
  });
});
