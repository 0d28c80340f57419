/** Sessions (login, logout, me) and users: a second user for permission and websocket tests. */
import type { AppContext } from './context.js';
import { paginate } from './context.js';
import { userJSON } from '../shapes.js';
import { errs, field, str } from '../wire.js';

const FLEET_PASSWORD_RULE = 'Password must include at least 12 characters, at least 1 number (e.g. 0 - 9), and at least 1 symbol (e.g. &*#)';

export function fleetPasswordOk(pw: string): boolean {
  return pw.length >= 12 && /[0-9]/.test(pw) && /[^A-Za-z0-9]/.test(pw);
}

export function sessionRoutes(ctx: AppContext): void {
  const { core, d, store, r, now, requireAdmin } = ctx;
  r.add('POST', '/login', (q) => {
    core.loginThrottle(q.addr);
    const password = str(field(q.body, 'password'));
    let found: ReturnType<typeof store.userByEmail>;
    if (d === 'kolide') {
      const username = str(field(q.body, 'username')).toLowerCase();
      found = username.includes('@') ? store.userByEmail(username) : store.userByUsername(username);
    } else {
      found = store.userByEmail(str(field(q.body, 'email')));
    }
    if (!found || !core.checkPassword(password, found.password)) {
      core.loginFailed(q.addr);
      throw errs.authFailed(d, 'username or email and password do not match');
    }
    const token = core.newSessionToken(found.user.id);
    return d === 'kolide' ? { user: userJSON(d, found.user), token } : { user: userJSON(d, found.user), available_teams: [], token };
  }, { auth: false, body: true });

  r.add('POST', '/logout', (q) => {
    store.deleteSession(q.viewer!.sessionKey);
    return {};
  });

  r.add('GET', '/me', (q) => (d === 'kolide' ? { user: userJSON(d, q.viewer!.user) } : { user: userJSON(d, q.viewer!.user), available_teams: [] }));
  // Users (to have a second user for permission and websocket tests).
  r.add('GET', '/users', (q) => ({ users: paginate(store.users(), q).map((u) => userJSON(d, u)) }));
  r.add('POST', '/users/admin', (q) => {
    requireAdmin(q);
    const email = str(field(q.body, 'email'));
    const password = str(field(q.body, 'password'));
    const name = str(field(q.body, 'name'));
    const bad: Array<{ name: string; reason: string }> = [];
    if (email === '') bad.push({ name: 'email', reason: 'Email cannot be empty' });
    if (password === '') bad.push({ name: 'password', reason: 'Password cannot be empty' });
    else if (d === 'fleet' && !fleetPasswordOk(password)) bad.push({ name: 'password', reason: FLEET_PASSWORD_RULE });
    if (d === 'kolide' && str(field(q.body, 'username')) === '') bad.push({ name: 'username', reason: 'cannot be empty' });
    if (bad.length) throw errs.validation(bad);
    if (store.userByEmail(email)) throw errs.exists(`User ${email} already exists`);
    const role = field(q.body, 'global_role');
    const apiOnly = field(q.body, 'api_only') === true;
    const user = store.createUser({
      username: str(field(q.body, 'username')) || email, name: name || email, email, password: core.hashPassword(password),
      admin: d === 'kolide' ? field(q.body, 'admin') === true : role === 'admin',
      globalRole: d === 'fleet' ? (typeof role === 'string' ? role : null) : null, apiOnly,
    }, now());
    const out: Record<string, unknown> = { user: userJSON(d, user) };
    if (d === 'fleet' && apiOnly) out.token = core.newSessionToken(user.id);
    return out;
  }, { body: true });
}
