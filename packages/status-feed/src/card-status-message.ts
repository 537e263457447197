import { CardNo } from '@boarding/contracts/card-no';
import { z } from 'zod';

/** SPEC §10: the compacted topic the validators read each card's status from. */
export const CARD_STATUS_TOPIC = 'card.status.v1';

export const CARD_STATUSES = ['ALLOWED', 'NOT_MATCHED', 'HES_RISKY'] as const;
export const CardStatus = z.enum(CARD_STATUSES);
export type CardStatus = z.infer<typeof CardStatus>;

/** One message value of `card.status.v1`; it never carries a TC or HES code (SPEC §10). */
export const CardStatusValue = z.strictObject({
  schema: z.literal('card-status.v1'),
  cardNo: CardNo,
  status: CardStatus,
  since: z.iso.datetime({ offset: true }),
  version: z.number().int().positive(),
});
export type CardStatusValue = z.infer<typeof CardStatusValue>;

export type CardStatusRecord = { cardNo: string; status: CardStatus; since: Date; version: number };

/**
 * The Kafka message for a card's status: key = the card number (compaction keeps the newest per
 * card), value = SPEC §10's JSON with its fields in the SPEC's order.
 */
export function cardStatusMessage(record: CardStatusRecord): { key: string; value: string } {
  const value = {
    schema: 'card-status.v1',
    cardNo: record.cardNo,
    status: record.status,
    since: record.since.toISOString(),
    version: record.version,
  } satisfies CardStatusValue;
  return { key: record.cardNo, value: JSON.stringify(value) };
}
