/** Disk-image format inspection (streaming, bounded memory) and qemu-img conversion. */
export type { DetectedFormat, Inspection } from './types.js';
export { FormatInspector } from './inspector.js';
export { formatMismatch, refusalReason } from './mismatch.js';
export { convertToRaw, inspectFile, qemuFormat, qemuImgInfo, type QemuImgInfo } from './qemu-img.js';
export { ALLOWED_CREATE_TYPES as VMDK_ALLOWED_CREATE_TYPES } from './vmdk.js';
