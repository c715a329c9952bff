// PDQ perceptual hash, written from the algorithm's description (Meta's PDQ paper and the
// OpenNCII design notes). It follows the float32 order of operations of the Python
// implementation (openncii.signals.pdq) so that the same pixels give the same bits:
// every product and sum that is float32 there is rounded with Math.fround here.
//
//   1. luma = (0.299 R + 0.587 G) + 0.114 B                      (float32)
//   2. two passes of a running-sum box filter, along rows then columns,
//      window ceil(dim / 128) per axis                           (float32, add then subtract)
//   3. decimate to 64 x 64 at the cell centres                   (indices in double)
//   4. quality: sum of |trunc((u - v) * 100 / 255)| over neighbours, // 90, at most 100
//   5. 16 x 16 DCT: D A D^T, one float32 product and one float32 add per term
//   6. bit k (row k >> 4, column k & 15) set where the value is above the lower median
//      (rank 128 of 256); hex = the 256-bit big-endian integer whose bit k is bit k.

const LUMA_R = Math.fround(0.299);
const LUMA_G = Math.fround(0.587);
const LUMA_B = Math.fround(0.114);
const SMALL = 64;
// float32(0.299 * v), float32(0.587 * v), float32(0.114 * v) for every 8-bit value v: the
// same products as computing them per pixel, looked up instead.
const TABLE_R = new Float64Array(256).map((_, v) => Math.fround(LUMA_R * v));
const TABLE_G = new Float64Array(256).map((_, v) => Math.fround(LUMA_G * v));
const TABLE_B = new Float64Array(256).map((_, v) => Math.fround(LUMA_B * v));
const MIN_DIM = 5;

export const MIN_QUALITY = 50;
export const MATCH_THRESHOLD = 31;

let dctMatrix = null;

/** Rows 1..16 of the 64-point DCT-II basis, computed in double then rounded to float32. */
export function dctTable() {
  if (dctMatrix === null) {
    const scale = Math.sqrt(2.0 / 64.0);
    dctMatrix = new Float32Array(16 * 64);
    for (let i = 0; i < 16; i++) {
      for (let j = 0; j < 64; j++) {
        dctMatrix[i * 64 + j] = scale * Math.cos((Math.PI / 2 / 64.0) * (i + 1) * (2 * j + 1));
      }
    }
  }
  return dctMatrix;
}

/** Float32 luma of RGBA pixels (alpha ignored). */
export function lumaFromRGBA(rgba, width, height) {
  const n = width * height;
  const luma = new Float32Array(n);
  for (let p = 0, q = 0; p < n; p++, q += 4) {
    const rg = Math.fround(Math.fround(LUMA_R * rgba[q]) + Math.fround(LUMA_G * rgba[q + 1]));
    luma[p] = rg + Math.fround(LUMA_B * rgba[q + 2]); // the Float32Array store rounds to float32
  }
  return luma;
}

function windowSize(dim) {
  return Math.floor((dim + 2 * SMALL - 1) / (2 * SMALL));
}

// The box filter is a running sum kept in float32: per output, add the sample entering the
// window and (once the window is full) subtract the one leaving it, then divide by the current
// window size (centred, shrinking at the edges). Each row (or column) is one such sequence.

// The running-sum box filter along one line: src[from .. from + length) -> dst[to ..).
function boxLine(src, from, dst, to, length, window) {
  const half = (window + 2) >> 1;
  let total = 0;
  let n = 0;
  let read = from;
  let left = from;
  let write = to;
  for (let i = 0; i < half - 1; i++) {
    total = Math.fround(total + src[read++]);
    n++;
  }
  for (let i = 0; i < window - half + 1; i++) {
    total = Math.fround(total + src[read++]);
    n++;
    dst[write++] = total / n;
  }
  for (let i = 0; i < length - window; i++) {
    total = Math.fround(Math.fround(total + src[read++]) - src[left++]);
    dst[write++] = total / n;
  }
  for (let i = 0; i < half - 1; i++) {
    total = Math.fround(total - src[left++]);
    n--;
    dst[write++] = total / n;
  }
}

// Along each row of a width x height image; with `keep` (column indices), only those
// columns of the result are stored, as a height x keep.length image.
function boxRows(src, width, height, window, keep = null) {
  const out = new Float32Array(keep ? height * keep.length : width * height);
  const line = keep ? new Float32Array(width) : null;
  for (let y = 0; y < height; y++) {
    if (keep) {
      boxLine(src, y * width, line, 0, width, window);
      const o = y * keep.length;
      for (let k = 0; k < keep.length; k++) out[o + k] = line[keep[k]];
    } else {
      boxLine(src, y * width, out, y * width, width, window);
    }
  }
  return out;
}

// The first pass straight from RGBA pixels: each row's luma, then its running sum.
function boxRowsFromRGBA(rgba, width, height, window) {
  const out = new Float32Array(width * height);
  const line = new Float32Array(width);
  for (let y = 0, q = 0; y < height; y++) {
    for (let x = 0; x < width; x++, q += 4) {
      const rg = Math.fround(TABLE_R[rgba[q]] + TABLE_G[rgba[q + 1]]);
      line[x] = rg + TABLE_B[rgba[q + 2]]; // the store rounds to float32
    }
    boxLine(line, 0, out, y * width, width, window);
  }
  return out;
}

// Along each column, all columns at once (row by row, which keeps memory access sequential).
function boxColumns(src, width, height, window) {
  const half = (window + 2) >> 1;
  const out = new Float32Array(width * height);
  const total = new Float32Array(width); // stores round to float32
  let n = 0;
  let read = 0;
  let left = 0;
  let write = 0;
  for (let i = 0; i < half - 1; i++, read += width) {
    for (let x = 0; x < width; x++) total[x] += src[read + x];
    n++;
  }
  for (let i = 0; i < window - half + 1; i++, read += width, write += width) {
    n++;
    for (let x = 0; x < width; x++) {
      const t = Math.fround(total[x] + src[read + x]);
      total[x] = t;
      out[write + x] = t / n;
    }
  }
  for (let i = 0; i < height - window; i++, read += width, left += width, write += width) {
    for (let x = 0; x < width; x++) {
      const t = Math.fround(Math.fround(total[x] + src[read + x]) - src[left + x]);
      total[x] = t;
      out[write + x] = t / n;
    }
  }
  for (let i = 0; i < half - 1; i++, left += width, write += width) {
    n--;
    for (let x = 0; x < width; x++) {
      const t = Math.fround(total[x] - src[left + x]);
      total[x] = t;
      out[write + x] = t / n;
    }
  }
  return out;
}

/** Hash a float32 luma image. Returns {hex, quality}. */
export function pdqFromLuma(luma, width, height) {
  if (width < MIN_DIM || height < MIN_DIM) return { hex: "0".repeat(64), quality: 0 };
  return fromFirstPass(boxRows(luma, width, height, windowSize(width)), width, height);
}

/** Hash RGBA pixels (e.g. ImageData.data; alpha is ignored). Returns {hex, quality}. */
export function pdqFromRGBA(rgba, width, height) {
  if (width < MIN_DIM || height < MIN_DIM) return { hex: "0".repeat(64), quality: 0 };
  return fromFirstPass(boxRowsFromRGBA(rgba, width, height, windowSize(width)), width, height);
}

// The rest of the two passes of rows then columns, decimation, quality, DCT, bits. Only
// 64 x 64 points of the blurred image are sampled, so the second row pass keeps only the
// sampled columns (each row's running sum is still computed in full: the float32 rounding
// depends on the whole sequence) and the last column pass runs on those 64 columns only.
function fromFirstPass(a, width, height) {
  const rowWindow = windowSize(width);
  const colWindow = windowSize(height);
  const rowIdx = new Int32Array(SMALL);
  const colIdx = new Int32Array(SMALL);
  for (let i = 0; i < SMALL; i++) {
    rowIdx[i] = Math.floor(((i + 0.5) * height) / SMALL);
    colIdx[i] = Math.floor(((i + 0.5) * width) / SMALL);
  }
  const b = boxColumns(a, width, height, colWindow);
  const c = boxRows(b, width, height, rowWindow, colIdx);
  const d = boxColumns(c, SMALL, height, colWindow);
  const small = new Float32Array(SMALL * SMALL);
  for (let i = 0; i < SMALL; i++) {
    small.set(d.subarray(rowIdx[i] * SMALL, rowIdx[i] * SMALL + SMALL), i * SMALL);
  }
  const quality = imageQuality(small);
  const dct = dct64to16(small);
  return { hex: hexFromDct(dct), quality };
}

function imageQuality(small) {
  let total = 0;
  for (let i = 0; i < SMALL - 1; i++) {
    for (let j = 0; j < SMALL; j++) {
      const d = Math.fround(Math.fround(Math.fround(small[i * SMALL + j] - small[(i + 1) * SMALL + j]) * 100) / 255);
      total += Math.abs(Math.trunc(d));
    }
  }
  for (let i = 0; i < SMALL; i++) {
    for (let j = 0; j < SMALL - 1; j++) {
      const d = Math.fround(Math.fround(Math.fround(small[i * SMALL + j] - small[i * SMALL + j + 1]) * 100) / 255);
      total += Math.abs(Math.trunc(d));
    }
  }
  return Math.min(Math.floor(total / 90), 100);
}

function dct64to16(small) {
  const d = dctTable();
  const t = new Float32Array(16 * SMALL); // T = D A
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < SMALL; j++) {
      let s = 0;
      for (let k = 0; k < SMALL; k++) s = Math.fround(s + Math.fround(d[i * SMALL + k] * small[k * SMALL + j]));
      t[i * SMALL + j] = s;
    }
  }
  const out = new Float32Array(256); // B = T D^T
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 16; j++) {
      let s = 0;
      for (let k = 0; k < SMALL; k++) s = Math.fround(s + Math.fround(t[i * SMALL + k] * d[j * SMALL + k]));
      out[i * 16 + j] = s;
    }
  }
  return out;
}

function hexFromDct(dct) {
  const sorted = Float32Array.from(dct).sort();
  const median = sorted[127]; // Torben's median: rank (n + 1) / 2 = 128 of 256
  const bytes = new Uint8Array(32);
  for (let k = 0; k < 256; k++) {
    if (dct[k] > median) bytes[31 - (k >> 3)] |= 1 << (k & 7);
  }
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/** Hamming distance between two 64-character hex hashes. */
export function hammingDistance(a, b) {
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    let x = parseInt(a[i], 16) ^ parseInt(b[i], 16);
    while (x) {
      d += x & 1;
      x >>= 1;
    }
  }
  return d;
}
