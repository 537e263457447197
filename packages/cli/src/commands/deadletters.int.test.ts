import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { registerDeadletters } from './deadletters';
import { runCommand } from './run-command.test-helpers';

const CARD = '0412345678901234';
const TC = '10000000146';
const RAW = JSON.stringify({
  schema: 'tap.v1',
  validatorId: 'BUS-1-1',
  seq: 7,
  cardNo: CARD,
  tappedAt: '2020-11-20T08:15:42.120+03:00',
  mode: 'ROCKET',
  note: `typed by hand: ${TC}, card ${CARD.toLowerCase()}`,
});

describe('boarding deadletters', () => {
  let db: TestDatabase;
  const boarding = (args: string[]) =>
    runCommand(registerDeadletters, args, { DATABASE_URL: db.url, KAFKA_TAPS_TOPIC: 'validator.taps.v1' });

  beforeAll(async () => {
    db = await createTestDatabase('cli_deadletters');
    await db.pool.query(
      `insert into dead_letters (topic, kafka_partition, kafka_offset, kafka_timestamp, message_key, raw_value,
                                 reason, detail, validator_id, seq, service_day)
       values ('validator.taps.v1', 3, 1200, '2020-11-20T08:15:43+03:00', 'BUS-1-1'::bytea, $1, 'SCHEMA_INVALID',
               $2, 'BUS-1-1', 7, '2020-11-20')`,
      [Buffer.from(RAW), `mode: not one of BUS METRO (card ${CARD})`],
    );
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('show --json masks card numbers (the cardNo member and any other), TC and HES', async () => {
    const { stdout } = await boarding(['deadletters', 'show', '3:1200', '--json']);
    const shown = JSON.parse(stdout) as { value: string; detail: string; key: string };
    expect(stdout).not.toContain(CARD);
    expect(stdout).not.toContain(CARD.toLowerCase());
    expect(stdout).not.toContain(TC);
    expect(shown.value).toContain('"cardNo":"************1234"');
    expect(shown.value).toContain('card ************1234');
    expect(shown.value).toContain('"validatorId":"BUS-1-1"');
    expect(shown.detail).toBe('mode: not one of BUS METRO (card ************1234)');
    expect(shown.key).toBe('BUS-1-1');
  });

  it('show (human) and list mask them too', async () => {
    const show = await boarding(['deadletters', 'show', '3:1200']);
    expect(show.stdout).toContain('************1234');
    expect(show.stdout).not.toContain(CARD);
    const list = await boarding(['deadletters', 'list', '--json']);
    expect(list.stdout).not.toContain(CARD);
    expect(list.stdout).toContain('************1234');
  });
});
