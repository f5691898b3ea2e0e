/** SMTP_AUTH_USERS: `user:password,…`, each password plain or a bcrypt/scrypt hash. */
import type { AuthUser } from './types.js';
import { fail, ok, splitList, type Parsed } from './parsed.js';
import { secretKind } from './passwords.js';

const AUTH_USERS =
  'comma-separated user:password entries, a password plain or a bcrypt ($2b$…) or scrypt (scrypt$N$r$p$salt$hash) hash';

/**
 * Entries are trimmed; the password is everything after the first `:` (so it
 * may contain `:` but not `,`). Problems name the user, never the password.
 */
export function parseAuthUsers(text: string): Parsed<AuthUser[]> {
  const users = new Map<string, AuthUser>();
  const entries = splitList(text);
  for (const [index, entry] of entries.entries()) {
    const colon = entry.indexOf(':');
    const user = entry.slice(0, colon);
    const secret = entry.slice(colon + 1);
    if (colon < 0) return fail(`${AUTH_USERS}; entry ${index + 1} has no ":"`);
    if (user === '' || /[\s\p{Cc}]/u.test(user)) {
      return fail(`${AUTH_USERS}; entry ${index + 1} has no valid user name`);
    }
    if (secret === '') return fail(`${AUTH_USERS}; the password of "${user}" is empty`);
    if (secretKind(secret) === undefined) return fail(`${AUTH_USERS}; the password hash of "${user}" is malformed`);
    if (users.has(user)) return fail(`${AUTH_USERS}; user "${user}" appears twice`);
    users.set(user, { user, secret });
  }
  return users.size > 0 ? ok([...users.values()]) : fail(AUTH_USERS);
}
