/**
 * @file CRC-32 (IEEE 802.3, the checksum of zip and PNG), to detect damaged checkpoint files: it
 * catches every error burst of up to 32 bits, so any single changed byte.
 */

let table: Uint32Array | undefined;

const crcTable = (): Uint32Array => {
  if (table !== undefined) return table;
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return (table = t);
};

/**
 * Continues a CRC-32 over `bytes` (start with `crc = 0`), so several pieces can be checked as one.
 * @example crc32(new Uint8Array([0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39])) // 0xcbf43926
 */
export const crc32 = (bytes: Uint8Array, crc = 0): number => {
  const t = crcTable();
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
};

/**
 * Continues a CRC-32 over a string's UTF-16 code units (two bytes each, little-endian).
 * @example crc32Text("step=3", crc32(data))
 */
export const crc32Text = (text: string, crc = 0): number => {
  const bytes = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    const u = text.charCodeAt(i);
    bytes[2 * i] = u & 0xff;
    bytes[2 * i + 1] = u >>> 8;
  }
  return crc32(bytes, crc);
};
