#!/usr/bin/env node
/**
 * Draws the mini-program's icons (tab bar 81×81, home grid 96×96) as small PNGs with pngjs:
 * simple shapes, anti-aliased by 4×4 supersampling. The PNGs are committed
 * (miniprogram/assets/icons); run `node scripts/draw-icons.mjs` after changing a shape or colour.
 * WeChat: tab bar icons must be PNG (not SVG) and at most 40 KB.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';

const OUT = path.resolve(import.meta.dirname, '../miniprogram/assets/icons');
const GREY = [0x8a, 0x85, 0x80];
const ORANGE = [0xe8, 0x59, 0x0c];

// ---- shapes in a 0..1 square: (x, y) → inside? --------------------------------------------------
const circle = (cx, cy, r) => (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
const rect = (x0, y0, x1, y1) => (x, y) => x >= x0 && x <= x1 && y >= y0 && y <= y1;
const roundRect = (x0, y0, x1, y1, r) => (x, y) => {
  if (!rect(x0, y0, x1, y1)(x, y)) return false;
  const cx = Math.min(Math.max(x, x0 + r), x1 - r);
  const cy = Math.min(Math.max(y, y0 + r), y1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
};
/** a thick line from (ax, ay) to (bx, by) with round ends */
const capsule = (ax, ay, bx, by, w) => (x, y) => {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
  return (x - ax - t * dx) ** 2 + (y - ay - t * dy) ** 2 <= (w / 2) ** 2;
};
const polygon = (pts) => (x, y) => {
  let inside = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const [xi, yi] = pts[i];
    const [xj, yj] = pts[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
};
const union =
  (...fs) =>
  (x, y) =>
    fs.some((f) => f(x, y));
const minus =
  (a, ...bs) =>
  (x, y) =>
    a(x, y) && !bs.some((b) => b(x, y));
const ring = (cx, cy, r, w) => minus(circle(cx, cy, r), circle(cx, cy, r - w));

// ---- the icons -------------------------------------------------------------------------------------
const home = union(
  minus(
    polygon([
      [0.5, 0.12],
      [0.9, 0.48],
      [0.8, 0.48],
      [0.5, 0.22],
      [0.2, 0.48],
      [0.1, 0.48],
    ]),
    rect(0, 0, 0, 0),
  ),
  minus(roundRect(0.22, 0.44, 0.78, 0.88, 0.04), roundRect(0.29, 0.5, 0.71, 0.81, 0.02)),
  rect(0.42, 0.6, 0.58, 0.88),
);
const bills = union(
  minus(roundRect(0.2, 0.1, 0.8, 0.9, 0.08), roundRect(0.27, 0.17, 0.73, 0.83, 0.04)),
  capsule(0.36, 0.35, 0.64, 0.35, 0.06),
  capsule(0.36, 0.5, 0.64, 0.5, 0.06),
  capsule(0.36, 0.65, 0.54, 0.65, 0.06),
);
const services = union(
  roundRect(0.14, 0.14, 0.46, 0.46, 0.08),
  roundRect(0.54, 0.14, 0.86, 0.46, 0.08),
  roundRect(0.14, 0.54, 0.46, 0.86, 0.08),
  minus(roundRect(0.54, 0.54, 0.86, 0.86, 0.08), roundRect(0.6, 0.6, 0.8, 0.8, 0.04)),
);
const bubble = minus(
  union(
    roundRect(0.1, 0.16, 0.9, 0.72, 0.14),
    polygon([
      [0.26, 0.68],
      [0.24, 0.9],
      [0.46, 0.7],
    ]),
  ),
  circle(0.32, 0.44, 0.055),
  circle(0.5, 0.44, 0.055),
  circle(0.68, 0.44, 0.055),
);
const mine = union(circle(0.5, 0.33, 0.17), minus(circle(0.5, 0.98, 0.36), rect(0, 0.88, 1, 1)));
const yuan = union(
  ring(0.5, 0.5, 0.4, 0.07),
  capsule(0.36, 0.28, 0.5, 0.46, 0.07),
  capsule(0.64, 0.28, 0.5, 0.46, 0.07),
  capsule(0.5, 0.46, 0.5, 0.74, 0.07),
  capsule(0.37, 0.5, 0.63, 0.5, 0.06),
  capsule(0.37, 0.61, 0.63, 0.61, 0.06),
);
const power = union(
  minus(
    ring(0.5, 0.54, 0.34, 0.08),
    polygon([
      [0.5, 0.54],
      [0.3, 0],
      [0.7, 0],
    ]),
  ),
  capsule(0.5, 0.12, 0.5, 0.5, 0.08),
);
const wrench = minus(
  union(capsule(0.3, 0.3, 0.78, 0.78, 0.13), circle(0.3, 0.3, 0.2)),
  circle(0.3, 0.3, 0.09),
  polygon([
    [0.3, 0.3],
    [0.05, 0.12],
    [0.12, 0.05],
  ]),
);

/** one PNG of `size`×`size`: the shape in `color`, transparent elsewhere */
function draw(shape, size, color, file) {
  const png = new PNG({ width: size, height: size });
  const S = 4;
  for (let py = 0; py < size; py++)
    for (let px = 0; px < size; px++) {
      let hits = 0;
      for (let sy = 0; sy < S; sy++) for (let sx = 0; sx < S; sx++) if (shape((px + (sx + 0.5) / S) / size, (py + (sy + 0.5) / S) / size)) hits++;
      const i = (py * size + px) * 4;
      [png.data[i], png.data[i + 1], png.data[i + 2]] = color;
      png.data[i + 3] = Math.round((hits / (S * S)) * 255);
    }
  const buf = PNG.sync.write(png, { colorType: 6 });
  fs.writeFileSync(path.join(OUT, file), buf);
  return buf.length;
}

fs.mkdirSync(OUT, { recursive: true });
const made = [];
for (const [name, shape] of Object.entries({ home, bills, services, group: bubble, mine })) {
  made.push([`tab-${name}.png`, draw(shape, 81, GREY, `tab-${name}.png`)]);
  made.push([`tab-${name}-active.png`, draw(shape, 81, ORANGE, `tab-${name}-active.png`)]);
}
for (const [name, shape] of Object.entries({ pay: yuan, service: power, repair: wrench, group: bubble }))
  made.push([`grid-${name}.png`, draw(shape, 96, ORANGE, `grid-${name}.png`)]);
for (const [file, bytes] of made) console.log(`${file} ${bytes} B`);
