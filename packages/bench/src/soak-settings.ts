import { join, resolve } from 'node:path';
import { findRepoRoot, localDir } from '@boarding/config/paths';
import { parseEnvFile } from '@boarding/config/stack-env';
import { addDays, calendarDateIn, isCalendarDay, SERVICE_TIME_ZONE } from '@boarding/contracts/time';
import { InvalidArgumentError } from 'commander';

/** The servers of the soak's private stack the chaos may restart (names of `@boarding/stack`). */
export const CHAOS_SERVERS = ['kafka', 'postgres', 'redis', 'sftp'] as const;
export type ChaosServer = (typeof CHAOS_SERVERS)[number];

export type SoakPorts = { pg: number; redis: number; kafka: number; kafkaController: number; sftp: number };

/**
 * The soak stack's ports. Below 32768 on purpose: Linux hands out 32768–60999 as ephemeral source
 * ports, and a listener there can find its port taken by somebody's outgoing connection. Clear
 * of the main stack (15432, 16379, 19092/19093, 12222) and of the 25xxx a second clone uses.
 */
export const DEFAULT_SOAK_PORTS: SoakPorts = {
  pg: 27432,
  redis: 27379,
  kafka: 27092,
  kafkaController: 27093,
  sftp: 27222,
};

const PORT_VARIABLES: Record<keyof SoakPorts, string> = {
  pg: 'SOAK_PG_PORT',
  redis: 'SOAK_REDIS_PORT',
  kafka: 'SOAK_KAFKA_PORT',
  kafkaController: 'SOAK_KAFKA_CONTROLLER_PORT',
  sftp: 'SOAK_SFTP_PORT',
};

// The main stack's defaults (packages/stack settings.ts): never the soak's, whatever is set.
const MAIN_DEFAULT_PORTS = [15432, 16379, 19092, 19093, 12222];

export type SoakOptions = {
  /** Minutes of chaos (the run as a whole takes longer: stack, reference run, settling). */
  minutes: number;
  taps: number;
  seed: number;
  day: string;
  json: boolean;
  keepStack: boolean;
  /** The soak stack's directory (its BOARDING_LOCAL_DIR). */
  dir: string;
  ports: SoakPorts;
  servers: ChaosServer[];
  /** Seed of the chaos schedule (which fault, when): printed, so a schedule can be run again. */
  chaosSeed: number;
  /** Longest wait for the ingest to catch up and the exporter to deliver once the chaos stops. */
  settleMinutes: number;
};

export function parsePositive(raw: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number > 0');
  return n;
}

export function parseCount(raw: string): number {
  const n = Number(raw.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return n;
}

export function parseSeed(raw: string): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number ≥ 0');
  return n;
}

export function parseDayArgument(raw: string): string {
  if (!isCalendarDay(raw)) throw new InvalidArgumentError('must be a date YYYY-MM-DD');
  return raw;
}

export function parseServers(raw: string): ChaosServer[] {
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const known: readonly string[] = CHAOS_SERVERS;
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0 || names.length === 0) {
    throw new InvalidArgumentError(`must be a comma-separated list of: ${CHAOS_SERVERS.join(', ')}`);
  }
  return [...new Set(names)] as ChaosServer[];
}

/** Yesterday in Istanbul: the day the exporter's nightly job exports today (SPEC §5). */
export function defaultSoakDay(now: Date = new Date()): string {
  return addDays(calendarDateIn(now, SERVICE_TIME_ZONE), -1);
}

export function defaultSoakDir(): string {
  return join(findRepoRoot(), '.local', 'soak');
}

/** `SOAK_*_PORT` from the environment, else the defaults; every port a valid unprivileged one. */
export function soakPorts(env: NodeJS.ProcessEnv = process.env): SoakPorts {
  const ports = { ...DEFAULT_SOAK_PORTS };
  for (const key of Object.keys(PORT_VARIABLES) as (keyof SoakPorts)[]) {
    const raw = env[PORT_VARIABLES[key]];
    if (raw === undefined || raw === '') continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1024 || n > 65535) {
      throw new Error(`${PORT_VARIABLES[key]} must be a port number 1024–65535`);
    }
    ports[key] = n;
  }
  const values = Object.values(ports);
  if (new Set(values).size !== values.length) throw new Error('the soak stack ports must all differ');
  return ports;
}

/** The ports and directory of the main stack as this checkout runs it (before any override). */
export type MainStack = { dir: string; ports: number[] };

export function mainStack(env: NodeJS.ProcessEnv, stackEnvText: string | undefined): MainStack {
  const ports = new Set<number>(MAIN_DEFAULT_PORTS);
  for (const name of [
    'BOARDING_PG_PORT',
    'BOARDING_REDIS_PORT',
    'BOARDING_KAFKA_PORT',
    'BOARDING_KAFKA_CONTROLLER_PORT',
    'BOARDING_SFTP_PORT',
  ]) {
    const n = Number(env[name]);
    if (Number.isInteger(n) && n > 0) ports.add(n);
  }
  if (stackEnvText !== undefined) {
    const values = parseEnvFile(stackEnvText);
    for (const [name, value] of Object.entries(values)) {
      if (name === 'SFTP_PORT') ports.add(Number(value));
      if (name === 'DATABASE_URL' || name === 'REDIS_URL') {
        const port = Number(safeUrl(value)?.port);
        if (port > 0) ports.add(port);
      }
      if (name === 'KAFKA_BROKERS') {
        for (const broker of value.split(',')) ports.add(Number(broker.split(':').at(-1)));
      }
    }
  }
  return { dir: resolve(localDir()), ports: [...ports].filter((p) => Number.isInteger(p) && p > 0) };
}

function safeUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/**
 * The soak restarts and kills servers: it must never be pointed at the main stack, which other
 * people's tests are using. Refuses a soak directory equal to (or holding) the main one and any
 * port the main stack uses.
 */
export function assertApartFromMainStack(soak: { dir: string; ports: SoakPorts }, main: MainStack): void {
  const dir = resolve(soak.dir);
  if (dir === main.dir || main.dir.startsWith(`${dir}/`)) {
    throw new Error(`the soak directory ${dir} is the main stack's (${main.dir}): give it its own (--dir)`);
  }
  const clash = Object.entries(soak.ports).filter(([, port]) => main.ports.includes(port));
  if (clash.length > 0) {
    throw new Error(
      `soak port(s) ${clash.map(([k, p]) => `${k} ${p}`).join(', ')} belong to the main stack: set SOAK_*_PORT`,
    );
  }
}
