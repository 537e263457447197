import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { DAY_MS } from '@boarding/contracts/time';
import { syntheticCardNo, syntheticHes, syntheticTc } from './identities';
import { istanbulIso } from './istanbul-time';
import { Random } from './random';
import type { RegistryRow } from './registry-model';

export type RegistryCsvOptions = {
  /** Number of cards (each with one person). */
  cards: number;
  seed: number;
  /** Share of cards that changed HES code once (two rows of history). */
  hesChangeShare?: number;
  /** Share of personal (photo) cards; the rest are anonymous "hamiline" cards. */
  personalShare?: number;
  /** Matches start in the 30 days before this instant. */
  until?: Date;
};

export const REGISTRY_CSV_HEADER = 'card_no,tc_kimlik_no,hes_code,card_kind,valid_from,valid_to';

/**
 * Lines of a registry import file (SPEC §3), without the header: one person per card, some
 * cards with a closed match and a newer one (a HES change). Deterministic for a seed.
 */
export function* registryCsvLines(options: RegistryCsvOptions): Generator<string> {
  const random = new Random(options.seed);
  const until = (options.until ?? new Date('2020-11-20T00:00:00+03:00')).getTime();
  for (let i = 0; i < options.cards; i++) {
    const card = syntheticCardNo(i);
    const tc = syntheticTc(i);
    const kind = random.chance(options.personalShare ?? 0.6) ? 'PERSONAL' : 'ANONYMOUS';
    const from = until - random.int(1, 30 * DAY_MS);
    if (random.chance(options.hesChangeShare ?? 0.05)) {
      const change = from + random.int(1, until - from);
      yield `${card},${tc},${syntheticHes(random)},${kind},${iso(from)},${iso(change)}`;
      yield `${card},${tc},${syntheticHes(random)},${kind},${iso(change)},`;
    } else {
      yield `${card},${tc},${syntheticHes(random)},${kind},${iso(from)},`;
    }
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

export async function writeRegistryCsv(path: string, options: RegistryCsvOptions): Promise<number> {
  return writeCsvLines(path, REGISTRY_CSV_HEADER, registryCsvLines(options));
}

/** One import line of a simulated day's registry row; instants in Istanbul time, +03:00. */
export function registryRowLine(row: RegistryRow): string {
  const to = row.validTo === null ? '' : istanbulIso(row.validTo);
  return `${row.cardNo},${row.tcKimlikNo},${row.hesCode},${row.cardKind},${istanbulIso(row.validFrom)},${to}`;
}

/** Writes a simulated day's registry (`DayPlan.registryRows()`) as an import file; returns the rows. */
export async function writeRegistryRowsCsv(path: string, rows: Iterable<RegistryRow>): Promise<number> {
  return writeCsvLines(path, REGISTRY_CSV_HEADER, mapLines(rows, registryRowLine));
}

function* mapLines<T>(items: Iterable<T>, line: (item: T) => string): Generator<string> {
  for (const item of items) yield line(item);
}

/**
 * Header then lines, LF-terminated, written in 1 MiB chunks with back-pressure; returns the lines
 * written. Also writes the HES stand-in's data (hes-answers.ts).
 */
export async function writeCsvLines(path: string, header: string, lines: Iterable<string>): Promise<number> {
  // TC and HES in clear (synthetic, but a registry file all the same): owner only.
  const out = createWriteStream(path, { mode: 0o600 });
  let count = 0;
  let chunk = `${header}\n`;
  try {
    for (const line of lines) {
      chunk += `${line}\n`;
      count++;
      if (chunk.length > 1 << 20) {
        // once() rejects on 'error', so a full disk fails the write instead of hanging it.
        if (!out.write(chunk)) await once(out, 'drain');
        chunk = '';
      }
    }
    out.end(chunk);
    await finished(out);
  } catch (err) {
    out.destroy();
    throw err;
  }
  return count;
}
