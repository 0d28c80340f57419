/** The server's settings: `/version`, the app config, osquery options (Kolide) and enroll secrets. */
import type { AppContext } from './context.js';
import { list, obj } from './context.js';
import type { SecretRec } from '../store.js';
import { errs, field, str } from '../wire.js';

export function configRoutes(ctx: AppContext): void {
  const { core, d, store, r, deps, now, requireAdmin } = ctx;
  if (d === 'fleet') r.add('GET', '/version', () => ({ ...deps.version }));

  r.add('GET', '/config', () => core.appConfig());
  r.add('PATCH', '/config', (q) => {
    requireAdmin(q);
    if (q.query.get('dry_run') !== 'true') core.patchAppConfig(q.body);
    return core.appConfig();
  }, { body: true });

  // osquery options (Kolide) and enroll secrets.
  if (d === 'kolide') {
    r.add('GET', '/spec/osquery_options', () => ({ spec: core.agentOptions() }));
    r.add('POST', '/spec/osquery_options', (q) => {
      requireAdmin(q);
      const spec = field(q.body, 'spec');
      if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw errs.badRequest(d, 'missing spec');
      const s = spec as Record<string, unknown>;
      core.setAgentOptions({ config: s.config ?? {}, overrides: s.overrides ?? {} });
      return {};
    }, { body: true });
  }
  const secretJSON = (s: SecretRec): Record<string, unknown> =>
    d === 'kolide' ? { name: s.name, secret: s.secret, active: s.active, created_at: new Date(s.createdAt).toISOString() } : { secret: s.secret, created_at: new Date(s.createdAt).toISOString(), team_id: null };
  r.add('GET', '/spec/enroll_secret', () => {
    const secrets = store.secrets().filter((s) => d === 'kolide' || s.active).map(secretJSON);
    return d === 'kolide' ? { specs: { secrets } } : { spec: { secrets } };
  });
  r.add('POST', '/spec/enroll_secret', (q) => {
    requireAdmin(q);
    const spec = obj(field(q.body, 'spec'));
    const secrets = list(field(spec, 'secrets')).map(obj);
    const t = now();
    if (d === 'kolide') {
      const parsed = secrets.map((s) => {
        const name = str(field(s, 'name'));
        const secret = str(field(s, 'secret'));
        if (name === '' || secret === '') throw errs.service(d, 'enroll secret name and secret must not be empty');
        return { name, secret, active: field(s, 'active') !== false, createdAt: t };
      });
      store.transaction(() => parsed.forEach((s) => store.upsertSecretByName(s)));
    } else {
      const parsed = secrets.map((s, i) => {
        const secret = str(field(s, 'secret'));
        if (secret === '') throw errs.validation([{ name: 'secret', reason: 'enroll secret must not be empty' }]);
        const old = store.secrets().find((x) => x.secret === secret);
        return { name: old?.name ?? `secret-${i}`, secret, active: true, createdAt: old?.createdAt ?? t };
      });
      if (q.query.get('dry_run') !== 'true') store.replaceSecrets(parsed);
    }
    return {};
  }, { body: true });
}
