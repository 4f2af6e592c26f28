/**
 * jsonBytes: a JSON answer's UTF-8 bytes, each answer its own part of a shared slab. Answers held
 * together (a socket still writing one while the next is made) must never share bytes.
 */
import { expect, it } from 'vitest';
import { jsonBytes } from './http';

const text = (i: number) => ({
  i,
  address: `幸福里小区${i}号楼2单元501室（和平路88号）`,
  note: i % 3 === 0 ? '暖气不热 🔥🧊 请尽快上门' : 'ok',
  seasonLabel: '2026—2027采暖季',
  fen: i * 1001,
});

it('gives every answer its own bytes, across many slabs, while all of them are held', () => {
  // ~2,000 answers of ~150-250 bytes, a few slabs' worth, all kept until the end
  const held = Array.from({ length: 2000 }, (_, i) => ({ value: text(i), bytes: jsonBytes(text(i)) }));
  for (const { value, bytes } of held) {
    expect(bytes.length).toBe(Buffer.byteLength(JSON.stringify(value)));
    expect(JSON.parse(bytes.toString('utf8'))).toEqual(value);
  }
  // answers of Chinese text only (three bytes a character), of many lengths: a slab's end is
  // sometimes longer than an answer's characters and shorter than its bytes
  const chinese = Array.from({ length: 400 }, (_, i) => ({ s: '供热管家'.repeat(100 + ((i * 37) % 600)) }));
  const bytes = chinese.map((value) => jsonBytes(value));
  chinese.forEach((value, i) => expect(JSON.parse(bytes[i]!.toString('utf8'))).toEqual(value));
});

it('encodes text of any width: four-byte characters, lone surrogates escaped, and answers larger than a slab', () => {
  const wide = { s: '𠀀'.repeat(30_000) };
  expect(JSON.parse(jsonBytes(wide).toString('utf8'))).toEqual(wide);
  const big = { items: Array.from({ length: 3000 }, (_, i) => text(i)) };
  const bytes = jsonBytes(big);
  expect(bytes.length).toBeGreaterThan(256 * 1024);
  expect(JSON.parse(bytes.toString('utf8'))).toEqual(big);
  // JSON.stringify escapes a lone surrogate, so the bytes stay valid UTF-8 and say the same
  expect(JSON.parse(jsonBytes({ s: 'a\ud800b' }).toString('utf8'))).toEqual({ s: 'a\ud800b' });
});
