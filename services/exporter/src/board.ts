import type { createOpsServer } from '@boarding/ops-http/ops-server';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { BOARD_CHALLENGE, boardAuthorized } from './board-auth';
import type { ExportQueue } from './jobs/enqueue-day';

export const BOARD_PATH = '/board';

/**
 * Bull Board on the ops server under /board, every route of it (pages, assets, API) behind the
 * token. Registered in a scope of its own, so the hook and bull-board's error handler never
 * reach /healthz, /readyz or /metrics.
 */
export function mountBoard(
  ops: ReturnType<typeof createOpsServer>,
  queue: ExportQueue,
  token: string,
  options: { write: boolean },
): void {
  const adapter = new FastifyAdapter();
  adapter.setBasePath(BOARD_PATH);
  createBullBoard({
    // Read-only unless EXPORTER_BOARD_WRITE: bull-board then answers 405 to retry, promote, clean…
    queues: [new BullMQAdapter(queue, { readOnlyMode: !options.write })],
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: 'boarding exporter' } },
  });
  ops.register(
    async (scope) => {
      scope.addHook('onRequest', async (request, reply) => {
        if (boardAuthorized(request.headers.authorization, token)) return;
        return reply.code(401).header('www-authenticate', BOARD_CHALLENGE).send({
          error: 'unauthorized',
          message: 'send the board token as a Bearer token or Basic password',
        });
      });
      await scope.register(adapter.registerPlugin());
    },
    { prefix: BOARD_PATH },
  );
}
