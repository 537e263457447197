import { FIELD_CONTEXT } from '@boarding/encryption/context';
import { decryptField } from '@boarding/encryption/field-cipher';
import type { Keyring } from '@boarding/encryption/keyring';

/**
 * One cursor batch's sealed TC and HES values, packed for a worker: each column's blobs
 * concatenated into one buffer with their lengths, so the message is two copies, not 10,000
 * structured clones.
 */
export type PackedBlobs = { tc: Uint8Array; tcLengths: number[]; hes: Uint8Array; hesLengths: number[] };

/** The clear values, each column joined by LF (TC is 11 digits, HES 10 letters/digits: no LF). */
export type OpenedColumns = { tc: string; hes: string };

export function packBlobs(rows: { tc_enc: Buffer; hes_enc: Buffer }[]): PackedBlobs {
  return {
    tc: Buffer.concat(rows.map((r) => r.tc_enc)),
    tcLengths: rows.map((r) => r.tc_enc.length),
    hes: Buffer.concat(rows.map((r) => r.hes_enc)),
    hesLengths: rows.map((r) => r.hes_enc.length),
  };
}

function openColumn(keyring: Keyring, packed: Uint8Array, lengths: number[], context: string): string {
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
