import { CheckTimeoutError, codeOf, messageOf } from './check';

/**
 * The fix for a server that could not be reached or refused us, by the error's code: the step an
 * operator takes, naming the setting to correct. `local` is how the local stack provides it.
 */
export function reachFix(err: unknown, server: string, setting: string, at: string): string {
  // Redis answers a refused password with a reply whose first word is the code; kafkajs wraps the
  // socket's error into its own message.
  const code =
    codeOf(err) ??
    /^(WRONGPASS|NOAUTH)\b|\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT)\b/
      .exec(messageOf(err))
      ?.slice(1)
      .find((c) => c !== undefined);
  const start = `start ${server} (locally: \`boarding stack up\`)`;
  if (err instanceof CheckTimeoutError || code === 'ETIMEDOUT') {
    return `${server} at ${at} does not answer: check it and the route to it, or correct ${setting}`;
  }
  switch (code) {
    case 'ECONNREFUSED':
      return `nothing listens at ${at}: ${start}, or correct the port in ${setting}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host of ${at} is unknown: correct ${setting}`;
    case '28P01':
    case '28000':
    case 'WRONGPASS':
    case 'NOAUTH':
      return `${server} refused the credentials: correct the user and password in ${setting}`;
    case '3D000':
      return `the database does not exist: create it, or correct the database name in ${setting}`;
    default:
      return `${start}, or correct ${setting}`;
  }
}
