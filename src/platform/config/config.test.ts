import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, describeConfig, maskSecret, ConfigError } from './config.js';

const withFile = (text: string, fn: (path: string) => void) => {
  const dir = mkdtempSync(join(tmpdir(), 'nephos-cfg-'));
  try {
    writeFileSync(join(dir, 'nephos.yaml'), text);
    fn(join(dir, 'nephos.yaml'));
  } finally { rmSync(dir, { recursive: true, force: true }); }
};

test('defaults, derived from the state directory', () => {
  const cfg = loadConfig({ file: '/dev/null', env: {} });
  assert.equal(cfg.identity.port, 5000);
  assert.equal(cfg.database.url, 'sqlite:///var/lib/nephos/nephos.db');
  assert.equal(cfg.identity.key_repository, '/var/lib/nephos/fernet-keys');
});

test('file, then environment, then caller overrides; values are typed', () => {
  withFile('platform:\n  state_dir: /srv/n\nidentity:\n  token_expiration: 600\n  lockout_failure_attempts: 3\n', (file) => {
    const cfg = loadConfig({ file, env: { NEPHOS_IDENTITY_TOKEN_EXPIRATION: '900', NEPHOS_IDENTITY_CHANGE_PASSWORD_UPON_FIRST_USE: 'yes' }, overrides: { identity: { lockout_failure_attempts: 7 } } });
    assert.equal(cfg.identity.token_expiration, 900);
    assert.equal(cfg.identity.change_password_upon_first_use, true);
    assert.equal(cfg.identity.lockout_failure_attempts, 7);
    assert.equal(cfg.database.url, 'sqlite:///srv/n/nephos.db');
  });
});

test('unknown sections, unknown options and bad values are errors that name them', () => {
  withFile('identiti:\n  port: 1\n', (file) => assert.throws(() => loadConfig({ file, env: {} }), /unknown section \[identiti\]/));
  withFile('identity:\n  prot: 1\n', (file) => assert.throws(() => loadConfig({ file, env: {} }), /unknown option identity\.prot/));
  assert.throws(() => loadConfig({ file: '/dev/null', env: { NEPHOS_IDENTITY_PORT: 'five' } }), (e: unknown) => e instanceof ConfigError && /identity\.port/.test((e as Error).message));
});

test('config show masks secrets but keeps URL hosts readable', () => {
  const cfg = loadConfig({ file: '/dev/null', env: { NEPHOS_IDENTITY_ADMIN_PASSWORD: 'hunter2', NEPHOS_BUS_URL: 'amqp://guest:guest@127.0.0.1:5672/x' } });
  const shown = describeConfig(cfg);
  assert.equal(shown.identity.admin_password, '***');
  assert.equal(shown.bus.url, 'amqp://guest:***@127.0.0.1:5672/x');
  assert.equal(maskSecret('plain'), '***');
});
