import { blindIndex } from '@boarding/encryption/blind-index';
import { FIELD_CONTEXT } from '@boarding/encryption/context';
import { decryptField, encryptField } from '@boarding/encryption/field-cipher';
import type { Keyring } from '@boarding/encryption/keyring';

// Field contexts: bound into the ciphertext (AAD) and the blind index, so a TC ciphertext can
// never be read back as a HES code and equal values in different fields index differently.
const TC = FIELD_CONTEXT.tc;
const HES = FIELD_CONTEXT.hes;

export const sealTc = (k: Keyring, tc: string) => ({
  enc: encryptField(k, tc, TC),
  index: blindIndex(k, tc, TC),
});
export const sealHes = (k: Keyring, hes: string) => ({
  enc: encryptField(k, hes, HES),
  index: blindIndex(k, hes, HES),
});
export const tcIndexOf = (k: Keyring, tc: string) => blindIndex(k, tc, TC);
export const hesIndexOf = (k: Keyring, hes: string) => blindIndex(k, hes, HES);
export const openTc = (k: Keyring, blob: Buffer) => decryptField(k, blob, TC);
export const openHes = (k: Keyring, blob: Buffer) => decryptField(k, blob, HES);
