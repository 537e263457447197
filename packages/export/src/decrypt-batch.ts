import { FIELD_CONTEXT } from '@boarding/encryption/context';
import { openField } from '@boarding/encryption/field-cipher';
import type { Keyring } from '@boarding/encryption/keyring';
import { ByteOut, COMMA } from './byte-out';
import type { OpenedCells } from './clear-cells';

/**
 * One batch's sealed TC and HES values (those not opened already), packed for a worker: each
 * column's blobs concatenated into one buffer with their lengths, so the message is two copies,
 * not thousands of structured clones.
 */
// Lengths as typed arrays: a plain array is cloned into the worker value by value, a typed array in one copy.
export type PackedBlobs = { tc: Uint8Array; tcLengths: Int32Array; hes: Uint8Array; hesLengths: Int32Array };

/**
 * Open a batch's sealed TC and HES and send back each pair's CSV cells (`tc,hes,`, each quoted
 * where RFC 4180 needs it, as csv-stringify quotes) as UTF-8 bytes end to end with their
 * lengths: one buffer, no string per value on either thread. The bytes are the plaintext as
 * sealed (always valid UTF-8: every writer seals a JavaScript string).
 */
export function openBlobs(keyring: Keyring, blobs: PackedBlobs): OpenedCells {
  const n = blobs.tcLengths.length;
  if (blobs.hesLengths.length !== n) throw new Error('a batch has not as many HES values as TC values');
  const tc = asBuffer(blobs.tc);
  const hes = asBuffer(blobs.hes);
  // ~23 bytes a pair; grows if values are longer.
  const out = new ByteOut(n * 24 + 64);
  const lengths = new Int32Array(n);
  let tcAt = 0;
  let hesAt = 0;
  for (let i = 0; i < n; i++) {
    const tcLength = blobs.tcLengths[i] ?? 0;
    const hesLength = blobs.hesLengths[i] ?? 0;
    const start = out.at;
    const clearTc = openField(keyring, tc.subarray(tcAt, tcAt + tcLength), FIELD_CONTEXT.tc);
    out.cell(clearTc, 0, clearTc.length);
    out.byte(COMMA);
    const clearHes = openField(keyring, hes.subarray(hesAt, hesAt + hesLength), FIELD_CONTEXT.hes);
    out.cell(clearHes, 0, clearHes.length);
    out.byte(COMMA);
    lengths[i] = out.at - start;
    tcAt += tcLength;
    hesAt += hesLength;
  }
  // A buffer of its own, never a slice of Node's shared pool: the reply is cloned whole.
  const cells = Buffer.allocUnsafeSlow(out.at);
  out.buf.copy(cells, 0, 0, out.at);
  return { cells, lengths };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
