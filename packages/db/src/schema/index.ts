// The schema index drizzle-kit reads (the one barrel CONVENTIONS allows).
export * from './cards';
export * from './import-runs';
export * from './matches';
export * from './persons';
export * from './registry-audit';
