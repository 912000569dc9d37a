import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { gptDisk, handmadeIso, inspectChunks, mbrDisk, qemuImg } from './fixtures.js';
import { FormatInspector, formatMismatch, qemuImgInfo, type Inspection } from './index.js';

const exec = promisify(execFile);
let dir = '';
const file = (name: string): string => join(dir, name);

before(async () => { dir = await mkdtemp(join(tmpdir(), 'nephos-test-formats-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

/** Inspects in 1-byte (small files only), 7-byte, odd, 64 KiB and whole chunks; all must agree. */
function inspectEveryWay(data: Buffer): Inspection {
  const sizes = [7, 4093, 65536, data.length || 1];
  if (data.length <= 512 * 1024) sizes.unshift(1);
  const results = sizes.map((n) => inspectChunks(data, n));
  for (const [i, r] of results.entries()) assert.deepEqual(r, results[0], `chunks of ${sizes[i]} bytes`);
  return results[0];
}

async function inspectImage(name: string, qemuFormat?: string): Promise<{ ins: Inspection; info: { 'virtual-size': number; format: string } }> {
  const data = await readFile(file(name));
  const info = await qemuImgInfo(file(name), qemuFormat ? { format: qemuFormat } : {});
  return { ins: inspectEveryWay(data), info };
}

const ACCEPTED_AS: Record<string, string[]> = {
  qcow2: ['qcow2'], vmdk: ['vmdk'], vhd: ['vhd'], vhdx: ['vhdx'], vdi: ['vdi'], ploop: ['ploop'],
  iso: ['iso', 'raw'], raw: ['raw', 'aki', 'ari', 'ami'], luks: ['raw'], qed: [],
};
const DECLARABLE = ['raw', 'qcow2', 'vmdk', 'vhd', 'vhdx', 'vdi', 'iso', 'ploop', 'aki', 'ari', 'ami'];

/** formatMismatch accepts exactly the declared formats listed for the detected one. */
function assertDecisions(ins: Inspection): void {
  for (const declared of DECLARABLE) {
    const reason = formatMismatch(declared, ins);
    if (ACCEPTED_AS[ins.format].includes(declared)) assert.equal(reason, null, `${ins.format} declared ${declared}`);
    else assert.equal(reason, `Image data is ${ins.format} but disk_format is ${declared}`);
  }
}

describe('FormatInspector on images made by qemu-img', () => {
  const clean: [string, string[], string, string?, string?][] = [
    ['plain.qcow2', ['-f', 'qcow2'], 'qcow2'],
    ['v2.qcow2', ['-f', 'qcow2', '-o', 'compat=0.10'], 'qcow2'],
    ['sparse.vmdk', ['-f', 'vmdk'], 'vmdk'],
    ['stream.vmdk', ['-f', 'vmdk', '-o', 'subformat=streamOptimized'], 'vmdk'],
    ['dynamic.vhd', ['-f', 'vpc'], 'vhd', 'vpc'],
    ['fixed.vhd', ['-f', 'vpc', '-o', 'subformat=fixed'], 'vhd', 'vpc', '4M'],
    ['disk.vhdx', ['-f', 'vhdx'], 'vhdx'],
    ['disk.vdi', ['-f', 'vdi'], 'vdi'],
    ['disk.hds', ['-f', 'parallels'], 'ploop', 'parallels'],
  ];
  for (const [name, args, format, infoFormat, size] of clean) {
    test(`${name}: ${format}, virtual size as qemu-img info, no problems`, async () => {
      await qemuImg('create', '-q', ...args, file(name), size ?? '3G');
      const { ins, info } = await inspectImage(name, infoFormat);
      assert.equal(ins.format, format);
      assert.deepEqual(ins.problems, []);
      assert.equal(ins.virtualSize, info['virtual-size']);
      assertDecisions(ins);
    });
  }

  test('qcow2 holding data: virtual size, size of the stream', async () => {
    await writeFile(file('data.raw'), randomBytes(3 * 1024 * 1024 + 512));
    await qemuImg('convert', '-q', '-f', 'raw', '-O', 'qcow2', file('data.raw'), file('data.qcow2'));
    const data = await readFile(file('data.qcow2'));
    const ins = inspectEveryWay(data);
    assert.equal(ins.format, 'qcow2');
    assert.equal(ins.virtualSize, 3 * 1024 * 1024 + 512);
    assert.equal(ins.size, data.length);
  });

  test('qcow2 with a backing file is a problem (and declared raw is refused)', async () => {
    await qemuImg('create', '-q', '-f', 'qcow2', file('base.qcow2'), '64M');
    await qemuImg('create', '-q', '-f', 'qcow2', '-b', file('base.qcow2'), '-F', 'qcow2', file('overlay.qcow2'));
    const { ins, info } = await inspectImage('overlay.qcow2', 'qcow2');
    assert.equal(ins.format, 'qcow2');
    assert.equal(ins.virtualSize, info['virtual-size']);
    assert.deepEqual(ins.problems, ['The qcow2 image refers to a backing file']);
    assert.equal(formatMismatch('raw', ins), 'Image data is qcow2 but disk_format is raw');
  });

  test('qcow2 with an external data file is a problem', async () => {
    await qemuImg('create', '-q', '-f', 'qcow2', '-o', `data_file=${file('external.raw')}`, file('datafile.qcow2'), '64M');
    const { ins } = await inspectImage('datafile.qcow2', 'qcow2');
    assert.deepEqual(ins.problems, ['The qcow2 image uses an external data file']);
  });

  test('qcow2 data-file header extension without the feature bit is still a problem', async () => {
    const data = await readFile(file('datafile.qcow2'));
    data[79] &= ~0x04; // clear incompatible feature bit 2, keep the extension
    const ins = inspectEveryWay(data);
    assert.deepEqual(ins.problems, ['The qcow2 image uses an external data file']);
  });

  test('qcow2 external-data-file feature bit without the name extension is a problem', async () => {
    const data = await readFile(file('plain.qcow2'));
    data[79] |= 0x04;
    assert.deepEqual(inspectEveryWay(data).problems, ['The qcow2 image uses an external data file']);
  });

  test('qcow2 marked corrupt is a problem', async () => {
    const data = await readFile(file('plain.qcow2'));
    data[79] |= 0x02;
    assert.deepEqual(inspectEveryWay(data).problems, ['The qcow2 image is marked corrupt']);
  });

  test('qcow2 with an unknown incompatible feature is a problem', async () => {
    const data = await readFile(file('plain.qcow2'));
    data[79] |= 0x20; // bit 5: reserved
    assert.deepEqual(inspectEveryWay(data).problems, ['The qcow2 image uses unknown incompatible features (0x20)']);
  });

  test('truncated qcow2 header is a problem, not a crash', async () => {
    const data = (await readFile(file('plain.qcow2'))).subarray(0, 40);
    const ins = inspectEveryWay(data);
    assert.equal(ins.format, 'qcow2');
    assert.equal(ins.virtualSize, null);
    assert.deepEqual(ins.problems, ['The qcow2 header is truncated']);
  });

  test('VMDK descriptor files (twoGbMaxExtentSparse, monolithicFlat) refer to other files', async () => {
    for (const sub of ['twoGbMaxExtentSparse', 'monolithicFlat']) {
      const name = `${sub}.vmdk`;
      await qemuImg('create', '-q', '-f', 'vmdk', '-o', `subformat=${sub}`, file(name), '64M');
      const ins = inspectEveryWay(await readFile(file(name)));
      assert.equal(ins.format, 'vmdk', sub);
      assert.equal(ins.virtualSize, 64 * 1024 * 1024, sub);
      assert.deepEqual(ins.problems, [
        `VMDK create type "${sub}" is not allowed (only monolithicSparse and streamOptimized)`,
        'The VMDK descriptor refers to other files',
      ], sub);
      assert.equal(formatMismatch('vmdk', ins), null);
      assert.equal(formatMismatch('raw', ins), 'Image data is vmdk but disk_format is raw');
    }
  });

  test('an extent file of a split VMDK has no descriptor of its own', async () => {
    const ins = inspectEveryWay(await readFile(file('twoGbMaxExtentSparse-s001.vmdk')));
    assert.equal(ins.format, 'vmdk');
    assert.deepEqual(ins.problems, ['The VMDK image has no embedded descriptor (it is one part of a multi-file VMDK)']);
  });

  /** Rewrites the embedded descriptor of a monolithicSparse VMDK (it starts at sector 1). */
  async function sparseVmdkWithDescriptor(text: string): Promise<Buffer> {
    const data = await readFile(file('sparse.vmdk'));
    const size = Number(data.readBigUInt64LE(36)) * 512;
    assert.ok(text.length < size);
    data.fill(0, 512, 512 + size);
    data.write(text, 512, 'latin1');
    return data;
  }
  const descriptor = (extent: string, extra = ''): string =>
    `# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType="monolithicSparse"\n${extra}\n${extent}\n\nddb.adapterType = "ide"\n`;

  test('embedded VMDK descriptor naming another file is a problem', async () => {
    for (const extent of ['RW 6291456 SPARSE "/etc/passwd"', 'RW 6291456 FLAT "other.raw" 0', 'RW 1 SPARSE "a.vmdk"\nRW 1 SPARSE "b.vmdk"']) {
      const ins = inspectEveryWay(await sparseVmdkWithDescriptor(descriptor(extent)));
      assert.deepEqual(ins.problems, ['The VMDK descriptor refers to other files'], extent);
    }
    const same = inspectEveryWay(await sparseVmdkWithDescriptor(descriptor('RW 6291456 SPARSE "sparse.vmdk"')));
    assert.deepEqual(same.problems, []);
  });

  test('VMDK parent file hint, unknown lines and zero capacity are problems', async () => {
    const parent = inspectEveryWay(await sparseVmdkWithDescriptor(descriptor('RW 6291456 SPARSE "x.vmdk"', 'parentFileNameHint="/var/lib/base.vmdk"')));
    assert.deepEqual(parent.problems, ['The VMDK image refers to a parent (backing) file']);
    const odd = inspectEveryWay(await sparseVmdkWithDescriptor(descriptor('RW 6291456 SPARSE "x.vmdk"', 'include /etc/shadow')));
    assert.deepEqual(odd.problems, ['The VMDK descriptor contains lines that are not understood']);
    const zero = await sparseVmdkWithDescriptor(descriptor('RW 6291456 SPARSE "x.vmdk"'));
    zero.writeBigUInt64LE(0n, 12);
    const ins = inspectEveryWay(zero);
    assert.equal(ins.virtualSize, null);
    assert.deepEqual(ins.problems, ['The VMDK header has no capacity, so its descriptor would name the data files']);
  });

  test('QED is recognised and refused', async () => {
    await qemuImg('create', '-q', '-f', 'qed', file('disk.qed'), '64M');
    const { ins, info } = await inspectImage('disk.qed', 'qed');
    assert.equal(ins.format, 'qed');
    assert.equal(ins.virtualSize, info['virtual-size']);
    assert.deepEqual(ins.problems, ['QED images are not supported']);
    assertDecisions(ins);
  });

  test('LUKS: virtual size of the payload, accepted as raw', async () => {
    // qemu-img times its PBKDF from the thread's CPU clock and gives up when a round measures 0 ms
    // ("Unable to get accurate CPU usage"), which a busy 2-core machine sometimes gives: try again.
    for (let attempt = 1; ; attempt++) {
      const failed = await qemuImg('create', '-q', '-f', 'luks', '--object', 'secret,id=s0,data=nephos', '-o', 'key-secret=s0,iter-time=10', file('disk.luks'), '16M')
        .then(() => undefined, (e: Error) => e);
      if (!failed) break;
      if (attempt === 5 || !/accurate CPU usage/.test(failed.message)) throw failed;
    }
    const { ins, info } = await inspectImage('disk.luks', 'luks');
    assert.equal(ins.format, 'luks');
    assert.equal(ins.virtualSize, info['virtual-size']);
    assert.deepEqual(ins.problems, []);
    assertDecisions(ins);
  });
});

describe('FormatInspector on raw data', () => {
  test('random bytes are raw, virtual size = size', () => {
    const data = randomBytes(256 * 1024 + 123);
    const ins = inspectEveryWay(data);
    assert.deepEqual(ins, { format: 'raw', virtualSize: data.length, problems: [], size: data.length, partitionTable: null });
    assertDecisions(ins);
  });

  test('empty upload is raw of size 0', () => {
    assert.deepEqual(new FormatInspector().finish(), { format: 'raw', virtualSize: 0, problems: [], size: 0, partitionTable: null });
  });

  test('GPT and MBR partitioned disks are raw', () => {
    const gpt = inspectEveryWay(gptDisk(256 * 1024));
    assert.equal(gpt.format, 'raw');
    assert.equal(gpt.partitionTable, 'gpt');
    assert.deepEqual(gpt.problems, []);
    assert.equal(formatMismatch('raw', gpt), null);
    const mbr = inspectEveryWay(mbrDisk(256 * 1024));
    assert.equal(mbr.format, 'raw');
    assert.equal(mbr.partitionTable, 'mbr');
  });

  test('hand-built ISO 9660 image is iso, virtual size = size (as qemu-img info)', async () => {
    const iso = handmadeIso();
    await writeFile(file('hand.iso'), iso);
    const { ins, info } = await inspectImage('hand.iso', 'raw');
    assert.equal(ins.format, 'iso');
    assert.equal(ins.virtualSize, info['virtual-size']);
    assert.deepEqual(ins.problems, []);
    assertDecisions(ins);
  });

  test('ISO made by genisoimage is iso', async (t) => {
    const tool = await exec('which', ['genisoimage']).then(() => true, () => false);
    if (!tool) return t.skip('genisoimage is not installed (the hand-built ISO test covers detection)');
    await writeFile(file('hello.txt'), 'hello\n');
    await exec('genisoimage', ['-quiet', '-V', 'config-2', '-r', '-J', '-o', file('gen.iso'), file('hello.txt')]);
    const ins = inspectEveryWay(await readFile(file('gen.iso')));
    assert.equal(ins.format, 'iso');
  });

  test('data that is both qcow2 and ISO is refused as ambiguous', async () => {
    const data = await readFile(file('plain.qcow2'));
    data.write('CD001', 0x8001, 'latin1');
    const ins = inspectEveryWay(data);
    assert.equal(ins.format, 'qcow2');
    assert.deepEqual(ins.problems, ['Image data looks like more than one format (qcow2, iso)']);
  });

  test('text that qemu would probe as a VMDK descriptor is vmdk', () => {
    const ins = inspectEveryWay(Buffer.from('# comment\n   \nversion=1\nRW 100 FLAT "/dev/sda" 0\ncreateType="monolithicFlat"\n'));
    assert.equal(ins.format, 'vmdk');
    assert.ok(ins.problems.includes('The VMDK descriptor refers to other files'));
    assert.equal(formatMismatch('raw', ins), 'Image data is vmdk but disk_format is raw');
  });
});

test('push after finish throws', () => {
  const ins = new FormatInspector();
  ins.finish();
  assert.throws(() => ins.push(Buffer.from('x')), /after finish/);
});
