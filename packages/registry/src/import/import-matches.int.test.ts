import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RegistryContext } from '../context';
import {
  clearValuesIn,
  countRows,
  type Identity,
  matchRows,
  useRegistryFixture,
  withBadChecksum,
} from '../registry-fixture.test-helpers';
import { findMatchAt } from '../verbs/find-match-at';
import { matchCard } from '../verbs/match-card';
import { type ImportProgress, type ImportReport, importMatches } from './import-matches';
import { formatReject } from './reject-log';

const HEADER = 'card_no,tc_kimlik_no,hes_code,card_kind,valid_from,valid_to';
const T0 = '2020-11-01T08:00:00+03:00';
const T1 = '2020-11-05T12:30:00+03:00';
const T2 = '2020-11-09T00:00:00+03:00';
const d = (iso: string) => new Date(iso);

let dir: string;
let fileNo = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'registry-import-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Write a CSV into the test's temp directory: the header, then `lines`, joined by `eol`. */
function csv(lines: string[], eol: '\n' | '\r\n' = '\n'): string {
  const path = join(dir, `import-${++fileNo}.csv`);
  writeFileSync(path, [HEADER, ...lines].join(eol) + eol);
  return path;
}

const row = (id: Identity, from: string, to = '', hes = id.hes, kind = 'PERSONAL', cardNo = id.cardNo) =>
  `${cardNo},${id.tc},${hes},${kind},${from},${to}`;

const tables = ['persons', 'cards', 'matches'] as const;

/** Rows by card number then start: the import inserts in its own order, not the file's. */
const byCardThenStart = <T extends { card_no: string; valid_from: Date }>(rows: T[]) =>
  [...rows].sort(
    (x, y) => x.card_no.localeCompare(y.card_no) || x.valid_from.getTime() - y.valid_from.getTime(),
  );

function expectNoClearText(
  report: ImportReport,
  ids: { tc: string; hes: string }[],
  extra: string[] = [],
): void {
  const text = `${JSON.stringify(report)}\n${report.rejects.map(formatReject).join('\n')}`;
  expect(clearValuesIn(text, ids)).toEqual([]);
  for (const value of extra) expect(text.includes(value)).toBe(false);
}

describe('importMatches on an empty registry', () => {
  const f = useRegistryFixture('reg_import_empty');
  let ctx: RegistryContext;

  beforeAll(() => {
    ctx = f.ctx({ actor: { id: 'importer', channel: 'IMPORT' } });
  });

  it('rejects a file with invalid rows as a whole: lines reported by number, nothing applied', async () => {
    const ids = [f.identity(), f.identity(), f.identity(), f.identity(), f.identity()];
    const [a, b, c, e, g] = ids as [Identity, Identity, Identity, Identity, Identity];
    const badTc = withBadChecksum(b.tc);
    const path = csv([
      row(a, T0),
      `${b.cardNo},${badTc},${b.hes},PERSONAL,${T0},`,
      row(c, T0),
      `${e.cardNo},${e.tc},,ANONYMOUS,${T0},`,
      row(g, T0),
    ]);
    const report = await importMatches({ ctx, pool: f.database.pool, input: { path } });

    expect(report).toMatchObject({
      outcome: 'REJECTED',
      rows: 5,
      invalid: 2,
      invalidByReason: { TC_CHECKSUM: 1, HES_INVALID: 1 },
      applied: null,
      rejectsFile: null,
    });
    expect(report.rejects.map(formatReject)).toEqual([
      'line 3: TC_CHECKSUM (tc_kimlik_no: check digits do not match)',
      'line 5: HES_INVALID (hes_code: must be 10 characters of A-Z 0-9 (dashes and spaces ignored))',
    ]);
    for (const t of tables) expect(await countRows(f.database.pool, t)).toBe(0);
    const runs = await f.database.pool.query(
      'select outcome, rows_read, rows_invalid, matches_inserted, file_name from import_runs where id = $1',
      [report.importRunId],
    );
    expect(runs.rows).toEqual([
      {
        outcome: 'REJECTED',
        rows_read: 5,
        rows_invalid: 2,
        matches_inserted: 0,
        file_name: path.split('/').pop(),
      },
    ]);
    const audit = await f.database.pool.query(`select action, detail from registry_audit`);
    expect(audit.rows).toEqual([
      {
        action: 'IMPORT',
        detail: { importRunId: report.importRunId, outcome: 'REJECTED', file: path.split('/').pop() },
      },
    ]);
    expectNoClearText(report, ids, [badTc]);
  });

  it('rejects a file whose rows overlap each other (OVERLAP_IN_FILE, naming the other line), nothing applied', async () => {
    const p = f.identity();
    const q = f.identity();
    const r = f.identity();
    const otherCard = f.identity().cardNo;
    const path = csv([
      row(p, T0),
      // The same card for another person while line 2 is still open.
      row(q, T1, '', q.hes, 'PERSONAL', p.cardNo),
      row(r, T0, T2),
      // The same person on a second card inside line 4's range.
      row(r, T1, '', r.hes, 'PERSONAL', otherCard),
    ]);
    const report = await importMatches({ ctx, pool: f.database.pool, input: { path } });
    expect(report.outcome).toBe('REJECTED');
    expect(report.rejects.map(formatReject)).toEqual([
      'line 3: OVERLAP_IN_FILE (overlaps line 2 for the same card)',
      'line 5: OVERLAP_IN_FILE (overlaps line 4 for the same person)',
    ]);
    for (const t of tables) expect(await countRows(f.database.pool, t)).toBe(0);
    expectNoClearText(report, [p, q, r]);
  });

  it('rejects a card given two kinds in one file (CARD_KIND_CONFLICT)', async () => {
    const p = f.identity();
    const path = csv([row(p, T0, T1, p.hes, 'PERSONAL'), row(p, T1, '', p.hes, 'ANONYMOUS')]);
    const report = await importMatches({ ctx, pool: f.database.pool, input: { path } });
    expect(report.outcome).toBe('REJECTED');
    expect(report.rejects.map((r) => [r.line, r.reason])).toEqual([
      [2, 'CARD_KIND_CONFLICT'],
      [3, 'CARD_KIND_CONFLICT'],
    ]);
    for (const t of tables) expect(await countRows(f.database.pool, t)).toBe(0);
  });

  it('refuses a file with the wrong header before touching anything', async () => {
    const path = join(dir, 'bad-header.csv');
    writeFileSync(path, 'card,tc,hes\n0400000000000001,10000000146,ABCD1234EF\n');
    await expect(importMatches({ ctx, pool: f.database.pool, input: { path } })).rejects.toMatchObject({
      code: 'IMPORT_FILE_INVALID',
      message: `line 1: header must be ${HEADER}`,
    });
    for (const t of tables) expect(await countRows(f.database.pool, t)).toBe(0);
  });
});

describe('importMatches', () => {
  const f = useRegistryFixture('reg_import');
  let ctx: RegistryContext;

  beforeAll(() => {
    ctx = f.ctx({ actor: { id: 'importer', channel: 'IMPORT' } });
  });

  it("applies a card's history (a closed match and the newer one) in one run; re-importing it changes nothing", async () => {
    const a = f.identity();
    const b = f.identity();
    const hes2 = f.identity().hes;
    const path = csv([row(a, T0, T1), row(a, T1, '', hes2), row(b, T0, '', b.hes, 'ANONYMOUS')]);
    const phases = new Set<ImportProgress['phase']>();
    const report = await importMatches({
      ctx,
      pool: f.database.pool,
      input: { path },
      onProgress: (p) => phases.add(p.phase),
    });
    expect(report).toMatchObject({
      outcome: 'APPLIED',
      rows: 3,
      invalid: 0,
      rejects: [],
      applied: { inserted: 3, closed: 0, unchanged: 0, persons: 2, cards: 2 },
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect([...phases]).toEqual(['reading', 'checking', 'applying']);

    const rows = byCardThenStart(
      await matchRows(f.database.pool, 'c.card_no = any($1)', [[a.cardNo, b.cardNo]]),
    );
    expect(rows.map((r) => [r.card_no, r.valid_from, r.valid_to, r.channel, r.actor])).toEqual([
      [a.cardNo, d(T0), d(T1), 'IMPORT', 'importer'],
      [a.cardNo, d(T1), null, 'IMPORT', 'importer'],
      [b.cardNo, d(T0), null, 'IMPORT', 'importer'],
    ]);
    const kinds = await f.database.pool.query(
      'select card_no, kind from cards where card_no = any($1) order by id',
      [[a.cardNo, b.cardNo]],
    );
    expect(kinds.rows).toEqual([
      { card_no: a.cardNo, kind: 'PERSONAL' },
      { card_no: b.cardNo, kind: 'ANONYMOUS' },
    ]);
    const seen = await findMatchAt({ ctx, input: { cardNo: a.cardNo, at: d(T1), reveal: true } });
    expect(seen).toMatchObject({
      tcKimlikNo: a.tc,
      hesCode: `${hes2.slice(0, 4)}-${hes2.slice(4, 8)}-${hes2.slice(8)}`,
    });
    expect((await findMatchAt({ ctx, input: { cardNo: a.cardNo, at: d(T0) } }))?.validTo).toEqual(d(T1));
    expectNoClearText(report, [a, b, { tc: a.tc, hes: hes2 }]);

    const counts = await Promise.all(tables.map((t) => countRows(f.database.pool, t)));
    const again = await importMatches({ ctx, pool: f.database.pool, input: { path } });
    expect(again).toMatchObject({
      outcome: 'UNCHANGED',
      sha256: report.sha256,
      applied: { inserted: 0, closed: 0, unchanged: 3, persons: 0, cards: 0 },
    });
    expect(await Promise.all(tables.map((t) => countRows(f.database.pool, t)))).toEqual(counts);
    const runs = await f.database.pool.query(
      `select outcome, matches_inserted, matches_unchanged, file_sha256 from import_runs where id = any($1) order by id`,
      [[report.importRunId, again.importRunId]],
    );
    expect(runs.rows).toEqual([
      { outcome: 'APPLIED', matches_inserted: 3, matches_unchanged: 0, file_sha256: report.sha256 },
      { outcome: 'UNCHANGED', matches_inserted: 0, matches_unchanged: 3, file_sha256: report.sha256 },
    ]);
  });

  it('reads CRLF line ends (with a BOM and a blank line) and numbers the lines of the file', async () => {
    const a = f.identity();
    const b = f.identity();
    const c = f.identity();
    const bad = withBadChecksum(b.tc);
    const path = join(dir, 'crlf.csv');
    writeFileSync(
      path,
      `\uFEFF${[HEADER, row(a, T0), '', `${b.cardNo},${bad},${b.hes},PERSONAL,${T0},`, row(c, T1, T2)].join('\r\n')}\r\n`,
    );
    const rejectsPath = join(dir, 'crlf.rejects.csv');
    const report = await importMatches({
      ctx,
      pool: f.database.pool,
      input: { path, skipInvalid: true, rejectsPath },
    });
    expect(report).toMatchObject({ outcome: 'APPLIED', rows: 3, invalid: 1, applied: { inserted: 2 } });
    expect(report.rejects.map(formatReject)).toEqual([
      'line 4: TC_CHECKSUM (tc_kimlik_no: check digits do not match)',
    ]);
    const rows = byCardThenStart(
      await matchRows(f.database.pool, 'c.card_no = any($1)', [[a.cardNo, b.cardNo, c.cardNo]]),
    );
    expect(rows.map((r) => [r.card_no, r.valid_from, r.valid_to])).toEqual([
      [a.cardNo, d(T0), null],
      [c.cardNo, d(T1), d(T2)],
    ]);
  });

  it('with skipInvalid applies the valid rows and writes the bad lines to the rejects file, with no TC or HES in clear', async () => {
    const ids = [f.identity(), f.identity(), f.identity(), f.identity(), f.identity()];
    const [a, b, c, e, g] = ids as [Identity, Identity, Identity, Identity, Identity];
    const badTc = withBadChecksum(b.tc);
    const path = csv([
      row(a, T0),
      `${b.cardNo},${badTc},${b.hes},PERSONAL,${T0},`,
      row(c, T0),
      `${e.cardNo},${e.tc},,ANONYMOUS,${T0},`,
      row(g, T0),
    ]);
    const report = await importMatches({ ctx, pool: f.database.pool, input: { path, skipInvalid: true } });
    expect(report).toMatchObject({
      outcome: 'APPLIED',
      invalid: 2,
      applied: { inserted: 3, persons: 3, cards: 3 },
      rejectsFile: `${path}.rejects.csv`,
    });
    const rows = byCardThenStart(
      await matchRows(f.database.pool, 'c.card_no = any($1)', [ids.map((i) => i.cardNo)]),
    );
    expect(rows.map((r) => r.card_no)).toEqual([a.cardNo, c.cardNo, g.cardNo]);

    const rejects = readFileSync(`${path}.rejects.csv`, 'utf8');
    expect(rejects).toBe(
      [
        'line,reason,detail',
        '3,TC_CHECKSUM,"tc_kimlik_no: check digits do not match"',
        '5,HES_INVALID,"hes_code: must be 10 characters of A-Z 0-9 (dashes and spaces ignored)"',
        '',
      ].join('\n'),
    );
    expect(clearValuesIn(rejects, ids)).toEqual([]);
    expect(rejects.includes(badTc)).toBe(false);
    expectNoClearText(report, ids, [badTc]);
  });

  it('reports a row overlapping a live registry match as OVERLAP_EXISTING (not a constraint error); skipInvalid applies the rest', async () => {
    const holder = f.identity();
    const { matchId } = await matchCard({
      ctx: f.ctx(),
      input: {
        cardNo: holder.cardNo,
        cardKind: 'PERSONAL',
        tcKimlikNo: holder.tc,
        hesCode: holder.hes,
        at: d(T0),
      },
    });
    const intruder = f.identity();
    const fine = f.identity();
    const lines = [row(fine, T0), row(intruder, T1, '', intruder.hes, 'PERSONAL', holder.cardNo)];

    const strict = await importMatches({ ctx, pool: f.database.pool, input: { path: csv(lines) } });
    expect(strict.outcome).toBe('REJECTED');
    expect(strict.rejects.map(formatReject)).toEqual([
      `line 3: OVERLAP_EXISTING (overlaps live match ${matchId} of the same card in the registry)`,
    ]);
    expect(await matchRows(f.database.pool, 'c.card_no = $1', [fine.cardNo])).toEqual([]);

    const lenient = await importMatches({
      ctx,
      pool: f.database.pool,
      input: { path: csv(lines), skipInvalid: true },
    });
    expect(lenient).toMatchObject({ outcome: 'APPLIED', invalid: 1, applied: { inserted: 1 } });
    expect(lenient.rejects.map((r) => [r.line, r.reason])).toEqual([[3, 'OVERLAP_EXISTING']]);
    const held = await matchRows(f.database.pool, 'c.card_no = $1', [holder.cardNo]);
    expect(held.map((r) => [r.id, r.valid_to])).toEqual([[matchId, null]]);
    expect((await matchRows(f.database.pool, 'c.card_no = $1', [fine.cardNo])).length).toBe(1);
    expectNoClearText(strict, [holder, intruder, fine]);
  });

  it('reports a person already holding another card in the registry as OVERLAP_EXISTING for the same person', async () => {
    const p = f.identity();
    const { matchId } = await matchCard({
      ctx: f.ctx(),
      input: { cardNo: p.cardNo, cardKind: 'PERSONAL', tcKimlikNo: p.tc, hesCode: p.hes, at: d(T0) },
    });
    const report = await importMatches({
      ctx,
      pool: f.database.pool,
      input: { path: csv([row(p, T1, '', p.hes, 'PERSONAL', f.identity().cardNo)]) },
    });
    expect(report.outcome).toBe('REJECTED');
    expect(report.rejects.map(formatReject)).toEqual([
      `line 2: OVERLAP_EXISTING (overlaps live match ${matchId} of the same person in the registry)`,
    ]);
  });

  it('closes an open registry match and adds the next one from the same file (APPLIED, closed=1)', async () => {
    const p = f.identity();
    const hes2 = f.identity().hes;
    const first = await importMatches({ ctx, pool: f.database.pool, input: { path: csv([row(p, T0)]) } });
    expect(first.applied).toMatchObject({ inserted: 1, closed: 0 });
    const [open] = await matchRows(f.database.pool, 'c.card_no = $1', [p.cardNo]);

    const report = await importMatches({
      ctx,
      pool: f.database.pool,
      input: { path: csv([row(p, T0, T1), row(p, T1, '', hes2)], '\r\n') },
    });
    expect(report).toMatchObject({
      outcome: 'APPLIED',
      invalid: 0,
      applied: { inserted: 1, closed: 1, unchanged: 0, persons: 0, cards: 0 },
    });
    const rows = await matchRows(f.database.pool, 'c.card_no = $1', [p.cardNo]);
    expect(rows).toHaveLength(2);
    // History: the open row was ended, every other column kept.
    expect(rows[0]).toEqual({ ...open, valid_to: d(T1) });
    expect(rows[1]).toMatchObject({ valid_from: d(T1), valid_to: null, person_id: open?.person_id });
    const runs = await f.database.pool.query(
      'select outcome, matches_closed from import_runs where id = $1',
      [report.importRunId],
    );
    expect(runs.rows).toEqual([{ outcome: 'APPLIED', matches_closed: 1 }]);
  });

  it('with skipInvalid, also rejects a row that relied on a rejected row closing a registry match', async () => {
    const p = f.identity();
    const other = f.identity();
    const newCard = f.identity().cardNo;
    const { matchId } = await matchCard({
      ctx: f.ctx(),
      input: { cardNo: p.cardNo, cardKind: 'PERSONAL', tcKimlikNo: p.tc, hesCode: p.hes, at: d(T0) },
    });
    const path = csv([
      // Would close the registry match at T1, but names the wrong kind: rejected.
      row(p, T0, T1, p.hes, 'ANONYMOUS'),
      // The person's next card from T1: fine only if line 2 is applied.
      row(p, T1, '', p.hes, 'PERSONAL', newCard),
      row(other, T0),
    ]);
    const report = await importMatches({ ctx, pool: f.database.pool, input: { path, skipInvalid: true } });
    expect(report).toMatchObject({ outcome: 'APPLIED', invalid: 2, applied: { inserted: 1, closed: 0 } });
    expect(report.rejects.map(formatReject)).toEqual([
      `line 2: CARD_KIND_CONFLICT (card ************${p.cardNo.slice(-4)} has another kind in the file or the registry)`,
      `line 3: OVERLAP_EXISTING (overlaps live match ${matchId} of the same person in the registry)`,
    ]);
    expect((await matchRows(f.database.pool, 'c.card_no = $1', [p.cardNo])).map((r) => r.valid_to)).toEqual([
      null,
    ]);
    expect(await matchRows(f.database.pool, 'c.card_no = $1', [newCard])).toEqual([]);
    expect((await matchRows(f.database.pool, 'c.card_no = $1', [other.cardNo])).length).toBe(1);
  });

  it('refuses a row whose card is registered with the other kind', async () => {
    const p = f.identity();
    await matchCard({
      ctx: f.ctx(),
      input: { cardNo: p.cardNo, cardKind: 'ANONYMOUS', tcKimlikNo: p.tc, hesCode: p.hes, at: d(T0) },
    });
    await f.database.pool.query(
      `update matches set valid_to = $2 where card_id = (select id from cards where card_no = $1)`,
      [p.cardNo, d(T1)],
    );
    const report = await importMatches({
      ctx,
      pool: f.database.pool,
      input: { path: csv([row(p, T2, '', p.hes, 'PERSONAL')]) },
    });
    expect(report.outcome).toBe('REJECTED');
    expect(report.rejects.map((r) => [r.line, r.reason])).toEqual([[2, 'CARD_KIND_CONFLICT']]);
  });

  it('writes the rejects file where asked even when the run is rejected', async () => {
    const p = f.identity();
    const rejectsPath = join(dir, 'asked.rejects.csv');
    const report = await importMatches({
      ctx,
      pool: f.database.pool,
      input: { path: csv([`${p.cardNo},${p.tc},${p.hes},PERSONAL,2020-11-01T08:00:00,`]), rejectsPath },
    });
    expect(report).toMatchObject({ outcome: 'REJECTED', rejectsFile: rejectsPath });
    expect(existsSync(rejectsPath)).toBe(true);
    expect(readFileSync(rejectsPath, 'utf8').split('\n')[1]).toMatch(/^2,TIME_NO_OFFSET,/);
  });
});

describe('importMatches of a file bigger than one chunk (applied while it is read)', () => {
  const f = useRegistryFixture('reg_import_chunks');
  let ctx: RegistryContext;
  // More rows than one chunk of the streaming path (4 MiB of COPY text, ~12,000 rows).
  const ROWS = 15_000;

  beforeAll(() => {
    ctx = f.ctx({ actor: { id: 'importer', channel: 'IMPORT' } });
  });

  /** persons, cards, matches, card_status, card_status_outbox. */
  const counts = async () => {
    const { rows } = await f.database.pool.query<{ n: number[] }>(
      `select array[(select count(*) from persons), (select count(*) from cards), (select count(*) from matches),
                    (select count(*) from card_status), (select count(*) from card_status_outbox)]::int[] as n`,
    );
    return rows[0]?.n;
  };

  it('applies every row and leaves each card its status and one outbox row', async () => {
    const ids = Array.from({ length: ROWS }, () => f.identity());
    const kindOf = (i: number) => (i % 3 === 0 ? 'ANONYMOUS' : 'PERSONAL');
    const report = await importMatches({
      ctx,
      pool: f.database.pool,
      input: { path: csv(ids.map((id, i) => row(id, T0, '', id.hes, kindOf(i)))) },
    });
    expect(report).toMatchObject({
      outcome: 'APPLIED',
      rows: ROWS,
      invalid: 0,
      applied: { inserted: ROWS, closed: 0, unchanged: 0, persons: ROWS, cards: ROWS },
    });
    expect(await counts()).toEqual([ROWS, ROWS, ROWS, ROWS, ROWS]);
    const statuses = await f.database.pool.query(
      `select s.status, count(*)::int as n from card_status s join cards c on c.id = s.card_id
       where c.card_no = any($1) group by s.status`,
      [ids.map((id) => id.cardNo)],
    );
    expect(statuses.rows).toEqual([{ status: 'ALLOWED', n: ROWS }]);
    const kinds = await f.database.pool.query<{ card_no: string; kind: string }>(
      'select card_no, kind from cards where card_no = any($1)',
      [ids.map((id) => id.cardNo)],
    );
    const kindByCard = new Map(kinds.rows.map((r) => [r.card_no, r.kind]));
    expect(ids.filter((id, i) => kindByCard.get(id.cardNo) !== kindOf(i))).toEqual([]);
    const last = ids[ROWS - 1] as Identity;
    const seen = await findMatchAt({ ctx, input: { cardNo: last.cardNo, at: d(T1), reveal: true } });
    expect(seen?.tcKimlikNo).toBe(last.tc);
  });

  it('a clash in the last chunk undoes the chunks already applied: REJECTED with the line named, nothing left', async () => {
    const before = (await counts()) ?? [];
    const ids = Array.from({ length: ROWS }, () => f.identity());
    const first = ids[0] as Identity;
    const intruder = f.identity();
    // The last line takes the first line's card while that match is open: found only after
    // the first chunk went in.
    const lines = [
      ...ids.map((id) => row(id, T0)),
      row(intruder, T1, '', intruder.hes, 'PERSONAL', first.cardNo),
    ];

    const strict = await importMatches({ ctx, pool: f.database.pool, input: { path: csv(lines) } });
    expect(strict).toMatchObject({ outcome: 'REJECTED', rows: ROWS + 1, invalid: 1, applied: null });
    expect(strict.rejects.map(formatReject)).toEqual([
      `line ${ROWS + 2}: OVERLAP_IN_FILE (overlaps line 2 for the same card)`,
    ]);
    expect(await counts()).toEqual(before);

    const lenient = await importMatches({
      ctx,
      pool: f.database.pool,
      input: { path: csv(lines), skipInvalid: true },
    });
    expect(lenient).toMatchObject({
      outcome: 'APPLIED',
      invalid: 1,
      applied: { inserted: ROWS, closed: 0, unchanged: 0, persons: ROWS, cards: ROWS },
    });
    expect(await counts()).toEqual(before.map((n) => n + ROWS));
    expect(await matchRows(f.database.pool, 'c.card_no = $1', [first.cardNo])).toHaveLength(1);
  });
});
