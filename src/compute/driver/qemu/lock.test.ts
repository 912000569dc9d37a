import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyedLock } from './lock.js';

test('operations on one key run one at a time, in order; other keys run alongside', async () => {
  const lock = new KeyedLock();
  const log: string[] = [];
  const op = (key: string, name: string, ms: number) => lock.run(key, async () => {
    log.push(`${name}+`);
    await sleep(ms);
    log.push(`${name}-`);
    return name;
  });
  const results = await Promise.all([op('a', 'a1', 30), op('a', 'a2', 5), op('b', 'b1', 10)]);
  assert.deepEqual(results, ['a1', 'a2', 'b1']);
  assert.deepEqual(log.filter((l) => l.startsWith('a')), ['a1+', 'a1-', 'a2+', 'a2-']);
  assert.ok(log.indexOf('b1+') < log.indexOf('a1-'), 'b ran while a1 held its key');
  assert.equal(lock.busy('a'), false);
});

test('a failing operation releases the key', async () => {
  const lock = new KeyedLock();
  await assert.rejects(lock.run('k', async () => { throw new Error('boom'); }), /boom/);
  assert.equal(lock.busy('k'), false);
  assert.equal(await lock.run('k', async () => 7), 7);
});
