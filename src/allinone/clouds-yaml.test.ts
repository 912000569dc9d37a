import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { mergeCloudsYaml } from './clouds-yaml.js';

const entry = (password: string) => ({ authUrl: 'http://127.0.0.1:5000/v3', username: 'admin', password, projectName: 'admin', region: 'RegionOne' });

test('merging keeps other clouds and comments, replaces only its entries, writes 0600 and leaves no temporary file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nephos-clouds-'));
  try {
    const file = join(dir, 'clouds.yaml');
    writeFileSync(file, '# mine\nclouds:\n  other:\n    auth: {auth_url: "http://x"}\n  nephos: {stale: true}\n');
    mergeCloudsYaml({ nephos: entry('pw') }, file);
    const text = readFileSync(file, 'utf8');
    assert.match(text, /# mine/);
    assert.match(text, /other:/);
    assert.doesNotMatch(text, /stale/);
    assert.match(text, /password: pw/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['clouds.yaml']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('two processes writing at once both succeed (as `up --detach` and the cloud it starts do)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nephos-clouds-'));
  try {
    const file = join(dir, 'clouds.yaml');
    const module = fileURLToPath(new URL('./clouds-yaml.js', import.meta.url));
    const script = `const { mergeCloudsYaml } = await import(${JSON.stringify(module)});
      for (let i = 0; i < 300; i++) mergeCloudsYaml({ nephos: { authUrl: 'u', username: 'a', password: 'p' + i, projectName: 'a', region: 'R' } }, ${JSON.stringify(file)});`;
    const run = () => promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 });
    await Promise.all([run(), run()]); // rejects if either process failed
    assert.match(readFileSync(file, 'utf8'), /password: p299/);
    assert.deepEqual(readdirSync(dir), ['clouds.yaml']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
