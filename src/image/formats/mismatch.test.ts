import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatMismatch, refusalReason, type Inspection } from './index.js';

const ins = (format: Inspection['format'], problems: string[] = []): Inspection =>
  ({ format, virtualSize: 1, problems, size: 1, partitionTable: null });

test('declared container formats must match the data', () => {
  assert.equal(formatMismatch('qcow2', ins('qcow2')), null);
  assert.equal(formatMismatch('qcow2', ins('raw')), 'Image data is raw but disk_format is qcow2');
  assert.equal(formatMismatch('vhd', ins('vhdx')), 'Image data is vhdx but disk_format is vhd');
  assert.equal(formatMismatch('iso', ins('raw')), 'Image data is raw but disk_format is iso');
  assert.equal(formatMismatch('ploop', ins('ploop')), null);
  assert.equal(formatMismatch('ploop', ins('raw')), 'Image data is raw but disk_format is ploop');
});

test('raw refuses container formats but takes iso and luks data', () => {
  for (const f of ['qcow2', 'vmdk', 'vhd', 'vhdx', 'vdi', 'qed', 'ploop'] as const) {
    assert.equal(formatMismatch('raw', ins(f)), `Image data is ${f} but disk_format is raw`);
  }
  for (const f of ['raw', 'iso', 'luks'] as const) assert.equal(formatMismatch('raw', ins(f)), null);
});

test('aki/ari/ami and uninspectable formats take only unrecognised data', () => {
  for (const d of ['aki', 'ari', 'ami', 'something-else']) {
    assert.equal(formatMismatch(d, ins('raw')), null);
    assert.equal(formatMismatch(d, ins('qcow2')), `Image data is qcow2 but disk_format is ${d}`);
    assert.equal(formatMismatch(d, ins('iso')), `Image data is iso but disk_format is ${d}`);
  }
});

test('refusalReason: problems always refuse, mismatch only when required', () => {
  assert.equal(refusalReason('qcow2', ins('qcow2')), null);
  assert.equal(refusalReason('qcow2', ins('qcow2', ['The qcow2 image refers to a backing file'])), 'The qcow2 image refers to a backing file');
  assert.equal(refusalReason('raw', ins('qcow2', ['P'])), 'Image data is qcow2 but disk_format is raw; P');
  assert.equal(refusalReason('raw', ins('qcow2'), false), null);
  assert.equal(refusalReason('raw', ins('qcow2', ['P']), false), 'P');
});
