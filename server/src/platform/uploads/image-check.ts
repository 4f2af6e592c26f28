/**
 * What an uploaded file really is, from its bytes: JPEG, PNG or WebP, checked over its whole
 * structure (not just the first bytes), so that a PNG header followed by HTML, a truncated file
 * or a polyglot with a trailer is refused. Pure JS; nothing is decoded into pixels.
 *
 * - PNG: signature, IHDR first (sane size, valid depth/colour type), every chunk's CRC, at least
 *   one IDAT, IEND last, nothing after it.
 * - JPEG: SOI, every marker segment's length, a frame header (SOF) before the first scan, the
 *   entropy-coded data of every scan up to EOI. Bytes after EOI (phone makers' trailers) are cut
 *   off: only the image up to EOI is kept.
 * - WebP: the RIFF size matches the file, every chunk fits exactly, a still VP8/VP8L bitstream with
 *   a valid header; animations and unknown chunks are refused.
 */
import zlib from 'node:zlib';

export type ImageMime = 'image/jpeg' | 'image/png' | 'image/webp';

export interface CheckedImage {
  mime: ImageMime;
  width: number;
  height: number;
  /** the bytes to store (a JPEG without anything after its EOI) */
  bytes: Buffer;
}

/** Larger than any phone camera; keeps viewers safe from decompression bombs. */
const MAX_SIDE = 16_384;
const MAX_PIXELS = 60_000_000;

const sane = (w: number, h: number) => w > 0 && h > 0 && w <= MAX_SIDE && h <= MAX_SIDE && w * h <= MAX_PIXELS;

/** The checked image, or null when the bytes are not a complete, well-formed JPEG/PNG/WebP. */
export function checkImage(buf: Buffer): CheckedImage | null {
  try {
    if (buf.length >= 8 && buf.readUInt32BE(0) === 0x89504e47 && buf.readUInt32BE(4) === 0x0d0a1a0a) return checkPng(buf);
    if (buf.length >= 4 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return checkJpeg(buf);
    if (buf.length >= 12 && buf.toString('latin1', 0, 4) === 'RIFF' && buf.toString('latin1', 8, 12) === 'WEBP') return checkWebp(buf);
  } catch {
    // any read past the end is a malformed file
  }
  return null;
}

// ---- PNG -----------------------------------------------------------------------------------

const PNG_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

function checkPng(buf: Buffer): CheckedImage | null {
  let pos = 8;
  let width = 0;
  let height = 0;
  let idat = false;
  let first = true;
  while (pos + 12 <= buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    if (!/^[A-Za-z]{4}$/.test(type) || len > 0x7fffffff || pos + 12 + len > buf.length) return null;
    const crc = buf.readUInt32BE(pos + 8 + len);
    if (zlib.crc32(buf.subarray(pos + 4, pos + 8 + len)) !== crc) return null;
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (first) {
      if (type !== 'IHDR' || len !== 13) return null;
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, colour, compression, filter, interlace] = [data[8]!, data[9]!, data[10]!, data[11]!, data[12]!];
      if (!sane(width, height) || !PNG_DEPTHS[colour]?.includes(depth) || compression !== 0 || filter !== 0 || interlace > 1) return null;
      first = false;
    } else if (type === 'IHDR') {
      return null;
    }
    if (type === 'IDAT') idat = true;
    pos += 12 + len;
    if (type === 'IEND') {
      // nothing may follow the end of the image
      return len === 0 && idat && pos === buf.length ? { mime: 'image/png', width, height, bytes: buf } : null;
    }
  }
  return null;
}

// ---- JPEG ----------------------------------------------------------------------------------

const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

function checkJpeg(buf: Buffer): CheckedImage | null {
  let pos = 2;
  let width = 0;
  let height = 0;
  let frame = false;
  let scans = 0;
  for (;;) {
    if (buf[pos] !== 0xff) return null;
    while (buf[pos] === 0xff) pos++; // fill bytes
    if (pos >= buf.length) return null;
    const marker = buf[pos++]!;
    if (marker === 0xd9) {
      // EOI: the image ends here; anything after it is not kept
      return frame && scans > 0 ? { mime: 'image/jpeg', width, height, bytes: buf.subarray(0, pos) } : null;
    }
    if (marker === 0xd8 || marker === 0x00 || (marker >= 0xd0 && marker <= 0xd7)) return null;
    if (marker === 0x01) continue; // TEM: no length
    if (pos + 2 > buf.length) return null;
    const len = buf.readUInt16BE(pos);
    if (len < 2 || pos + len > buf.length) return null;
    if (isSof(marker)) {
      if (frame || len < 8) return null;
      height = buf.readUInt16BE(pos + 3);
      width = buf.readUInt16BE(pos + 5);
      const components = buf[pos + 7]!;
      if (!sane(width, height) || components < 1 || components > 4 || len !== 8 + 3 * components) return null;
      frame = true;
    }
    if (marker === 0xda) {
      if (!frame) return null;
      const components = buf[pos + 2]!;
      if (components < 1 || components > 4 || len !== 6 + 2 * components) return null;
      scans++;
      pos += len;
      // entropy-coded data: runs until a marker other than a stuffed 0xFF00 or a restart marker
      for (;;) {
        const ff = buf.indexOf(0xff, pos);
        if (ff < 0 || ff + 1 >= buf.length) return null;
        const next = buf[ff + 1]!;
        if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) {
          pos = ff + 2;
          continue;
        }
        if (next === 0xff) {
          pos = ff + 1;
          continue;
        }
        pos = ff;
        break;
      }
      continue;
    }
    pos += len;
  }
}

// ---- WebP ----------------------------------------------------------------------------------

const WEBP_CHUNKS = new Set(['VP8 ', 'VP8L', 'VP8X', 'ALPH', 'ICCP', 'EXIF', 'XMP ']);

function checkWebp(buf: Buffer): CheckedImage | null {
  if (buf.readUInt32LE(4) + 8 !== buf.length) return null;
  let pos = 12;
  let index = 0;
  let size: { width: number; height: number } | null = null;
  let canvas: { width: number; height: number } | null = null;
  while (pos < buf.length) {
    if (pos + 8 > buf.length) return null;
    const type = buf.toString('latin1', pos, pos + 4);
    const len = buf.readUInt32LE(pos + 4);
    const padded = len + (len & 1);
    if (!WEBP_CHUNKS.has(type) || pos + 8 + padded > buf.length) return null;
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (index === 0 && type !== 'VP8 ' && type !== 'VP8L' && type !== 'VP8X') return null;
    if (type === 'VP8X') {
      if (index !== 0 || len < 10) return null;
      if (data[0]! & 0x02) return null; // animation
      canvas = { width: 1 + data.readUIntLE(4, 3), height: 1 + data.readUIntLE(7, 3) };
    } else if (type === 'VP8 ' || type === 'VP8L') {
      if (size) return null; // one bitstream: a still image
      size = type === 'VP8 ' ? vp8Size(data) : vp8lSize(data);
      if (!size) return null;
    }
    index++;
    pos += 8 + padded;
  }
  if (!size || pos !== buf.length) return null;
  const { width, height } = canvas ?? size;
  return sane(width, height) ? { mime: 'image/webp', width, height, bytes: buf } : null;
}

function vp8Size(d: Buffer): { width: number; height: number } | null {
  if (d.length < 10 || d[0]! & 1 || d[3] !== 0x9d || d[4] !== 0x01 || d[5] !== 0x2a) return null; // a key frame with its start code
  const frameLength = d.readUIntLE(0, 3) >> 5;
  if (10 + frameLength > d.length) return null;
  return { width: d.readUInt16LE(6) & 0x3fff, height: d.readUInt16LE(8) & 0x3fff };
}

function vp8lSize(d: Buffer): { width: number; height: number } | null {
  if (d.length < 5 || d[0] !== 0x2f) return null;
  const bits = d.readUInt32LE(1);
  if (bits >>> 29 !== 0) return null; // version 0
  return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >>> 14) & 0x3fff) };
}
