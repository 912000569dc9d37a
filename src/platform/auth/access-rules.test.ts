import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accessPathMatches, checkAccessRules } from './access-rules.js';
import { InvalidTokenError } from './errors.js';
import type { ValidatedToken } from './request-context.js';

test('access rule paths: * and {x} match one segment, ** anything', () => {
  assert.equal(accessPathMatches('/v2.1/servers', '/v2.1/servers'), true);
  assert.equal(accessPathMatches('/v2.1/servers/abc', '/v2.1/servers/*'), true);
  assert.equal(accessPathMatches('/v2.1/servers/abc/action', '/v2.1/servers/*'), false);
  assert.equal(accessPathMatches('/v2.1/servers/abc', '/v2.1/servers/{server_id}'), true);
  assert.equal(accessPathMatches('/v2.1/servers/abc/ips/x', '/v2.1/servers/**'), true);
  assert.equal(accessPathMatches('/v2x1/servers', '/v2.1/servers'), false);
  assert.equal(accessPathMatches('/v2.1/servers/', '/v2.1/servers/*'), false);
});

const token = (extra: Partial<ValidatedToken>) => ({ roles: [], ...extra }) as unknown as ValidatedToken;
const rules = [{ service: 'compute', method: 'GET', path: '/v2.1/servers' }];

test('tokens without rules pass; with rules only matching requests do', () => {
  checkAccessRules(token({}), { method: 'DELETE', path: '/anything' }, undefined);
  const t = token({ accessRules: rules });
  checkAccessRules(t, { method: 'GET', path: '/v2.1/servers' }, 'compute');
  assert.throws(() => checkAccessRules(t, { method: 'POST', path: '/v2.1/servers' }, 'compute'), InvalidTokenError);
  assert.throws(() => checkAccessRules(t, { method: 'GET', path: '/v2.1/servers' }, 'image'), InvalidTokenError);
  assert.throws(() => checkAccessRules(t, { method: 'GET', path: '/v2.1/servers' }, undefined), /service type is not configured/);
});

test('with a catalog, the service must be in it', () => {
  const t = token({ accessRules: rules, serviceCatalog: [{ type: 'identity', name: 'keystone', endpoints: [] }] });
  assert.throws(() => checkAccessRules(t, { method: 'GET', path: '/v2.1/servers' }, 'compute'), /not in the token's catalog/);
  const t2 = token({ accessRules: rules, serviceCatalog: [{ type: 'compute', name: 'nova', endpoints: [] }] });
  checkAccessRules(t2, { method: 'GET', path: '/v2.1/servers' }, 'compute');
});
