import { userInfo } from 'node:os';
import { createDb } from '@boarding/db/client';
import type { ApiKeyView } from '@boarding/registry/api-keys/api-key-context';
import {
  API_KEY_CHANNELS,
  type ApiKeyChannel,
  channelNeedsLocation,
} from '@boarding/registry/api-keys/api-key-format';
import { createApiKey } from '@boarding/registry/verbs/create-api-key';
import { listApiKeys } from '@boarding/registry/verbs/list-api-keys';
import { listLocations } from '@boarding/registry/verbs/list-locations';
import { revokeApiKey } from '@boarding/registry/verbs/revoke-api-key';
import { type Command, InvalidArgumentError } from 'commander';
import { UsageError } from '../arguments';
import { emit, type GlobalOptions, table } from '../output';

type CreateOptions = GlobalOptions & { channel: ApiKeyChannel; location?: string; label?: string };

function parseChannel(value: string): ApiKeyChannel {
  const channel = API_KEY_CHANNELS.find((c) => c === value.trim().toUpperCase());
  if (!channel) throw new InvalidArgumentError(`--channel: one of ${API_KEY_CHANNELS.join(', ')}`);
  return channel;
}

/** One pool for one verb; closed whatever happens. */
async function withDb<T>(work: (db: ReturnType<typeof createDb>['db']) => Promise<T>): Promise<T> {
  const { db, pool } = createDb({ pool: { max: 1 } });
  try {
    return await work(db);
  } finally {
    await pool.end();
  }
}

const actor = () => ({ id: userInfo().username, channel: 'ADMIN' });
const day = (d: Date | null) => (d === null ? null : d.toISOString().slice(0, 19).replace('T', ' '));

function keyTable(keys: ApiKeyView[]): string {
  if (keys.length === 0) return 'no API keys (boarding apikey create --channel C)';
  return table(
    ['id', 'channel', 'location', 'label', 'created (UTC)', 'revoked (UTC)'],
    keys.map((k) => [k.id, k.channel, k.locationId, k.label, day(k.createdAt), day(k.revokedAt)]),
  );
}

export function registerApiKey(program: Command): void {
  const apikey = program
    .command('apikey')
    .description('API keys of the registry API: one channel each; stored hashed');

  apikey
    .command('create')
    .description('create a key and print it once (only its hash is kept)')
    .requiredOption('--channel <C>', `one of ${API_KEY_CHANNELS.join(', ')}`, parseChannel)
    .option('--location <L>', 'KIOSK and ACTIVATION_POINT only: a location id (boarding apikey locations)')
    .option('--label <text>', 'what the key is for (shown by list)')
    .option('--json', 'print { id, key, channel, … } as JSON')
    .action(async (options: CreateOptions) => {
      // Checked here too, to name the flag; the verb (and the database) enforce the same rule.
      if (channelNeedsLocation(options.channel) && options.location === undefined) {
        throw new UsageError(`a ${options.channel} key needs --location (boarding apikey locations)`);
      }
      if (!channelNeedsLocation(options.channel) && options.location !== undefined) {
        throw new UsageError(`a ${options.channel} key takes no --location`);
      }
      const created = await withDb((db) =>
        createApiKey({
          ctx: { db, actor: actor() },
          input: { channel: options.channel, locationId: options.location, label: options.label },
        }),
      );
      emit(options, created, (c) =>
        [
          `created API key ${c.id}: ${c.channel}${c.locationId ? ` at ${c.locationId}` : ''}${c.label ? ` (${c.label})` : ''}`,
          '',
          `  ${c.key}`,
          '',
          'This key is shown once: store it now (only its hash is kept). Send it as',
          '`Authorization: Bearer <key>`; `boarding apikey revoke ID` ends it.',
        ].join('\n'),
      );
    });

  apikey
    .command('list')
    .description('every key with its channel, location and state (never the key)')
    .option('--json', 'print the keys as JSON')
    .action(async (options: GlobalOptions) => {
      const keys = await withDb((db) => listApiKeys({ ctx: { db } }));
      emit(options, keys, keyTable);
    });

  apikey
    .command('revoke')
    .description('revoke a key from now on (idempotent)')
    .argument('<id>', 'the key id (boarding apikey list)')
    .option('--json', 'print the outcome as JSON')
    .action(async (id: string, options: GlobalOptions) => {
      const result = await withDb((db) => revokeApiKey({ ctx: { db, actor: actor() }, input: { id } }));
      emit(options, result, (r) =>
        r.alreadyRevoked ? `${r.id} was already revoked at ${r.revokedAt.toISOString()}` : `revoked ${r.id}`,
      );
    });

  apikey
    .command('locations')
    .description('the kiosk and activation-point locations a key can be bound to')
    .option('--json', 'print the locations as JSON')
    .action(async (options: GlobalOptions) => {
      const locations = await withDb((db) => listLocations({ ctx: { db } }));
      emit(options, locations, (l) =>
        table(
          ['id', 'kind', 'name'],
          l.map((x) => [x.id, x.kind, x.name]),
        ),
      );
    });
}
