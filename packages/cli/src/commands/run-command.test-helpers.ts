import { Command } from 'commander';

/**
 * Run `boarding …` in this process as a user would type it, with the command registered on a
 * bare program (`buildProgram()` would load every command's modules), the environment
 * overridden for the call only, and stdout / stderr captured. A failing command rejects with its
 * error.
 */
export async function runCommand(
  register: (program: Command) => void,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    const program = new Command('boarding').exitOverride();
    register(program);
    await program.parseAsync(args, { from: 'user' });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    out.mockRestore();
    err.mockRestore();
  }
  return { stdout, stderr };
}
