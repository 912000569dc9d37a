/** What the bytes of an image really are ('raw' when no known container format matched). */
export type DetectedFormat =
  | 'raw' | 'qcow2' | 'vmdk' | 'vhd' | 'vhdx' | 'vdi' | 'iso' | 'luks' | 'ploop' | 'qed';

export interface Inspection {
  readonly format: DetectedFormat;
  /** Bytes the guest sees; raw and iso: the data size; null when the header could not tell. */
  readonly virtualSize: number | null;
  /** Reasons to refuse the image whatever its disk_format (backing file, external data file, …). */
  readonly problems: readonly string[];
  /** Bytes seen. */
  readonly size: number;
  /** A partition table at the start of raw (or iso) data: still raw for format purposes. */
  readonly partitionTable: 'gpt' | 'mbr' | null;
}

/** What a format's parser makes of its captured bytes. */
export interface Parsed {
  virtualSize: number | null;
  problems: string[];
}

/** A 64-bit header field as a JS number, or null beyond 2^53 (no real disk is that large). */
export function safeU64(v: bigint): number | null {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : null;
}
