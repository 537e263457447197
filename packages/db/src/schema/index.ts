// The schema index drizzle-kit reads (the one barrel CONVENTIONS allows). `boardings` is
// partitioned and created by a custom migration, so it is imported from './boardings' directly.
export * from './api-keys';
export * from './card-status';
export * from './cards';
export * from './dead-letters';
export * from './deliveries';
export * from './duplicate-taps';
export * from './heartbeat-log';
export * from './import-runs';
export * from './key-checks';
export * from './locations';
export * from './matches';
export * from './nightly-runs';
export * from './persons';
export * from './registry-audit';
export * from './retention-runs';
export * from './tap-keys';
export * from './tc-attempts';
export * from './validator-progress';
