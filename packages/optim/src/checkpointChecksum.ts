/**
 * @file The checksum of a checkpoint file: CRC-32 of the whole file with the checksum's own eight
 * digits read as zeros (version 2), or of the tensor bytes and the other metadata entries (version
 * 1, still read). Used by `sealCheckpoint` to write it and by `restoreCheckpoint` to verify it.
 */
import * as E from "fp-ts/lib/Either.js";
import { crc32, crc32Text } from "./crc32.js";

/** The format version whose checksum covers the tensor bytes and metadata, not the whole file. */
export const LEGACY_VERSION = "1";

export const CRC_PREFIX = "crc32:";
export const ZERO_DIGITS = "00000000";
const CHECKSUM_VALUE = /^crc32:[0-9a-f]{8}$/;
export const hex8 = (crc: number): string => crc.toString(16).padStart(8, "0");
const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

/** The header length a (decoded, so valid) safetensors file declares. */
const headerLengthOf = (bytes: Uint8Array): number => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  return view.getUint32(0, true) + view.getUint32(4, true) * 0x100000000;
};

/** The tensor bytes of a (valid) safetensors file: everything after the header. */
export const dataSection = (bytes: Uint8Array): Uint8Array => bytes.subarray(8 + headerLengthOf(bytes));

/**
 * Where the eight digits of `"checksum":"crc32:<digits>"` start in the header, or undefined.
 * In a header that parsed as strict JSON this byte sequence can only be the metadata entry (an
 * unescaped quote always opens or closes a string, and keys are unique), so the first match is it.
 */
export const checksumDigitsAt = (bytes: Uint8Array, digits: string): number | undefined => {
  const pattern = ascii(`"checksum":"${CRC_PREFIX}${digits}"`);
  const end = Math.min(bytes.length, 8 + headerLengthOf(bytes)) - pattern.length;
  outer: for (let i = 8; i <= end; i++) {
    for (let j = 0; j < pattern.length; j++) if (bytes[i + j] !== pattern[j]) continue outer;
    return i + pattern.length - 9;
  }
  return undefined;
};

/** The CRC-32 of the whole file with the eight checksum digits at `at` read as "00000000" (no copy). */
export const fileCrc = (bytes: Uint8Array, at: number): number =>
  crc32(bytes.subarray(at + 8), crc32(ascii(ZERO_DIGITS), crc32(bytes.subarray(0, at))));

/** Version 1: `crc32:xxxxxxxx` of the tensor bytes and then every metadata entry but the checksum. */
export const legacyChecksumOf = (
  data: Uint8Array,
  metadata: ReadonlyMap<string, string> | Readonly<Record<string, string>>,
): string => {
  const entries = (metadata instanceof Map ? [...metadata.entries()] : Object.entries(metadata)).filter(
    ([k]) => k !== "checksum",
  );
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${CRC_PREFIX}${hex8(crc32Text(JSON.stringify(entries), crc32(data)))}`;
};

/** What the stored checksum should be for these bytes (`legacy`: version 1), or a reason it cannot be computed. */
export const expectedChecksum = (
  bytes: Uint8Array,
  metadata: ReadonlyMap<string, string>,
  stored: string,
  legacy: boolean,
): E.Either<string, string> => {
  if (legacy) return E.right(legacyChecksumOf(dataSection(bytes), metadata));
  if (!CHECKSUM_VALUE.test(stored))
    return E.left(
      `the "checksum" metadata ${JSON.stringify(stored.slice(0, 40))} is not "crc32:" and eight lowercase hex digits`,
    );
  const at = checksumDigitsAt(bytes, stored.slice(CRC_PREFIX.length));
  if (at === undefined)
    return E.left(
      'the "checksum" entry is not written as this library writes it (no spaces, no escapes), so it cannot be verified',
    );
  return E.right(`${CRC_PREFIX}${hex8(fileCrc(bytes, at))}`);
};
