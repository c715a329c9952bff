// Robust-matching enrolment: the PDQ hashes a person's device submits for one photo, exactly as
// the Python library computes them (openncii.media.bitmap, openncii.signals.borders,
// openncii.signals.variants) from the same decoded pixels. Everything here is integer
// arithmetic or the float32 PDQ of pdq.js, so the same pixels give the same hashes.
//
//   1. the working bitmap: if the short side is above 512, shrink by exact area averaging to a
//      short side of 512 (long side round(long * 512 / short), halves up); else keep it;
//   2. its hashes, in this order: the whole picture ("full"); centred squares of 1.000, 0.880,
//      0.780, 0.680, 0.600 of the short side ("square"); the picture without its bottom 25 %
//      and without its top 25 % ("strip"); the picture with its flat borders peeled off, when
//      it has some ("trim"). Hashes of quality below 50 and repeats are left out; at most 10.

import { MIN_QUALITY, lumaFromRGBA, pdqFromLumaBox, pdqFromRowPass, rowPass, scratch } from "./pdq.js";

export const WORKING_SIDE = 512;
export const ENROL_SQUARES = [1000, 880, 780, 680, 600];
export const STRIP_CUT_PERCENT = 25;
export const MAX_ENROLLED = 10;
const FLAT_TOLERANCE = 12;
const FLAT_PERCENT = 97;
const MIN_TRIM_PERCENT = 2;
const MIN_KEEP_PERCENT = 30;

/** [width, height] of the working bitmap of a width x height picture. */
export function workingSize(width, height) {
  const short = Math.min(width, height);
  if (short <= WORKING_SIDE) return [width, height];
  const long = Math.max(width, height);
  const scaled = Math.floor((2 * long * WORKING_SIDE + short) / (2 * short));
  return width <= height ? [WORKING_SIDE, scaled] : [scaled, WORKING_SIDE];
}

// The source pixels each output pixel overlaps along one axis (see areaResize): output x
// covers source pixels first[x] .. first[x] + count[x] - 1, with weights (overlap lengths)
// weight[offset[x] ..].
function spans(source, target) {
  const first = new Int32Array(target);
  const count = new Int32Array(target);
  const offset = new Int32Array(target);
  const weights = [];
  for (let x = 0; x < target; x++) {
    const lo = x * source;
    const hi = lo + source;
    first[x] = Math.floor(lo / target);
    count[x] = Math.ceil(hi / target) - first[x];
    offset[x] = weights.length;
    for (let i = first[x]; i < first[x] + count[x]; i++) {
      weights.push(Math.min((i + 1) * target, hi) - Math.max(i * target, lo));
    }
  }
  return { first, count, offset, weight: Float64Array.from(weights) };
}

/** Shrink RGBA pixels by exact area averaging (integers: source pixel i covers [i w, (i+1) w),
 * output pixel x covers [x W, (x+1) W); the result is floor((sum + floor(W H / 2)) / (W H)) of
 * the weighted sum over the source pixels it overlaps). Returns RGBA with alpha 255.
 *
 * Every sum is an integer below 2^53, so it is exact in a double whatever the order: each
 * output row is summed down its source rows (one line of column sums), then along its columns;
 * only that one line is kept. */
export function areaResize(rgba, width, height, outWidth, outHeight) {
  const out = new Uint8ClampedArray(outWidth * outHeight * 4);
  if (outWidth === width && outHeight === height) {
    for (let p = 0; p < out.length; p += 4) {
      out[p] = rgba[p];
      out[p + 1] = rgba[p + 1];
      out[p + 2] = rgba[p + 2];
      out[p + 3] = 255;
    }
    return out;
  }
  const cols = spans(width, outWidth);
  const lines = spans(height, outHeight);
  const area = width * height;
  const half = Math.floor(area / 2);
  const sums = new Float64Array(width * 3); // one output row's sums down each source column
  const stride = width * 4;
  for (let y = 0; y < outHeight; y++) {
    columnSums(rgba, stride, width, lines.first[y] * stride, lines.count[y], lines.weight, lines.offset[y], sums);
    for (let x = 0, d = y * outWidth * 4; x < outWidth; x++, d += 4) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let t = 0, k = cols.offset[x], q = cols.first[x] * 3; t < cols.count[x]; t++, k++, q += 3) {
        const w = cols.weight[k];
        r += w * sums[q];
        g += w * sums[q + 1];
        b += w * sums[q + 2];
      }
      out[d] = Math.floor((r + half) / area);
      out[d + 1] = Math.floor((g + half) / area);
      out[d + 2] = Math.floor((b + half) / area);
      out[d + 3] = 255;
    }
  }
  return out;
}

// The weighted sums down `count` source rows (from byte `p`, `stride` apart; weights
// weight[k ..]) of each column's R, G, B, into sums. Two and three rows (every output row when
// shrinking by less than 2 per side) are summed in registers, one store per value.
function columnSums(rgba, stride, width, p, count, weight, k, sums) {
  if (count === 2) {
    const w0 = weight[k];
    const w1 = weight[k + 1];
    for (let x = 0, q = 0; x < width; x++, p += 4, q += 3) {
      sums[q] = w0 * rgba[p] + w1 * rgba[p + stride];
      sums[q + 1] = w0 * rgba[p + 1] + w1 * rgba[p + stride + 1];
      sums[q + 2] = w0 * rgba[p + 2] + w1 * rgba[p + stride + 2];
    }
  } else if (count === 3) {
    const w0 = weight[k];
    const w1 = weight[k + 1];
    const w2 = weight[k + 2];
    const s2 = 2 * stride;
    for (let x = 0, q = 0; x < width; x++, p += 4, q += 3) {
      sums[q] = w0 * rgba[p] + w1 * rgba[p + stride] + w2 * rgba[p + s2];
      sums[q + 1] = w0 * rgba[p + 1] + w1 * rgba[p + stride + 1] + w2 * rgba[p + s2 + 1];
      sums[q + 2] = w0 * rgba[p + 2] + w1 * rgba[p + stride + 2] + w2 * rgba[p + s2 + 2];
    }
  } else {
    sums.fill(0);
    for (let t = 0; t < count; t++, p += stride) {
      const w = weight[k + t];
      for (let x = 0, i = p, q = 0; x < width; x++, i += 4, q += 3) {
        sums[q] += w * rgba[i];
        sums[q + 1] += w * rgba[i + 1];
        sums[q + 2] += w * rgba[i + 2];
      }
    }
  }
}

/** The working bitmap of decoded RGBA pixels: {rgba, width, height}. */
export function workingBitmap(rgba, width, height) {
  const [w, h] = workingSize(width, height);
  return { rgba: areaResize(rgba, width, height, w, h), width: w, height: h };
}

// A line of n pixels starting at RGBA offset `start`, `step` bytes apart, is flat when at
// least 97 % of its pixels are within +-12 of the line's lower median on each channel.
const histogram = new Int32Array(768);
function flatLine(rgba, start, step, n) {
  histogram.fill(0);
  for (let i = 0, p = start; i < n; i++, p += step) {
    histogram[rgba[p]]++;
    histogram[256 + rgba[p + 1]]++;
    histogram[512 + rgba[p + 2]]++;
  }
  const rank = (n - 1) >> 1;
  const median = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    let seen = 0;
    let v = 0;
    while (seen + histogram[c * 256 + v] <= rank) seen += histogram[c * 256 + v++];
    median[c] = v;
  }
  let near = 0;
  for (let i = 0, p = start; i < n; i++, p += step) {
    if (
      Math.abs(rgba[p] - median[0]) <= FLAT_TOLERANCE &&
      Math.abs(rgba[p + 1] - median[1]) <= FLAT_TOLERANCE &&
      Math.abs(rgba[p + 2] - median[2]) <= FLAT_TOLERANCE
    ) {
      near++;
    }
  }
  return near * 100 >= FLAT_PERCENT * n;
}

/** The box left when flat borders are peeled off ({top, bottom, left, right}), or null. */
export function flatBorderBox(rgba, width, height) {
  let top = 0;
  let bottom = height;
  let left = 0;
  let right = width;
  const row = (y) => flatLine(rgba, (y * width + left) * 4, 4, right - left);
  const col = (x) => flatLine(rgba, (top * width + x) * 4, width * 4, bottom - top);
  for (;;) {
    const before = [top, bottom, left, right].join();
    while (top < bottom && row(top)) top++;
    if (top >= bottom) return null;
    while (row(bottom - 1)) bottom--;
    while (left < right && col(left)) left++;
    if (left >= right) return null;
    while (col(right - 1)) right--;
    if ([top, bottom, left, right].join() === before) break;
  }
  const keptH = bottom - top;
  const keptW = right - left;
  if (keptH * 100 < MIN_KEEP_PERCENT * height || keptW * 100 < MIN_KEEP_PERCENT * width) return null;
  if ((height - keptH) * 100 < MIN_TRIM_PERCENT * height && (width - keptW) * 100 < MIN_TRIM_PERCENT * width) {
    return null;
  }
  return { top, bottom, left, right };
}

/** [top, bottom, left, right] of the centred square of side thousandths / 1000 of the short side. */
export function squareBox(width, height, thousandths) {
  const side = Math.max(1, Math.floor((Math.min(width, height) * thousandths + 500) / 1000));
  const top = Math.floor((height - side) / 2);
  const left = Math.floor((width - side) / 2);
  return [top, top + side, left, left + side];
}

/** The picture without its bottom 25 %, then without its top 25 %. */
export function stripBoxes(width, height) {
  const cut = Math.floor((height * STRIP_CUT_PERCENT + 50) / 100);
  return [
    [0, height - cut, 0, width],
    [cut, height, 0, width],
  ];
}

/** The hashes enrolled for one photo, from its working bitmap's RGBA pixels:
 * [{hex, kind, quality}], as openncii.signals.variants.enrol_variants.
 *
 * Each hash is computed on its box of the working bitmap's luma in place (no copy). The two
 * strips keep whole rows, so the first pass of their filter (along rows) is the full picture's
 * rows: it is computed once. The luma and those rows live in scratch arrays kept between
 * enrolments (this function is synchronous). */
export function enrolVariants(rgba, width, height) {
  const luma = lumaFromRGBA(rgba, width, height, scratch("enrol luma", width * height));
  const fullRows = rowPass(luma, width, 0, height, 0, width, scratch("enrol rows", width * height));
  const out = [];
  const seen = new Set();
  const add = (kind, box) => {
    if (out.length >= MAX_ENROLLED) return;
    const [top, bottom, left, right] = box;
    const { hex, quality } =
      left === 0 && right === width
        ? pdqFromRowPass(fullRows.subarray(top * width, bottom * width), width, bottom - top)
        : pdqFromLumaBox(luma, width, top, bottom, left, right);
    if (quality < MIN_QUALITY) return;
    const key = `${kind === "full" || kind === "trim" ? "whole" : kind}:${hex}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ hex, kind, quality });
  };
  add("full", [0, height, 0, width]);
  for (const t of ENROL_SQUARES) add("square", squareBox(width, height, t));
  for (const box of stripBoxes(width, height)) add("strip", box);
  const trim = flatBorderBox(rgba, width, height);
  if (trim) add("trim", [trim.top, trim.bottom, trim.left, trim.right]);
  return out;
}

/** The enrolment of decoded RGBA pixels (any size): the working bitmap, then its hashes. */
export function enrolPixels(rgba, width, height) {
  const bitmap = workingBitmap(rgba, width, height);
  return enrolVariants(bitmap.rgba, bitmap.width, bitmap.height);
}
