// The QMP client against a real QEMU (no guest: -machine none starts in milliseconds).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { QmpClient, QmpCommandError, QmpConnectionError, withQmp } from './qmp.js';

let dir: string;
let sock: string;
let qemu: ChildProcess;

before(async () => {
  dir = mkdtempSync('/tmp/nephos-qmp-test-');
  sock = join(dir, 'qmp.sock');
  qemu = spawn('qemu-system-x86_64', ['-machine', 'none', '-nodefaults', '-no-user-config', '-display', 'none', '-qmp', `unix:${sock},server=on,wait=off`], { stdio: 'ignore' });
  for (let i = 0; i < 200 && !existsSync(sock); i++) await sleep(25);
  assert.ok(existsSync(sock), 'QEMU made its QMP socket');
});

after(() => {
  if (qemu.exitCode === null) qemu.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('greeting, capabilities, commands with answers matched by id', async () => {
  await withQmp(sock, async (q) => {
    assert.match(q.version, /^\d+\.\d+\.\d+$/);
    const [status, name] = await Promise.all([q.execute<{ status: string }>('query-status'), q.execute<Record<string, unknown>>('query-name')]);
    assert.ok(['running', 'prelaunch', 'paused'].includes(status.status), status.status);
    assert.deepEqual(name, {});
  });
});

test('an error answer is a QmpCommandError with QEMU\'s class', async () => {
  await withQmp(sock, async (q) => {
    await assert.rejects(q.execute('no-such-command'), (e: unknown) => e instanceof QmpCommandError && e.errorClass === 'CommandNotFound');
    await assert.rejects(q.execute('device_del', { id: 'nothing-here' }), (e: unknown) => e instanceof QmpCommandError && e.errorClass === 'DeviceNotFound');
    // The connection stays usable after an error.
    assert.ok(await q.execute('query-status'));
  });
});

test('events: one that came before the wait is found; `since` skips older ones; a wait is bounded', async () => {
  await withQmp(sock, async (q) => {
    await q.execute('stop');
    await sleep(100);
    const stop = await q.waitEvent('STOP', { timeoutMs: 2000 });
    assert.equal(stop.event, 'STOP');
    const since = q.mark();
    await assert.rejects(q.waitEvent('STOP', { since, timeoutMs: 200 }), (e: unknown) => e instanceof QmpConnectionError && e.timedOut);
    const resumed = q.waitEvent(['RESUME', 'NOPE'], { since, timeoutMs: 2000 });
    await q.execute('cont');
    assert.equal((await resumed).event, 'RESUME');
  });
});

test('a second client waits while the monitor is held: its greeting times out', async () => {
  const first = await QmpClient.connect(sock);
  try {
    await assert.rejects(QmpClient.connect(sock, { timeoutMs: 300 }), (e: unknown) => e instanceof QmpConnectionError && e.timedOut);
  } finally {
    first.close();
  }
  // Once the first has left, a new client gets in.
  await withQmp(sock, (q) => q.execute('query-status'));
});

test('a missing socket fails fast; quit closes the connection and fails what is pending', async () => {
  await assert.rejects(QmpClient.connect(join(dir, 'absent.sock'), { timeoutMs: 2000 }), (e: unknown) => e instanceof QmpConnectionError && !e.timedOut);
  const q = await QmpClient.connect(sock);
  await q.execute('quit').catch(() => undefined);
  const exited = await new Promise<boolean>((resolve) => {
    if (qemu.exitCode !== null) resolve(true);
    qemu.once('exit', () => resolve(true));
    setTimeout(() => resolve(false), 5000).unref();
  });
  assert.ok(exited, 'QEMU exited on quit');
  await assert.rejects(q.execute('query-status'), QmpConnectionError);
  q.close();
});
