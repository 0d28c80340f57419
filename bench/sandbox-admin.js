// Sets up a fresh sandbox over plain HTTP (no osfleet code) and returns the admin's token.
export async function startTestAdmin(url) {
  const email = 'bench@osfleet.local';
  const password = 'Bench-password#1';
  const post = async (path, body) => {
    const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const setup = await post('/api/v1/setup', {
    admin: { admin: true, username: 'bench', name: 'Bench', email, password },
    org_info: { org_name: 'bench' },
    server_url: url,
    kolide_server_url: url,
  });
  if (setup.token) return { token: setup.token, email, password };
  const login = await post('/api/v1/fleet/login', { email, password });
  return { token: login.token, email, password };
}
