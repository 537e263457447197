import { FIELD_CONTEXT } from '@boarding/encryption/context';
import { decryptField } from '@boarding/encryption/field-cipher';
import type { Keyring } from '@boarding/encryption/keyring';
import { clearCellsOf, type OpenedCells } from './clear-cells';

/**
 * One batch's sealed TC and HES values (those not opened already), packed for a worker: each
 * column's blobs concatenated into one buffer with their lengths, so the message is two copies,
 * not thousands of structured clones.
 */
// Lengths as typed arrays: a plain array is cloned into the worker value by value, a typed array in one copy.
export type PackedBlobs = { tc: Uint8Array; tcLengths: Int32Array; hes: Uint8Array; hesLengths: Int32Array };

function openAt(keyring: Keyring, packed: Uint8Array, from: number, length: number, context: string): string {
  return decryptField(keyring, packed.subarray(from, from + length), context);
}

/**
 * Open a batch's sealed TC and HES and send back each pair's CSV cells (`clearCellsOf`) as UTF-8
 * bytes end to end with their lengths: one buffer, no string per value for the main thread.
 */
export function openBlobs(keyring: Keyring, blobs: PackedBlobs): OpenedCells {
  const n = blobs.tcLengths.length;
  if (blobs.hesLengths.length !== n) throw new Error('a batch has not as many HES values as TC values');
  const cells: string[] = new Array(n);
  let tcAt = 0;
  let hesAt = 0;
  for (let i = 0; i < n; i++) {
    const tcLength = blobs.tcLengths[i] ?? 0;
    const hesLength = blobs.hesLengths[i] ?? 0;
    const tc = openAt(keyring, blobs.tc, tcAt, tcLength, FIELD_CONTEXT.tc);
    const hes = openAt(keyring, blobs.hes, hesAt, hesLength, FIELD_CONTEXT.hes);
    cells[i] = clearCellsOf(tc, hes);
    tcAt += tcLength;
    hesAt += hesLength;
  }
  const joined = cells.join('');
  // A buffer of its own, never a slice of Node's shared pool: the reply is cloned whole, with
  // whatever else the pool held.
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(joined, 'utf8'));
  bytes.write(joined, 'utf8');
  return { cells: bytes, lengths: Int32Array.from(cells, (cell) => Buffer.byteLength(cell, 'utf8')) };
}
