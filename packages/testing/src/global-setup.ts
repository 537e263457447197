import { stackStatus, stackUp } from '@boarding/stack/stack';

/**
 * Jest global setup of the integration project: the real stack must be up. A running stack is
 * only health-checked (fast second run); otherwise it is provisioned and started, with progress.
 */
export = async function globalSetup(): Promise<void> {
  const status = await stackStatus();
  if (status.every((s) => s.healthy)) return;
  process.stderr.write('\nintegration tests: bringing the local stack up (boarding stack up)…\n');
  const result = await stackUp((server, message) =>
    process.stderr.write(`  ${server.padEnd(8)} ${message}\n`),
  );
  process.stderr.write(`stack up in ${(result.ms / 1000).toFixed(1)}s\n`);
};
