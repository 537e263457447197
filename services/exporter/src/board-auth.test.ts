import { boardAuthorized } from './board-auth';

const token = 'a-board-token-of-32-characters-xx';
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('boardAuthorized', () => {
  it('accepts the token as a Bearer token or as the Basic password under any user name', () => {
    expect(boardAuthorized(`Bearer ${token}`, token)).toBe(true);
    expect(boardAuthorized(`bearer ${token}`, token)).toBe(true);
    expect(boardAuthorized(basic('ops', token), token)).toBe(true);
    expect(boardAuthorized(basic('', token), token)).toBe(true);
  });

  it('refuses no header, a wrong token, a prefix of it, the token as Basic user name, other schemes', () => {
    expect(boardAuthorized(undefined, token)).toBe(false);
    expect(boardAuthorized('', token)).toBe(false);
    expect(boardAuthorized(`Bearer ${token}x`, token)).toBe(false);
    expect(boardAuthorized(`Bearer ${token.slice(0, -1)}`, token)).toBe(false);
    expect(boardAuthorized(basic(token, 'nope'), token)).toBe(false);
    expect(boardAuthorized(`Basic ${Buffer.from(token).toString('base64')}`, token)).toBe(false);
    expect(boardAuthorized(`Token ${token}`, token)).toBe(false);
    expect(boardAuthorized(token, token)).toBe(false);
  });
});
