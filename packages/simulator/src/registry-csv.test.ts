import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseImportRow } from '@boarding/contracts/match';
import { generateDay } from './day';
import {
  REGISTRY_CSV_HEADER,
  registryCsvLines,
  writeRegistryCsv,
  writeRegistryRowsCsv,
} from './registry-csv';

const header = REGISTRY_CSV_HEADER.split(',');
const parseLine = (line: string) =>
  parseImportRow(Object.fromEntries(header.map((h, i) => [h, line.split(',')[i] ?? ''])));

describe('registry CSV', () => {
  const dir = mkdtempSync(join(tmpdir(), 'registry-csv-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a simulated day’s registry: the SPEC §3 header, one valid row per line, +03:00 instants', async () => {
    const { registryRows } = generateDay({ day: '2020-11-20', taps: 2_000, seed: 9 });
    const path = join(dir, 'day.csv');
    expect(await writeRegistryRowsCsv(path, registryRows)).toBe(registryRows.length);
    // It holds TC and HES in the import format: readable by the owner only.
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines[0]).toBe('card_no,tc_kimlik_no,hes_code,card_kind,valid_from,valid_to');
    expect(lines.at(-1)).toBe('');
    const rows = lines.slice(1, -1);
    expect(rows).toHaveLength(registryRows.length);
    for (const line of rows) {
      expect(parseLine(line).ok).toBe(true);
      expect(line).toMatch(/,\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+03:00,/);
    }
  });

  it('still writes the stand-alone registry file the import tests use', async () => {
    const path = join(dir, 'plain.csv');
    expect(await writeRegistryCsv(path, { cards: 300, seed: 1 })).toBeGreaterThanOrEqual(300);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe(REGISTRY_CSV_HEADER);
    for (const line of lines.slice(1)) expect(parseLine(line).ok).toBe(true);
    expect([...registryCsvLines({ cards: 300, seed: 1 })]).toEqual(lines.slice(1));
  });
});
