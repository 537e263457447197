import { commandPaths, EXAMPLES } from './help-examples';
import { buildProgram } from './program';

describe('help texts', () => {
  const program = buildProgram();
  const commands = commandPaths(program);

  it('give every command an example of itself, and no example of a command that does not exist', () => {
    const paths = commands.map((c) => c.path);
    expect(paths.filter((p) => EXAMPLES[p] === undefined)).toEqual([]);
    expect(Object.keys(EXAMPLES).filter((p) => !paths.includes(p))).toEqual([]);
    for (const [path, examples] of Object.entries(EXAMPLES)) {
      // A group's example runs one of its commands.
      for (const e of examples) expect(e.startsWith(`npx boarding ${path}`)).toBe(true);
    }
  });

  it('refer to nothing outside the repository (no SPEC sections: the repository has no SPEC)', () => {
    let help = '';
    for (const { command } of [{ command: program }, ...commands]) {
      command.configureOutput({ writeOut: (s) => (help += s), writeErr: (s) => (help += s) });
      command.outputHelp();
    }
    expect(help).toContain('Examples:\n  npx boarding export run --day 2020-11-20\n');
    expect(help).not.toMatch(/SPEC|\.\.\/shared|\/work\//);
  });

  it('list the exit codes in boarding --help', () => {
    expect(helpAfter(program)).toMatch(/Exit codes:\n {2}0 {2}done\n/);
  });
});

function helpAfter(program: ReturnType<typeof buildProgram>): string {
  let out = '';
  program.configureOutput({ writeOut: (s) => (out += s) });
  program.outputHelp();
  return out;
}
