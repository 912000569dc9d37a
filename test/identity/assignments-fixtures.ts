// Shared fixtures of the role / assignment tests: entities created through the API as an admin.
import assert from 'node:assert/strict';
import type { IdentityHarness } from '../lib/identity-harness.js';

let seq = 0;
/** A unique name for test entities. */
export const uniq = (prefix: string): string => `${prefix}-${process.pid}-${++seq}`;

/** API calls as the bootstrap admin, asserting the expected status. */
export function adminApi(h: IdentityHarness) {
  const call = async (method: string, path: string, body?: unknown, expect?: number) => {
    const res = await h.request(method, path, { token: await h.adminToken(), body });
    if (expect !== undefined) assert.equal(res.status, expect, `${method} ${path}: ${JSON.stringify(res.body)}`);
    return res;
  };
  return {
    call,
    async domain(): Promise<{ id: string; name: string }> {
      return (await call('POST', '/v3/domains', { domain: { name: uniq('dom') } }, 201)).body.domain;
    },
    async project(domainId = 'default', parentId?: string): Promise<{ id: string; name: string }> {
      const body = { project: { name: uniq('proj'), domain_id: domainId, ...(parentId ? { parent_id: parentId } : {}) } };
      return (await call('POST', '/v3/projects', body, 201)).body.project;
    },
    async user(domainId = 'default', password = 'secret-pw-1'): Promise<{ id: string; name: string }> {
      return (await call('POST', '/v3/users', { user: { name: uniq('user'), domain_id: domainId, password } }, 201)).body.user;
    },
    async group(domainId = 'default'): Promise<{ id: string; name: string }> {
      return (await call('POST', '/v3/groups', { group: { name: uniq('grp'), domain_id: domainId } }, 201)).body.group;
    },
    async role(extra: Record<string, unknown> = {}): Promise<{ id: string; name: string; domain_id: string | null }> {
      return (await call('POST', '/v3/roles', { role: { name: uniq('role'), ...extra } }, 201)).body.role;
    },
    async addMember(groupId: string, userId: string): Promise<void> {
      await call('PUT', `/v3/groups/${groupId}/users/${userId}`, undefined, 204);
    },
  };
}
