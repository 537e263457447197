import { customType } from 'drizzle-orm/pg-core';

/** bytea as a Buffer: ciphertexts and blind indexes of personal data. */
export const bytea = customType<{ data: Buffer; driverData: Buffer }>({
  dataType: () => 'bytea',
});
