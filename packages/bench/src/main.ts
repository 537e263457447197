import { buildProgram, reportFailure } from './program';

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.exitCode = reportFailure(err);
  });
