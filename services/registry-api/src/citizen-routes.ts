import { CardKind } from '@boarding/contracts/card-no';
import { HesCode, HesStatus } from '@boarding/contracts/hes-code';
import { maskHes, maskTc } from '@boarding/contracts/mask';
import { changeHesCode } from '@boarding/registry/verbs/change-hes-code';
import { findMatchAt } from '@boarding/registry/verbs/find-match-at';
import { matchCard } from '@boarding/registry/verbs/match-card';
import { replaceCard } from '@boarding/registry/verbs/replace-card';
import { z } from 'zod';
import { noCurrentMatch } from './api-error';
import { CardNoField, MaskedMatch, maskedMatchOf, TcField } from './match-schemas';
import {
  CITIZEN_CHANNELS,
  type CitizenChannel,
  contextOf,
  defineRoute,
  takeTcAttempt,
} from './route-definition';

// SPEC §9: every citizen operation needs the TC kimlik no and the card number together. A card
// that is unmatched and a card matched to somebody else get the same 404 (noCurrentMatch, also
// what the verbs' NO_CURRENT_MATCH maps to), so a stranger holding a card number (or a TC)
// learns nothing from the answer.
const NOT_YOURS = 'NO_CURRENT_MATCH: this card has no current match with this TC kimlik no';

const HesField = HesCode.meta({
  description: 'HES code: 10 characters of A-Z 0-9, dashes and spaces ignored',
});

export const MatchRequest = z.strictObject({
  cardNo: CardNoField,
  tcKimlikNo: TcField,
  hesCode: HesField,
  cardKind: CardKind,
});

export const MatchResponse = z.object({
  matchId: z.number().int(),
  outcome: z.enum(['MATCHED', 'UNCHANGED']).describe('UNCHANGED: the same card, person and HES code again'),
  cardNo: z.string(),
  cardKind: CardKind,
  tcKimlikNo: z.string().describe('masked: *******6060'),
  hesCode: z.string().describe('masked: ****-****-X9'),
  hesStatus: HesStatus.describe("the HES service's answer at the time of the match"),
  channel: z.enum(CITIZEN_CHANNELS),
  endedMatchIds: z.array(z.number().int()).describe("the person's previous card match, ended here"),
});

export const OwnMatchRequest = z.strictObject({ cardNo: CardNoField, tcKimlikNo: TcField });

export const HesChangeRequest = z.strictObject({
  cardNo: CardNoField,
  tcKimlikNo: TcField,
  hesCode: HesField,
});

export const HesChangeResponse = z.object({
  matchId: z.number().int(),
  outcome: z.enum(['CHANGED', 'UNCHANGED']).describe('UNCHANGED: the card already carries this HES code'),
  cardNo: z.string(),
  tcKimlikNo: z.string().describe('masked'),
  hesCode: z.string().describe('masked'),
  hesStatus: HesStatus,
  channel: z.enum(CITIZEN_CHANNELS),
  endedMatchId: z.number().int().nullable(),
});

export const CardReplacementRequest = z.strictObject({
  cardNo: CardNoField.describe('the lost card, matched to this person now'),
  tcKimlikNo: TcField,
  newCardNo: CardNoField.describe('the new card: must not be matched to anybody'),
  newCardKind: CardKind,
});

export const CardReplacementResponse = z.object({
  matchId: z.number().int(),
  endedMatchId: z.number().int().describe("the lost card's match, ended now"),
  cardNo: z.string().describe('the new card'),
  cardKind: CardKind,
  tcKimlikNo: z.string().describe('masked'),
  channel: z.enum(CITIZEN_CHANNELS),
});

export const CITIZEN_ROUTES = [
  defineRoute({
    method: 'POST',
    url: '/v1/matches',
    summary: 'Match a card to a person and HES code, from now on (one step)',
    channels: CITIZEN_CHANNELS,
    status: 201,
    errors: {
      '409': 'CARD_TAKEN (the card is matched to another person) or MATCH_OVERLAP (a concurrent match)',
      '503': 'HES_SERVICE_UNAVAILABLE or DATABASE_UNAVAILABLE: nothing was matched; try again',
    },
    body: MatchRequest,
    response: MatchResponse,
    handler: async ({ client, body }, deps) => {
      await takeTcAttempt(deps, body.tcKimlikNo);
      // Never a silent accept: a mismatch or an unavailable service throws, mapped in api-error.ts.
      const { status: hesStatus } = await deps.hes.verify({
        tcKimlikNo: body.tcKimlikNo,
        hesCode: body.hesCode,
      });
      const result = await matchCard({ ctx: contextOf(client, deps), input: { ...body, hesStatus } });
      return {
        matchId: result.matchId,
        outcome: result.outcome,
        cardNo: body.cardNo,
        cardKind: body.cardKind,
        tcKimlikNo: maskTc(body.tcKimlikNo),
        hesCode: maskHes(body.hesCode),
        hesStatus,
        channel: client.channel as CitizenChannel,
        endedMatchIds: result.endedMatchIds,
      } satisfies z.input<typeof MatchResponse>;
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/matches/current',
    summary: "The caller's current match of this card, masked (TC kimlik no and card together)",
    channels: CITIZEN_CHANNELS,
    errors: { '404': NOT_YOURS },
    body: OwnMatchRequest,
    response: MaskedMatch,
    handler: async ({ client, body }, deps) => {
      // A lookup is a guess at a card–TC pair too: counted like a match attempt.
      await takeTcAttempt(deps, body.tcKimlikNo);
      const match = await findMatchAt({
        ctx: contextOf(client, deps),
        input: { cardNo: body.cardNo, tcKimlikNo: body.tcKimlikNo, at: deps.now() },
      });
      if (match === null) throw noCurrentMatch();
      return maskedMatchOf(match);
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/matches/hes-code',
    summary: "A new HES code for the caller's current match of this card, from now on",
    channels: CITIZEN_CHANNELS,
    errors: {
      '404': NOT_YOURS,
      '503': 'HES_SERVICE_UNAVAILABLE or DATABASE_UNAVAILABLE: nothing was changed; try again',
    },
    body: HesChangeRequest,
    response: HesChangeResponse,
    handler: async ({ client, body }, deps) => {
      await takeTcAttempt(deps, body.tcKimlikNo);
      // Not the caller's card: answered before the HES service is asked, so the API never runs a
      // stranger's TC–HES pair through it. changeHesCode checks again inside its transaction.
      const own = await findMatchAt({
        ctx: contextOf(client, deps),
        input: { cardNo: body.cardNo, tcKimlikNo: body.tcKimlikNo, at: deps.now() },
      });
      if (own === null) throw noCurrentMatch();
      const { status: hesStatus } = await deps.hes.verify({
        tcKimlikNo: body.tcKimlikNo,
        hesCode: body.hesCode,
      });
      const result = await changeHesCode({ ctx: contextOf(client, deps), input: { ...body, hesStatus } });
      return {
        matchId: result.matchId,
        outcome: result.outcome,
        cardNo: body.cardNo,
        tcKimlikNo: maskTc(body.tcKimlikNo),
        hesCode: maskHes(body.hesCode),
        hesStatus,
        channel: client.channel as CitizenChannel,
        endedMatchId: result.endedMatchId,
      } satisfies z.input<typeof HesChangeResponse>;
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/matches/card-replacement',
    summary: 'A lost card: its match ends now and the new card carries the same HES code',
    channels: CITIZEN_CHANNELS,
    errors: { '404': NOT_YOURS, '409': 'CARD_TAKEN: the new card is matched to somebody' },
    body: CardReplacementRequest,
    response: CardReplacementResponse,
    handler: async ({ client, body }, deps) => {
      await takeTcAttempt(deps, body.tcKimlikNo);
      const result = await replaceCard({
        ctx: contextOf(client, deps),
        input: {
          cardNo: body.cardNo,
          tcKimlikNo: body.tcKimlikNo,
          newCardNo: body.newCardNo,
          newCardKind: body.newCardKind,
        },
      });
      return {
        matchId: result.matchId,
        endedMatchId: result.endedMatchId,
        cardNo: body.newCardNo,
        cardKind: body.newCardKind,
        tcKimlikNo: maskTc(body.tcKimlikNo),
        channel: client.channel as CitizenChannel,
      } satisfies z.input<typeof CardReplacementResponse>;
    },
  }),
];
