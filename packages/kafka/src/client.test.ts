import { type LogEntry, logLevel } from 'kafkajs';
import { kafkaLogLevel } from './client';

const entry = (level: logLevel, message: string, extra: Record<string, unknown> = {}): LogEntry => ({
  namespace: 'test',
  level,
  label: logLevel[level],
  log: { timestamp: '2020-11-20T00:00:00.000Z', logger: 'kafkajs', message, ...extra },
});

describe('the level of a kafkajs log entry', () => {
  it('puts the conditions a fresh broker goes through, and kafkajs retries, at debug', () => {
    const transient = [
      // What `npm run demo` showed first, at error level, while the broker settled.
      entry(logLevel.ERROR, 'Response GroupCoordinator(key: 10, version: 2)', {
        error: "The coordinator is loading and hence can't process requests for this group",
      }),
      entry(logLevel.ERROR, 'Response FindCoordinator(key: 10, version: 2)', {
        error: 'The group coordinator is not available',
      }),
      entry(logLevel.ERROR, 'Response Metadata(key: 3, version: 6)', {
        error: 'There is no leader for this topic-partition as we are in the middle of a leadership election',
      }),
      entry(logLevel.WARN, 'The group is rebalancing, re-joining', { groupId: 'g' }),
      entry(logLevel.ERROR, 'Request Fetch(key: 1, version: 11) timed out', { retryCount: 1 }),
      entry(logLevel.ERROR, 'Connection error: connect ECONNREFUSED 127.0.0.1:19092', { stack: '…' }),
      entry(logLevel.ERROR, 'Failed to connect to seed broker, trying another broker from the list: x', {}),
      entry(logLevel.ERROR, 'Failed to send messages: This server does not host this topic-partition', {
        retryCount: 0,
      }),
    ];
    expect(transient.map(kafkaLogLevel)).toEqual(transient.map(() => 'debug'));
  });

  it("keeps kafkajs' own level for anything else", () => {
    expect(
      kafkaLogLevel(entry(logLevel.ERROR, 'Crash: KafkaJSNonRetriableError: Topic authorization failed')),
    ).toBe('error');
    expect(
      kafkaLogLevel(
        entry(logLevel.ERROR, 'Response Produce(key: 0, version: 7)', { error: 'Message too large' }),
      ),
    ).toBe('error');
    expect(kafkaLogLevel(entry(logLevel.WARN, 'Consumer group received unsubscribed topics'))).toBe('warn');
    expect(kafkaLogLevel(entry(logLevel.INFO, 'Consumer has joined the group'))).toBe('info');
    expect(kafkaLogLevel(entry(logLevel.DEBUG, 'Response Fetch'))).toBe('debug');
  });
});
