/**
 * A valid `tap.v1` message value (SPEC §2) for tests: the fields a test cares about, the rest
 * the usual bus tap. `tappedAt` as epoch ms is written in UTC with an explicit offset.
 */
export function tapJson(fields: {
  validatorId: string;
  seq: number;
  cardNo: string;
  tappedAt: number | string;
  [field: string]: unknown;
}): string {
  const { tappedAt, ...rest } = fields;
  return JSON.stringify({
    schema: 'tap.v1',
    mode: 'BUS',
    lineCode: '202',
    vehicleId: '35-ESH-3041',
    stopCode: '10345',
    result: 'ACCEPTED',
    rejectReason: null,
    ...rest,
    tappedAt:
      typeof tappedAt === 'number' ? new Date(tappedAt).toISOString().replace('Z', '+00:00') : tappedAt,
  });
}
