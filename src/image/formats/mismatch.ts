/**
 * Does the declared disk_format fit the inspected data? Like Glance's `require_image_format_match`,
 * with one deliberate difference: Glance lets any recognised format through as `raw`; here `raw`
 * refuses a recognised container format, because a qcow2 (or VMDK, …) stored as raw is the classic
 * way to make a later format-probing qemu open host files.
 *
 * - qcow2, vmdk, vhd, vhdx, vdi, iso, ploop: the data must be that format (ploop = Parallels image).
 * - raw: the data must not be a container format. ISO and LUKS data are accepted: qemu reads
 *   both as plain bytes (hybrid ISOs are written to disks as is; Cinder uploads encrypted
 *   volumes as raw LUKS).
 * - aki, ari, ami and any format that cannot be inspected: only data no inspector recognised.
 */
import type { DetectedFormat, Inspection } from './types.js';

const MUST_MATCH: ReadonlySet<string> = new Set(['qcow2', 'vmdk', 'vhd', 'vhdx', 'vdi', 'iso', 'ploop']);
const RAW_ACCEPTS: ReadonlySet<DetectedFormat> = new Set(['raw', 'iso', 'luks']);

/** null when `declared` (the image's disk_format) is consistent with the inspection, else the reason. */
export function formatMismatch(declared: string, ins: Pick<Inspection, 'format'>): string | null {
  const ok = MUST_MATCH.has(declared) ? ins.format === declared
    : declared === 'raw' ? RAW_ACCEPTS.has(ins.format)
      : ins.format === 'raw';
  return ok ? null : `Image data is ${ins.format} but disk_format is ${declared}`;
}

/**
 * The reason to refuse an upload, or null to accept it: safety problems always refuse; a format
 * mismatch refuses when `requireFormatMatch` (config image.require_format_match) is on.
 */
export function refusalReason(declared: string, ins: Inspection, requireFormatMatch = true): string | null {
  const reasons = [...ins.problems];
  const mismatch = requireFormatMatch ? formatMismatch(declared, ins) : null;
  if (mismatch) reasons.unshift(mismatch);
  return reasons.length ? reasons.join('; ') : null;
}
