import {
  assertApartFromMainStack,
  DEFAULT_SOAK_PORTS,
  mainStack,
  parseServers,
  soakPorts,
} from './soak-settings';
import { soakStackVariables, withoutProductVariables } from './soak-stack';

describe('the soak stack is apart from the main one', () => {
  const main = mainStack(
    { BOARDING_PG_PORT: '25432' },
    'DATABASE_URL=postgres://u:p@127.0.0.1:15432/boarding\nKAFKA_BROKERS=127.0.0.1:19092\nSFTP_PORT=12222\n',
  );

  it('knows the main stack by its defaults, its BOARDING_*_PORT and its stack.env', () => {
    expect(main.ports).toEqual(expect.arrayContaining([15432, 16379, 19092, 19093, 12222, 25432]));
  });

  it('refuses the main directory, a directory holding it, and any of its ports', () => {
    expect(() =>
      assertApartFromMainStack({ dir: `${main.dir}/soak`, ports: DEFAULT_SOAK_PORTS }, main),
    ).not.toThrow();
    expect(() => assertApartFromMainStack({ dir: main.dir, ports: DEFAULT_SOAK_PORTS }, main)).toThrow(
      /main stack/,
    );
    expect(() =>
      assertApartFromMainStack({ dir: `${main.dir}/..`, ports: DEFAULT_SOAK_PORTS }, main),
    ).toThrow(/main stack/);
    expect(() =>
      assertApartFromMainStack({ dir: '/tmp/soak', ports: { ...DEFAULT_SOAK_PORTS, pg: 25432 } }, main),
    ).toThrow(/pg 25432/);
  });

  it('takes SOAK_*_PORT, refusing bad or repeated ports', () => {
    expect(soakPorts({})).toEqual(DEFAULT_SOAK_PORTS);
    expect(soakPorts({ SOAK_REDIS_PORT: '28379' }).redis).toBe(28379);
    expect(() => soakPorts({ SOAK_PG_PORT: '80' })).toThrow(/SOAK_PG_PORT/);
    expect(() => soakPorts({ SOAK_PG_PORT: String(DEFAULT_SOAK_PORTS.redis) })).toThrow(/differ/);
  });

  it('gives children none of the product settings of the shell it was started from', () => {
    const env = withoutProductVariables({
      PATH: '/bin',
      BOARDING_ROOT: '/repo',
      BOARDING_PG_PORT: '15432',
      DATABASE_URL: 'postgres://main',
      KAFKA_BROKERS: 'x:1',
      SFTP_HOST: 'ministry',
      LATE_WINDOW_DAYS: '7',
    });
    expect(env).toEqual({ PATH: '/bin', BOARDING_ROOT: '/repo' });
    expect(soakStackVariables('/soak', DEFAULT_SOAK_PORTS)).toMatchObject({
      BOARDING_LOCAL_DIR: '/soak',
      BOARDING_PG_PORT: String(DEFAULT_SOAK_PORTS.pg),
    });
  });

  it('parses the chaos server list', () => {
    expect(parseServers('kafka, redis,kafka')).toEqual(['kafka', 'redis']);
    expect(() => parseServers('kafka,mysql')).toThrow(/comma-separated/);
  });
});
