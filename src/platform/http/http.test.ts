import { test } from 'node:test';
import assert from 'node:assert/strict';
import { negotiate, parseVersion } from './microversion.js';
import { pageLink, parseLimit } from './pagination.js';
import { createApiServer } from './server.js';
import { Fault, notFound } from './faults.js';
import { silentLogger } from '../log.js';

const min = parseVersion('2.1')!;
const max = parseVersion('2.90')!;

test('microversions: absent → minimum, latest → maximum, out of range or garbage → not acceptable', () => {
  assert.deepEqual(negotiate({}, 'compute', min, max), { ok: true, version: min });
  assert.deepEqual(negotiate({ 'openstack-api-version': 'compute latest' }, 'compute', min, max), { ok: true, version: max });
  assert.deepEqual(negotiate({ 'openstack-api-version': 'volume 3.0, compute 2.53' }, 'compute', min, max), { ok: true, version: { major: 2, minor: 53 } });
  assert.deepEqual(negotiate({ 'x-openstack-nova-api-version': '2.10' }, 'compute', min, max, 'X-OpenStack-Nova-API-Version'), { ok: true, version: { major: 2, minor: 10 } });
  const high = negotiate({ 'openstack-api-version': 'compute 2.91' }, 'compute', min, max);
  assert.equal(high.ok, false);
  assert.match((high as { reason: string }).reason, /maximum is 2\.90/);
  assert.equal(negotiate({ 'openstack-api-version': 'compute two' }, 'compute', min, max).ok, false);
});

test('pagination: next links keep the query and replace the marker; limits are validated', () => {
  assert.equal(pageLink('http://h/v2/images', { limit: '2', marker: 'old', tag: ['a', 'b'] }, 'new'), 'http://h/v2/images?limit=2&tag=a&tag=b&marker=new');
  assert.equal(parseLimit(undefined), undefined);
  assert.equal(parseLimit('5'), 5);
  assert.throws(() => parseLimit('-1'), RangeError);
  assert.throws(() => parseLimit('x'), RangeError);
});

test('the API server: request id on every response, faults in the API dialect, 404/400/413 never 500', async () => {
  const app = createApiServer({ service: 't', logger: silentLogger(), bodyLimit: 100, renderFault: (f: Fault) => ({ oops: { code: f.status, message: f.message } }) });
  app.get('/thing', async () => { throw notFound('no thing'); });
  app.post('/echo', async (req) => ({ got: req.body }));
  app.get('/boom', async () => { throw new Error('secret detail'); });
  const r1 = await app.inject({ method: 'GET', url: '/thing' });
  assert.equal(r1.statusCode, 404);
  assert.match(String(r1.headers['x-openstack-request-id']), /^req-[0-9a-f-]{36}$/);
  assert.deepEqual(JSON.parse(r1.body), { oops: { code: 404, message: 'no thing' } });
  const r2 = await app.inject({ method: 'POST', url: '/echo', payload: '{nope', headers: { 'content-type': 'application/json' } });
  assert.equal(r2.statusCode, 400);
  const r3 = await app.inject({ method: 'POST', url: '/echo', payload: JSON.stringify({ x: 'y'.repeat(200) }), headers: { 'content-type': 'application/json' } });
  assert.equal(r3.statusCode, 413);
  const r4 = await app.inject({ method: 'GET', url: '/nowhere' });
  assert.equal(r4.statusCode, 404);
  const r5 = await app.inject({ method: 'GET', url: '/boom' });
  assert.equal(r5.statusCode, 500);
  assert.doesNotMatch(r5.body, /secret detail/, 'internal details stay in the log');
  await app.close();
});
