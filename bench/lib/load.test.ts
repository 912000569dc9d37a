import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpClient } from './http-client.js';
import { percentile, runLoad } from './load.js';

test('percentile uses nearest rank', () => {
  const xs = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(xs, 50), 50);
  assert.equal(percentile(xs, 99), 99);
  assert.equal(percentile(xs, 100), 100);
  assert.equal(percentile([], 50), 0);
});

test('runLoad drives a keep-alive HTTP server and counts successes, errors and latency', async () => {
  let sockets = 0;
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    assert.ok(req.url?.startsWith('/v3/'), 'the base path is kept');
    const delay = req.url === '/v3/slow' ? 20 : 1;
    setTimeout(() => {
      res.statusCode = req.url === '/v3/fail' ? 500 : 200;
      res.end('{}');
    }, delay);
  });
  server.on('connection', () => sockets++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const client = createHttpClient(`http://127.0.0.1:${port}/v3`, 4);
  try {
    const ok = await runLoad({ concurrency: 4, durationMs: 300, request: async () => void (await client.send('GET', '/slow', { expect: 200 })) });
    assert.ok(ok.count >= 20 && ok.count <= 80, `count ${ok.count}`);
    assert.equal(ok.errors, 0);
    assert.ok(ok.p50 >= 19 && ok.p99 >= ok.p50 && ok.max >= ok.p99, JSON.stringify(ok));
    assert.ok(ok.rps > 50 && ok.rps < 250, `rps ${ok.rps}`);
    assert.ok(sockets <= 4, `keep-alive reuses connections (${sockets} opened)`);

    const bad = await runLoad({ concurrency: 2, durationMs: 100, request: async () => void (await client.send('GET', '/fail', { expect: 200 })) });
    assert.equal(bad.count, 0);
    assert.ok(bad.errors > 0);
    assert.match(bad.firstError ?? '', /expected 200, got 500/);

    const capped = await runLoad({ concurrency: 3, durationMs: 10_000, maxRequests: 7, request: async () => void (await client.send('GET', '/x')) });
    assert.equal(capped.count, 7);
    assert.ok(hits > 0);
  } finally {
    client.close();
    await new Promise((r) => server.close(r));
  }
});

test('runLoad rejects a nonsensical shape', async () => {
  await assert.rejects(runLoad({ concurrency: 0, durationMs: 10, request: async () => undefined }));
});
