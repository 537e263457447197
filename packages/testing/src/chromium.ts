import { accessSync, constants } from 'node:fs';
import { ensurePackages } from '@boarding/stack/packages';

/**
 * Debian's Chromium, driven by playwright-core: no browser download at install time, the
 * distribution's build with its security updates. On a clean machine (CI) it is installed the way
 * the stack installs PostgreSQL: one apt-get run, as root or through password-less sudo.
 */
export const CHROMIUM = '/usr/bin/chromium';

/** Flags for a headless run in a container: no sandbox (no user namespaces there), nothing phoning home. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

/** The Chromium executable, installed first when missing. */
export async function ensureChromium(report: (message: string) => void): Promise<string> {
  if (isExecutable(CHROMIUM)) return CHROMIUM;
  await ensurePackages([{ command: 'chromium', package: 'chromium' }], process.getuid?.() === 0, report);
  if (!isExecutable(CHROMIUM)) throw new Error(`apt-get installed chromium, but ${CHROMIUM} is not there`);
  return CHROMIUM;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
