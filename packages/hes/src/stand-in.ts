import { HesStatus, normaliseHesCode } from '@boarding/contracts/hes-code';
import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { HesRecord } from './records';
import { MAX_STATUS_BATCH } from './verifier';

/** down: 503 · slow: answers after `slowMs` (past any sane timeout) · wrong: a 200 that is no answer. */
export type StandInMode = 'normal' | 'down' | 'slow' | 'wrong';

export type HesStandInOptions = {
  records: readonly HesRecord[];
  /** Delay of the `slow` mode; longer than the client's timeout. */
  slowMs?: number;
  /** Where NODE_ENV is read; the process environment unless a test says otherwise. */
  env?: Record<string, string | undefined>;
};

export type HesStandIn = {
  /** The fastify instance, for `inject` in tests; not listening until `listen`. */
  server: FastifyInstance;
  /** Starts listening (127.0.0.1 by default) and resolves with the base URL. */
  listen(options?: { host?: string; port?: number }): Promise<string>;
  /** Idempotent; open connections are cut, waiting `slow` answers are dropped. */
  close(): Promise<void>;
  setMode(mode: StandInMode): void;
  /**
   * The Ministry changed this code's status (a person turns risky, for the demo and tests; also
   * `POST /admin/status`). False when the code is unknown: nothing changed.
   */
  setStatus(hesCode: string, status: HesStatus): boolean;
  /** Requests to `/v1/verify` and `/v1/statuses` received so far, in any mode. */
  requestCount(): number;
};

/** The stand-in was asked to run where the Ministry's service must be used. */
export class StandInRefusedError extends Error {
  readonly code = 'HES_STAND_IN_REFUSED';
  readonly retryable = false;
  constructor() {
    super(
      'the HES stand-in must never run in production (NODE_ENV=production): point HES_SERVICE_URL at the Ministry’s HES service',
    );
    this.name = 'StandInRefusedError';
  }
}

/** Throws StandInRefusedError when NODE_ENV=production. */
export function refuseInProduction(env: Record<string, string | undefined>): void {
  if (env.NODE_ENV === 'production') throw new StandInRefusedError();
}

const VerifyRequest = z.object({ tc: z.string().max(64), hes: z.string().max(64) });
const StatusesRequest = z.object({ checks: z.array(VerifyRequest).min(1).max(MAX_STATUS_BATCH) });
const SetStatusRequest = z.object({
  hes: z.string().max(64),
  status: HesStatus,
});

// Room for MAX_STATUS_BATCH checks of the longest fields a check may have, and no more.
const STATUSES_BODY_LIMIT = MAX_STATUS_BATCH * 160;

/**
 * A stand-in for the Ministry's HES service (README: the contract), for the local stack, the demo
 * and the tests: deterministic answers from `records`, switchable to down, slow or wrong, and a
 * code's status changeable (`setStatus`, `POST /admin/status`) for the scheduled refresh. It
 * answers anyone who asks, from test data: a production deployment using it would accept codes
 * the Ministry never issued, so it refuses to exist when NODE_ENV=production.
 */
export function createHesStandIn(options: HesStandInOptions): HesStandIn {
  refuseInProduction(options.env ?? process.env);
  const slowMs = options.slowMs ?? 10_000;
  const byCode = new Map<string, HesRecord>();
  for (const record of options.records) {
    const hes = normaliseHesCode(record.hesCode);
    byCode.set(hes.ok ? hes.value : record.hesCode, record);
  }
  let mode: StandInMode = 'normal';
  let requests = 0;
  let closed: Promise<void> | null = null;
  const waiting = new Set<() => void>();

  const delay = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        waiting.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiting.add(done);
    });

  // Never logs: requests carry TC and HES in clear (KVKK, SPEC §3).
  const server = Fastify({ logger: false, bodyLimit: 4096, forceCloseConnections: true });

  server.setErrorHandler((err, _request, reply) => {
    // Fastify's own errors (bad JSON, body too large) carry a status; their text is not echoed.
    const code = (err as { statusCode?: unknown }).statusCode;
    const status = typeof code === 'number' && code >= 400 && code < 500 ? code : 500;
    void reply.code(status).send({ code: status === 500 ? 'INTERNAL' : 'BAD_REQUEST' });
  });

  server.get('/healthz', async () => ({ ok: true }));

  /** The answer for one check: the status, or the code the single endpoint would answer with. */
  const answer = (check: { tc: string; hes: string }) => {
    const hes = normaliseHesCode(check.hes);
    const record = hes.ok ? byCode.get(hes.value) : undefined;
    if (!record) return { code: 'HES_CODE_NOT_FOUND' as const };
    if (record.tcKimlikNo !== check.tc.trim()) return { code: 'HES_CODE_MISMATCH' as const };
    return { status: record.status };
  };

  server.post('/v1/verify', async (request, reply) => {
    requests++;
    if (mode === 'down') return reply.code(503).send({ code: 'HES_SERVICE_UNAVAILABLE' });
    if (mode === 'wrong') return reply.code(200).type('application/json').send('{"status":');
    if (mode === 'slow') await delay(slowMs);
    const body = VerifyRequest.safeParse(request.body);
    if (!body.success) return reply.code(400).send({ code: 'BAD_REQUEST' });
    const result = answer(body.data);
    if ('code' in result) return reply.code(result.code === 'HES_CODE_NOT_FOUND' ? 404 : 409).send(result);
    return reply.code(200).send(result);
  });

  server.post('/v1/statuses', { bodyLimit: STATUSES_BODY_LIMIT }, async (request, reply) => {
    requests++;
    if (mode === 'down') return reply.code(503).send({ code: 'HES_SERVICE_UNAVAILABLE' });
    if (mode === 'wrong') return reply.code(200).type('application/json').send('{"results":[');
    if (mode === 'slow') await delay(slowMs);
    const checks = (request.body as { checks?: unknown } | null)?.checks;
    if (Array.isArray(checks) && checks.length > MAX_STATUS_BATCH) {
      return reply.code(413).send({ code: 'BATCH_TOO_LARGE', max: MAX_STATUS_BATCH });
    }
    const body = StatusesRequest.safeParse(request.body);
    if (!body.success) return reply.code(400).send({ code: 'BAD_REQUEST' });
    return reply.code(200).send({ results: body.data.checks.map(answer) });
  });

  // Not part of the Ministry's contract: the demo (another process) turns a person risky here.
  server.post('/admin/status', async (request, reply) => {
    const body = SetStatusRequest.safeParse(request.body);
    if (!body.success) return reply.code(400).send({ code: 'BAD_REQUEST' });
    return setStatus(body.data.hes, body.data.status)
      ? reply.code(204).send()
      : reply.code(404).send({ code: 'HES_CODE_NOT_FOUND' });
  });

  function setStatus(hesCode: string, status: HesStatus): boolean {
    const hes = normaliseHesCode(hesCode);
    const record = hes.ok ? byCode.get(hes.value) : undefined;
    if (!hes.ok || !record) return false;
    byCode.set(hes.value, { ...record, status });
    return true;
  }

  return {
    server,
    async listen({ host = '127.0.0.1', port = 0 } = {}) {
      await server.listen({ host, port });
      const address = server.server.address();
      const bound = typeof address === 'object' && address ? address.port : port;
      return `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
    },
    close() {
      if (!closed) {
        for (const done of [...waiting]) done();
        closed = server.close();
      }
      return closed;
    },
    setMode(next) {
      mode = next;
    },
    setStatus,
    requestCount: () => requests,
  };
}
