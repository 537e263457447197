import { createHash } from 'node:crypto';
import { writeCsvLines } from './registry-csv';

/**
 * What the Ministry's HES service answers about one simulated code (SPEC §9): it belongs to this
 * TC and has this status. The HES stand-in (`boarding serve hes-stand-in`) serves these.
 */
export type HesAnswer = { hesCode: string; tcKimlikNo: string; status: 'RISKY' | 'RISKLESS' };

/** The header of the stand-in's own CSV format (`HES_STAND_IN_DATA`, packages/hes README: Data). */
export const HES_ANSWERS_CSV_HEADER = 'hes_code,tc_kimlik_no,status';

/**
 * A simulated code's status: RISKY when the first four bytes of SHA-256(code), read as an unsigned
 * big-endian integer, are 0 mod 10 (about one code in ten). The stand-in gives a registry CSV's
 * codes the same status (`standInStatusFor`), so it answers alike from either file, and a test can
 * predict an answer from the code alone.
 */
export function hesStatusOf(hesCode: string): HesAnswer['status'] {
  return createHash('sha256').update(hesCode).digest().readUInt32BE(0) % 10 === 0 ? 'RISKY' : 'RISKLESS';
}

/** Writes the stand-in's data file (header, then one answer per line); returns the answers written. */
export async function writeHesAnswersCsv(path: string, answers: Iterable<HesAnswer>): Promise<number> {
  return writeCsvLines(path, HES_ANSWERS_CSV_HEADER, mapAnswers(answers));
}

function* mapAnswers(answers: Iterable<HesAnswer>): Generator<string> {
  for (const a of answers) yield `${a.hesCode},${a.tcKimlikNo},${a.status}`;
}
