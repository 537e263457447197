import { isCalendarDay, serviceDayOf } from '@boarding/contracts/time';
import { inspectDay } from '@boarding/day/inspect-day';
import { DayRangeError, rangeAsked, summarizeDays } from '@boarding/day/summarize-days';
import type { Logger } from '@boarding/logger/logger';
import { type createOpsServer, errorCode } from '@boarding/ops-http/ops-server';
import type { Pool } from 'pg';
import { BOARD_CHALLENGE, boardAuthorized } from '../board-auth';
import { exportDayJobId } from '../jobs/export-day';
import { DAY_PAGES_CSP, type PageLinks, renderDayPage, renderDaysPage, renderErrorPage } from './render';

export const DAYS_PATH = '/days';

/** The part of a fastify reply the pages use (fastify is the ops server's dependency, not ours). */
type Reply = {
  code(status: number): Reply;
  header(name: string, value: string): Reply;
  send(payload: string): Reply;
};

export type DayPagesOptions = {
  pool: Pool;
  /** EXPORTER_BOARD_TOKEN: the pages show what Bull Board shows, behind the same check. */
  token: string;
  /** Where Bull Board is mounted and the export queue's name, for links to a day's job. */
  boardPath: string;
  queueName: string;
  /** EXPORT_SILENT_ALERT_RATIO: above it, a day's silent fleet is an alert. */
  silentAlertRatio: number;
  /** The business clock: `/days` shows the 30 service days before today (Europe/Istanbul). */
  now: () => Date;
  logger: Logger;
};

/**
 * `/days` (the last 30 service days, or `?from=&to=`) and `/days/YYYY-MM-DD` on the ops server,
 * in a scope of their own behind the board token, so the hook never reaches /healthz, /readyz
 * or /metrics.
 */
export function mountDayPages(ops: ReturnType<typeof createOpsServer>, options: DayPagesOptions): void {
  const queue = encodeURIComponent(options.queueName);
  const links: PageLinks = {
    daysPath: DAYS_PATH,
    boardQueue: `${options.boardPath}/queue/${queue}`,
    boardJob: (day) => `${options.boardPath}/queue/${queue}/${encodeURIComponent(exportDayJobId(day))}`,
  };
  const send = (reply: Reply, status: number, page: string) =>
    reply
      .code(status)
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', DAY_PAGES_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-store')
      .send(page);

  ops.register(
    async (scope) => {
      scope.addHook('onRequest', async (request, reply) => {
        if (boardAuthorized(request.headers.authorization, options.token)) return;
        return reply.code(401).header('www-authenticate', BOARD_CHALLENGE).send({
          error: 'unauthorized',
          message: 'send the board token as a Bearer token or Basic password',
        });
      });
      // The database away (or any failure): a page with the error's code, never its text (it can
      // name hosts, users, connection strings); the text goes to the log.
      scope.setErrorHandler(async (err, request, reply) => {
        options.logger.warn({ err: (err as Error).message, url: request.url }, 'day page failed');
        return send(
          reply,
          500,
          renderErrorPage('Could not read the days', `The store did not answer (${errorCode(err)}).`, links),
        );
      });

      scope.get<{ Querystring: { from?: string; to?: string } }>('/', async (request, reply) => {
        // An empty field (a form left blank) is not given: the same defaults as `boarding days list`.
        const range = rangeAsked(serviceDayOf(options.now().getTime()), {
          from: request.query.from || undefined,
          to: request.query.to || undefined,
        });
        try {
          const summaries = await summarizeDays(options.pool, range, {
            silentAlertRatio: options.silentAlertRatio,
          });
          return send(reply, 200, renderDaysPage(summaries, range, links));
        } catch (err) {
          if (!(err instanceof DayRangeError)) throw err;
          return send(reply, 400, renderErrorPage('Not a range of days', err.message, links));
        }
      });

      scope.get<{ Params: { day: string } }>('/:day', async (request, reply) => {
        const { day } = request.params;
        if (!isCalendarDay(day)) {
          return send(
            reply,
            400,
            renderErrorPage('Not a day', 'A day page is /days/YYYY-MM-DD, a real calendar date.', links),
          );
        }
        const inspection = await inspectDay(options.pool, day, {
          silentAlertRatio: options.silentAlertRatio,
        });
        return send(reply, 200, renderDayPage(inspection, links));
      });
    },
    { prefix: DAYS_PATH },
  );
}
