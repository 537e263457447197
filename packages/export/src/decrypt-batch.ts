import { FIELD_CONTEXT } from '@boarding/encryption/context';
import { decryptField } from '@boarding/encryption/field-cipher';
import type { Keyring } from '@boarding/encryption/keyring';

/**
 * One batch's sealed TC and HES values (those not opened already), packed for a worker: each
 * column's blobs concatenated into one buffer with their lengths, so the message is two copies,
 * not thousands of structured clones.
 */
// Lengths as typed arrays: a plain array is cloned into the worker value by value, a typed array in one copy.
export type PackedBlobs = { tc: Uint8Array; tcLengths: Int32Array; hes: Uint8Array; hesLengths: Int32Array };

/** The clear values, each column joined by LF (TC is 11 digits, HES 10 letters/digits: no LF). */
export type OpenedColumns = { tc: string; hes: string };

function openColumn(keyring: Keyring, packed: Uint8Array, lengths: Int32Array, context: string): string {
  const out: string[] = new Array(lengths.length);
  let at = 0;
  for (let i = 0; i < lengths.length; i++) {
    const length = lengths[i] ?? 0;
    out[i] = decryptField(keyring, packed.subarray(at, at + length), context);
    at += length;
  }
  return out.join('\n');
}

export function openBlobs(keyring: Keyring, blobs: PackedBlobs): OpenedColumns {
  return {
    tc: openColumn(keyring, blobs.tc, blobs.tcLengths, FIELD_CONTEXT.tc),
    hes: openColumn(keyring, blobs.hes, blobs.hesLengths, FIELD_CONTEXT.hes),
  };
}
