import { buildProgram, jsonRequested, reportFailure } from './program';

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.exitCode = reportFailure(err, { json: jsonRequested(process.argv.slice(2)) });
  });
