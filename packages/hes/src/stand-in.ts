import { normaliseHesCode } from '@boarding/contracts/hes-code';
import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { HesRecord } from './records';

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
  /** Requests to `/v1/verify` received so far, in any mode. */
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

/**
 * A stand-in for the Ministry's HES service (README: the contract), for the local stack, the demo
 * and the tests: deterministic answers from `records`, switchable to down, slow or wrong. It
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

  server.post('/v1/verify', async (request, reply) => {
    requests++;
    if (mode === 'down') return reply.code(503).send({ code: 'HES_SERVICE_UNAVAILABLE' });
    if (mode === 'wrong') return reply.code(200).type('application/json').send('{"status":');
    if (mode === 'slow') await delay(slowMs);
    const body = VerifyRequest.safeParse(request.body);
    if (!body.success) return reply.code(400).send({ code: 'BAD_REQUEST' });
    const hes = normaliseHesCode(body.data.hes);
    const record = hes.ok ? byCode.get(hes.value) : undefined;
    if (!record) return reply.code(404).send({ code: 'HES_CODE_NOT_FOUND' });
    if (record.tcKimlikNo !== body.data.tc.trim()) return reply.code(409).send({ code: 'HES_CODE_MISMATCH' });
    return reply.code(200).send({ status: record.status });
  });

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
    requestCount: () => requests,
  };
}
