/**
 * A service user for a peer's keystonemiddleware, made through the identity v3 API (works on
 * Nephos and on Keystone): user in project `service` with the `admin` role, as a deployment
 * guide sets up for each service. Removed again by the peer when it stops.
 */
import { createHttpClient } from './http-client.js';
import type { HttpClient } from './http-client.js';

/** A created service user; `remove` deletes it (and the project, if it was made here). */
export interface ServiceUser {
  name: string;
  id: string;
  remove(): Promise<void>;
}

async function adminHeaders(client: HttpClient, adminPassword: string): Promise<Record<string, string>> {
  const auth = await client.send('POST', '/auth/tokens', {
    expect: 201,
    json: {
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: adminPassword } } },
        scope: { project: { name: 'admin', domain: { id: 'default' } } },
      },
    },
  });
  return { 'x-auth-token': String(auth.headers['x-subject-token']) };
}

/**
 * Creates user `name` with `password` in project `service` (Default domain; the project is
 * created when missing, as on a bare Keystone) and grants it `admin` there.
 */
export async function createServiceUser(identityUrl: string, adminPassword: string, name: string, password: string): Promise<ServiceUser> {
  const client = createHttpClient(identityUrl, 2);
  try {
    const headers = await adminHeaders(client, adminPassword);
    const listed = JSON.parse((await client.send('GET', '/projects?name=service&domain_id=default', { headers, expect: 200 })).body) as { projects: { id: string }[] };
    let projectId = listed.projects[0]?.id;
    const madeProject = projectId === undefined;
    if (projectId === undefined) {
      const made = await client.send('POST', '/projects', { headers, expect: 201, json: { project: { name: 'service', domain_id: 'default' } } });
      projectId = (JSON.parse(made.body) as { project: { id: string } }).project.id;
    }
    const made = await client.send('POST', '/users', { headers, expect: 201, json: { user: { name, password, domain_id: 'default', default_project_id: projectId } } });
    const userId = (JSON.parse(made.body) as { user: { id: string } }).user.id;
    try {
      const roles = JSON.parse((await client.send('GET', '/roles?name=admin', { headers, expect: 200 })).body) as { roles: { id: string }[] };
      if (roles.roles.length !== 1) throw new Error(`identity at ${identityUrl}: no unique admin role`);
      await client.send('PUT', `/projects/${projectId}/users/${userId}/roles/${roles.roles[0].id}`, { headers, expect: 204 });
    } catch (err) {
      // A user without its role is useless to the peer: leave nothing behind.
      await client.send('DELETE', `/users/${userId}`, { headers }).catch(() => undefined);
      throw err;
    }
    return {
      name,
      id: userId,
      async remove() {
        const c = createHttpClient(identityUrl, 1);
        try {
          const h = await adminHeaders(c, adminPassword);
          await c.send('DELETE', `/users/${userId}`, { headers: h, expect: 204 });
          if (madeProject) await c.send('DELETE', `/projects/${projectId}`, { headers: h, expect: 204 });
        } finally {
          c.close();
        }
      },
    };
  } finally {
    client.close();
  }
}
