import { defineConfig } from 'drizzle-kit';

// Generates SQL migrations into ./drizzle from the schema (`npx drizzle-kit generate` in this
// folder). Constraints drizzle cannot express (exclusion over time ranges) are custom
// migrations made with `drizzle-kit generate --custom`. Never edit a migration after it landed.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/schema/index.ts',
  out: './drizzle',
});
