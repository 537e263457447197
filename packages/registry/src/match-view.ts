import { formatHesCode, HesStatus } from '@boarding/contracts/hes-code';
import { maskHes, maskTc } from '@boarding/contracts/mask';
import type { Keyring } from '@boarding/encryption/keyring';
import { openHes, openTc } from './pii';

/** A match as the registry shows it: masked TC/HES unless revealed (and then audited). */
export type MatchView = {
  matchId: number;
  cardNo: string;
  cardKind: 'PERSONAL' | 'ANONYMOUS';
  personId: number;
  tcKimlikNo: string;
  hesCode: string;
  validFrom: Date;
  validTo: Date | null;
  retractedAt: Date | null;
  retractReason: string | null;
  channel: string;
  /** The HES service's answer when the match was made through the API; null otherwise. */
  hesStatus: HesStatus | null;
};

export type MatchRecord = {
  id: number;
  cardNo: string;
  cardKind: 'PERSONAL' | 'ANONYMOUS';
  personId: number;
  tcEnc: Buffer;
  hesEnc: Buffer;
  validFrom: Date;
  validTo: Date | null;
  retractedAt: Date | null;
  retractReason: string | null;
  channel: string;
  hesStatus: string | null;
};

export function toMatchView(keyring: Keyring, r: MatchRecord, reveal: boolean): MatchView {
  const tc = openTc(keyring, r.tcEnc);
  const hes = openHes(keyring, r.hesEnc);
  return {
    matchId: r.id,
    cardNo: r.cardNo,
    cardKind: r.cardKind,
    personId: r.personId,
    tcKimlikNo: reveal ? tc : maskTc(tc),
    hesCode: reveal ? formatHesCode(hes) : maskHes(hes),
    validFrom: r.validFrom,
    validTo: r.validTo,
    retractedAt: r.retractedAt,
    retractReason: r.retractReason,
    channel: r.channel,
    hesStatus: HesStatus.safeParse(r.hesStatus).data ?? null,
  };
}
