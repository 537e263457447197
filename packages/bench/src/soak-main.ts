import { buildSoakProgram, reportSoakFailure } from './soak-program';

buildSoakProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.exitCode = reportSoakFailure(err);
  });
