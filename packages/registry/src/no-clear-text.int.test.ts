import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRepoRoot } from '@boarding/config/paths';
import { REGISTRY_CSV_HEADER } from '@boarding/simulator/registry-csv';
import { Client } from 'pg';
import { importMatches } from './import/import-matches';
import {
  at,
  clearForms,
  createRegistryFixture,
  type Identity,
  type RegistryFixture,
  withBadChecksum,
} from './registry-fixture.test-helpers';
import { changeHesCode } from './verbs/change-hes-code';
import { correctMatch } from './verbs/correct-match';
import { findMatchAt } from './verbs/find-match-at';
import { getMatchHistory } from './verbs/get-match-history';
import { matchCard } from './verbs/match-card';

/**
 * SPEC §3 (KVKK): TC numbers and HES codes are stored encrypted. This reads what PostgreSQL
 * holds, as SQL text and as the bytes of the database's files on disk, and looks for every TC
 * and HES code the test wrote, in every form they could take. Card numbers are stored in clear,
 * so finding them proves the scan reads the right bytes (the test can fail).
 */

let f: RegistryFixture;
let dir: string;
/** Every TC and HES code written through the registry in this file. */
const written: Identity[] = [];
/** Values that were offered and refused: they must not be anywhere either. */
const refused: string[] = [];
/** The TC matched through a verb, whose mask the audit row holds. */
let verbTc = '';

const T0 = at('2020-11-01T06:00:00.000Z');
const T1 = at('2020-11-03T06:00:00.000Z');
const iso = (d: Date) => d.toISOString();

/** Text and binary forms a TC or HES could be stored as. */
function needles(): { label: string; bytes: Buffer }[] {
  const out: { label: string; bytes: Buffer }[] = [];
  written.forEach((id, i) => {
    for (const form of clearForms(id)) {
      for (const variant of new Set([form, form.toLowerCase()])) {
        out.push({ label: `identity ${i}: ${variant.length}-char form`, bytes: Buffer.from(variant) });
      }
    }
    // A TC kept as bigint would not be text: look for its 8 bytes too (both byte orders).
    const n = BigInt(id.tc);
    const le = Buffer.alloc(8);
    le.writeBigInt64LE(n);
    const be = Buffer.alloc(8);
    be.writeBigInt64BE(n);
    out.push({ label: `identity ${i}: TC as int8 LE`, bytes: le });
    out.push({ label: `identity ${i}: TC as int8 BE`, bytes: be });
  });
  refused.forEach((value, i) => {
    out.push({ label: `refused value ${i}`, bytes: Buffer.from(value) });
  });
  return out;
}

/** Labels (never values) of the needles found in `haystack`. */
function found(haystack: Buffer, list = needles()): string[] {
  return list.filter((n) => haystack.includes(n.bytes)).map((n) => n.label);
}

beforeAll(async () => {
  f = await createRegistryFixture('reg_no_clear_text');
  dir = mkdtempSync(join(tmpdir(), 'registry-no-clear-'));

  // A bulk import: eight cards, two of them with a HES change (closed match + newer one).
  const ids = Array.from({ length: 8 }, () => f.identity());
  const lines: string[] = [];
  ids.forEach((id, i) => {
    if (i < 2) {
      const next = f.identity().hes;
      lines.push(`${id.cardNo},${id.tc},${id.hes},PERSONAL,${iso(T0)},${iso(T1)}`);
      lines.push(`${id.cardNo},${id.tc},${next},PERSONAL,${iso(T1)},`);
      written.push({ ...id, hes: next });
    } else {
      lines.push(`${id.cardNo},${id.tc},${id.hes},${i % 2 ? 'ANONYMOUS' : 'PERSONAL'},${iso(T0)},`);
    }
    written.push(id);
  });
  // Invalid rows, skipped: a TC failing its check digits and a HES code one character short.
  const bad = f.identity();
  const badTc = withBadChecksum(bad.tc);
  lines.push(`${bad.cardNo},${badTc},${bad.hes},PERSONAL,${iso(T0)},`);
  const shortHes = f.identity();
  lines.push(`${shortHes.cardNo},${shortHes.tc},${shortHes.hes.slice(0, 9)},PERSONAL,${iso(T0)},`);
  refused.push(badTc, shortHes.hes.slice(0, 9), shortHes.tc);
  const path = join(dir, 'registry.csv');
  writeFileSync(path, `${REGISTRY_CSV_HEADER}\n${lines.join('\n')}\n`);
  const report = await importMatches({
    ctx: f.ctx({ actor: { id: 'importer', channel: 'IMPORT' } }),
    pool: f.database.pool,
    input: { path, skipInvalid: true, rejectsPath: join(dir, 'rejects.csv') },
  });
  expect(report).toMatchObject({ outcome: 'APPLIED', invalid: 2, applied: { inserted: 10 } });

  // The verbs: a match, a HES change, a correction and clear reads (audited).
  const kiosk = f.identity();
  const kioskHes2 = f.identity().hes;
  await matchCard({
    ctx: f.ctx(),
    input: { cardNo: kiosk.cardNo, cardKind: 'PERSONAL', tcKimlikNo: kiosk.tc, hesCode: kiosk.hes, at: T0 },
  });
  const changed = await changeHesCode({
    ctx: f.ctx(),
    input: { cardNo: kiosk.cardNo, hesCode: kioskHes2, at: T1 },
  });
  const corrected = f.identity();
  await correctMatch({
    ctx: f.ctx({ actor: { channel: 'ADMIN' } }),
    input: {
      matchId: changed.matchId,
      reason: 'HES code keyed for the wrong family member',
      replacement: { tcKimlikNo: corrected.tc, hesCode: corrected.hes },
    },
  });
  verbTc = kiosk.tc;
  written.push(kiosk, { ...kiosk, hes: kioskHes2 }, { ...corrected, cardNo: kiosk.cardNo });
  await findMatchAt({ ctx: f.ctx(), input: { cardNo: kiosk.cardNo, at: T1, reveal: true } });
  await getMatchHistory({ ctx: f.ctx(), input: { tcKimlikNo: kiosk.tc, reveal: true } });
});

afterAll(async () => {
  await f?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('no TC or HES code in clear in the database', () => {
  it('is in no row of persons, matches, registry_audit, import_runs or cards, read as SQL text', async () => {
    const tables = ['persons', 'matches', 'registry_audit', 'import_runs', 'cards'];
    const text: string[] = [];
    for (const table of tables) {
      const { rows } = await f.database.pool.query<{ row: string }>(`select t::text as row from ${table} t`);
      expect(rows.length).toBeGreaterThan(0);
      text.push(...rows.map((r) => r.row));
    }
    const all = Buffer.from(text.join('\n'));
    expect(found(all)).toEqual([]);
    // The scan sees clear values where they are allowed: card numbers, and the masks in the audit.
    for (const id of written) expect(all.includes(Buffer.from(id.cardNo))).toBe(true);
    expect(all.includes(Buffer.from(`*******${verbTc.slice(-4)}`))).toBe(true);
  });

  it("is in none of the database's files on disk (after a checkpoint), where the card numbers are", async () => {
    const root = findRepoRoot();
    const dataDir = join(root, '.local', 'pg', 'data');
    const port = new URL(f.database.url).port;
    // CHECKPOINT needs a superuser (the app role is not one): the local stack's own socket,
    // trust auth for the postgres user (packages/stack/src/postgres.ts).
    const su = new Client({
      host: join(root, '.local', 'pg', 'run'),
      port: Number(port),
      user: 'postgres',
      database: 'postgres',
    });
    await su.connect();
    try {
      await su.query('checkpoint');
    } finally {
      await su.end();
    }
    const { rows } = await f.database.pool.query<{
      oid: number;
      persons: string;
      matches: string;
      cards: string;
    }>(
      `select (select oid::int from pg_database where datname = current_database()) as oid,
              pg_relation_filepath('persons') as persons, pg_relation_filepath('matches') as matches,
              pg_relation_filepath('cards') as cards`,
    );
    const info = rows[0];
    if (!info) throw new Error('no database oid');
    const dbDir = join(dataDir, 'base', String(info.oid));

    // The relation files hold the rows now (a checkpoint writes every dirty buffer).
    const personsFile = readFileSync(join(dataDir, info.persons));
    const matchesFile = readFileSync(join(dataDir, info.matches));
    const cardsFile = readFileSync(join(dataDir, info.cards));
    expect(personsFile.length).toBeGreaterThan(0);
    expect(matchesFile.length).toBeGreaterThan(0);
    for (const id of written) expect(cardsFile.includes(Buffer.from(id.cardNo))).toBe(true);
    expect(found(Buffer.concat([personsFile, matchesFile]))).toEqual([]);

    // Every file of the database: tables, indexes, TOAST, free space maps, catalogs.
    const list = needles();
    const hits: string[] = [];
    let bytes = 0;
    for (const name of readdirSync(dbDir)) {
      const file = join(dbDir, name);
      if (!statSync(file).isFile()) continue;
      const content = readFileSync(file);
      bytes += content.length;
      for (const label of found(content, list)) hits.push(`${name}: ${label}`);
    }
    expect(bytes).toBeGreaterThan(personsFile.length + matchesFile.length);
    expect(hits).toEqual([]);
  });
});
