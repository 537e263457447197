import { buildProgram, jsonRequested, reportFailure } from './program';

const args = process.argv.slice(2);
buildProgram(args)
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.exitCode = reportFailure(err, { json: jsonRequested(args) });
  });
