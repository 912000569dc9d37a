import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateExtraSpec } from './extra-specs.js';

test('known namespaces are checked, unknown keys in them refused, everything else free-form', () => {
  for (const [k, v] of [['hw:cpu_policy', 'dedicated'], ['hw:numa_cpus.0', '0-3,^2'], ['hw:mem_page_size', '2MB'], ['quota:disk_read_bytes_sec', '10240'],
    ['resources:VCPU', '2'], ['resources1:CUSTOM_GPU', '1'], ['trait:HW_CPU_X86_AVX2', 'required'], ['hw_rng:allowed', 'True'], ['acme:anything', '?'], ['plain', 'x']]) {
    validateExtraSpec(k, v);
  }
  for (const [k, v, re] of [['hw:cpu_policy', 'wobbly', /not one of/], ['hw:numa_nodes', '0', /less than the min/], ['hw:redirected_usb_ports', '16', /greater than the max/],
    ['hw:cpu_realtime', 'maybe', /boolean-like/], ['resources:VCPU', 'two', /not a valid integer/], ['trait:HW_X', 'maybe', /not one of/], ['hw:bogus', '1', /does not appear to be a valid extra spec/],
    ['resources:FLUX_CAPACITOR', '1', /does not appear/]] as const) {
    assert.throws(() => validateExtraSpec(k, v), (e: Error) => re.test(e.message), `${k}=${v}`);
  }
});
