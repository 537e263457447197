import { buildProgram, jsonRequested, reportFailure } from './program';

buildProgram(process.argv.slice(2))
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.exitCode = reportFailure(err, { json: jsonRequested(process.argv.slice(2)) });
  });
