import { CardKind, CardNo } from '@boarding/contracts/card-no';
import { HesStatus } from '@boarding/contracts/hes-code';
import { TcKimlikNo } from '@boarding/contracts/tc-kimlik';
import type { MatchView } from '@boarding/registry/match-view';
import { z } from 'zod';

// The request fields every route checks the same way (their rules are the contracts' own).
export const CardNoField = CardNo.meta({
  description: 'the printed card number: 8-20 characters of 0-9 A-F',
});
export const TcField = TcKimlikNo.meta({
  description: 'TC kimlik no: 11 digits with the check digits of SPEC §3',
});

/** A match as the API shows it: masked TC and HES only (SPEC §9: no TC or HES in clear). */
export const MaskedMatch = z.object({
  matchId: z.number().int(),
  cardNo: z.string(),
  cardKind: CardKind,
  tcKimlikNo: z.string().describe('masked: *******6060'),
  hesCode: z.string().describe('masked: ****-****-X9'),
  hesStatus: HesStatus.nullable().describe(
    "the HES service's answer when the match was made; null for imports",
  ),
  validFrom: z.iso.datetime({ offset: true }),
  validTo: z.iso.datetime({ offset: true }).nullable(),
  channel: z.string().describe('the channel that made the match'),
});

/** A registry view (already masked) as MaskedMatch's JSON. */
export function maskedMatchOf(view: MatchView): z.input<typeof MaskedMatch> {
  return {
    matchId: view.matchId,
    cardNo: view.cardNo,
    cardKind: view.cardKind,
    tcKimlikNo: view.tcKimlikNo,
    hesCode: view.hesCode,
    hesStatus: view.hesStatus,
    validFrom: view.validFrom.toISOString(),
    validTo: view.validTo?.toISOString() ?? null,
    channel: view.channel,
  };
}
