import { CardKind } from '@boarding/contracts/card-no';
import { HesCode } from '@boarding/contracts/hes-code';
import { correctMatch } from '@boarding/registry/verbs/correct-match';
import { findMatchAt } from '@boarding/registry/verbs/find-match-at';
import { getMatchHistory } from '@boarding/registry/verbs/get-match-history';
import { unmatchCard } from '@boarding/registry/verbs/unmatch-card';
import { z } from 'zod';
import { noCurrentMatch } from './api-error';
import { CardNoField, MaskedMatch, maskedMatchOf, TcField } from './match-schemas';
import { contextOf, defineRoute } from './route-definition';

// Staff operations (SPEC §9: STAFF keys only). Card numbers travel in the body, not the path: a
// card number with the tap history identifies a traveller, and URLs end up in access logs.
const STAFF = ['STAFF'] as const;

const Reason = z
  .string()
  .trim()
  .min(5, 'a reason of at least 5 characters is required')
  .max(500, 'at most 500 characters')
  .describe('why: kept in the audit with the key id');

export const CardLookupRequest = z.strictObject({ cardNo: CardNoField });

export const CardHistoryResponse = z.object({
  cardNo: z.string(),
  matches: z.array(
    MaskedMatch.extend({
      retractedAt: z.iso.datetime({ offset: true }).nullable(),
      retractReason: z.string().nullable(),
    }),
  ),
});

export const CorrectionRequest = z.strictObject({
  matchId: z.number().int().positive(),
  reason: Reason,
  replacement: z
    .strictObject({
      cardNo: CardNoField.optional(),
      cardKind: CardKind.optional(),
      tcKimlikNo: TcField.optional(),
      hesCode: HesCode.optional(),
      validFrom: z.iso.datetime({ offset: true }).optional(),
      validTo: z.iso.datetime({ offset: true }).nullable().optional(),
    })
    .optional()
    .describe('the corrected match; absent: the wrong one is only retracted'),
});

export const CorrectionResponse = z.object({
  retractedMatchId: z.number().int(),
  matchId: z.number().int().nullable().describe('the corrected match, or null when only retracted'),
});

export const UnmatchRequest = z.strictObject({ cardNo: CardNoField, reason: Reason });
export const UnmatchResponse = z.object({ endedMatchId: z.number().int() });

export const STAFF_ROUTES = [
  defineRoute({
    method: 'POST',
    url: '/v1/staff/card-lookup',
    summary: "A card's current match, masked (staff only)",
    channels: STAFF,
    errors: { '404': 'NO_CURRENT_MATCH' },
    body: CardLookupRequest,
    response: MaskedMatch,
    handler: async ({ client, body }, deps) => {
      const match = await findMatchAt({
        ctx: contextOf(client, deps),
        input: { cardNo: body.cardNo, at: deps.now() },
      });
      if (match === null) throw noCurrentMatch();
      return maskedMatchOf(match);
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/staff/card-history',
    summary: 'Every match of a card, retracted ones included, oldest first, masked (staff only)',
    channels: STAFF,
    body: CardLookupRequest,
    response: CardHistoryResponse,
    handler: async ({ client, body }, deps) => {
      const history = await getMatchHistory({ ctx: contextOf(client, deps), input: { cardNo: body.cardNo } });
      return {
        cardNo: body.cardNo,
        matches: history.map((view) => ({
          ...maskedMatchOf(view),
          retractedAt: view.retractedAt?.toISOString() ?? null,
          retractReason: view.retractReason,
        })),
      } satisfies z.input<typeof CardHistoryResponse>;
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/staff/corrections',
    summary: 'Retract a wrong match, with a reason, and optionally put the corrected one in its place',
    channels: STAFF,
    errors: {
      '404': 'MATCH_NOT_FOUND',
      '409': 'CARD_TAKEN or MATCH_OVERLAP: the corrected match collides with another',
    },
    body: CorrectionRequest,
    response: CorrectionResponse,
    handler: async ({ client, body }, deps) =>
      correctMatch({
        ctx: contextOf(client, deps),
        input: { ...body, replacement: body.replacement ?? null },
      }) satisfies Promise<z.input<typeof CorrectionResponse>>,
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/staff/unmatch',
    summary: "End a card's current match now, with a reason",
    channels: STAFF,
    errors: { '404': 'NO_CURRENT_MATCH' },
    body: UnmatchRequest,
    response: UnmatchResponse,
    handler: async ({ client, body }, deps) => unmatchCard({ ctx: contextOf(client, deps), input: body }),
  }),
];
