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

/** Float32 luma of RGBA pixels (alpha ignored); into `out` when given (at least width x height
 * elements). */
export function lumaFromRGBA(rgba, width, height, out = null) {
  const n = width * height;
  const luma = out || new Float32Array(n);
  for (let p = 0, q = 0; p < n; p++, q += 4) {
    const rg = Math.fround(TABLE_R[rgba[q]] + TABLE_G[rgba[q + 1]]);
    luma[p] = rg + TABLE_B[rgba[q + 2]]; // the Float32Array store rounds to float32
  }
  return luma;
}

function windowSize(dim) {
  return Math.floor((dim + 2 * SMALL - 1) / (2 * SMALL));
}

// The box filter is a running sum kept in float32: per output, add the sample entering the
// window and (once the window is full) subtract the one leaving it, then divide by the current
// window size (centred, shrinking at the edges). Each row (or column) is one such sequence.
//
// Working arrays are kept between calls and grown when a bigger picture comes (the hashing
// worker hashes one picture at a time, synchronously), so that the ~8 hashes of a photo's
// enrolment allocate nothing per hash.

const buffers = new Map();

/** A float32 scratch array of at least `size` elements, kept under `name` between calls (for
 * synchronous work only: the next call with that name may overwrite it). */
export function scratch(name, size) {
  let buffer = buffers.get(name);
  if (!buffer || buffer.length < size) {
    buffer = new Float32Array(size);
    buffers.set(name, buffer);
  }
  return buffer;
}

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

// The running sum is a chain of dependent float32 additions, so one line at a time runs at
// the latency of that chain; four lines side by side (rows `stride` apart in src and `dstStride`
// apart in dst) keep the processor busy. Same operations, same order, per line.
//
// Here and in the column pass, total / n is computed as total * (1 / n) (in double, then
// rounded to float32 by the store): the same float32. The double product is within 2^-52
// (relative) of the true quotient, while a float32 total over a small integer n is either a
// float32 or at least 2^-25 / n (relative) away from the midpoint between two float32s, so both
// round to the same float32. (Not so for subnormal quotients: totals of luma are 0 or far above.)
function boxLines4(src, from, stride, dst, to, dstStride, length, window) {
  const half = (window + 2) >> 1;
  const s2 = 2 * stride;
  const s3 = 3 * stride;
  const d2 = 2 * dstStride;
  const d3 = 3 * dstStride;
  let t0 = 0;
  let t1 = 0;
  let t2 = 0;
  let t3 = 0;
  let n = 0;
  let inv = 0;
  let read = from;
  let left = from;
  let write = to;
  for (let i = 0; i < half - 1; i++, read++) {
    t0 = Math.fround(t0 + src[read]);
    t1 = Math.fround(t1 + src[read + stride]);
    t2 = Math.fround(t2 + src[read + s2]);
    t3 = Math.fround(t3 + src[read + s3]);
    n++;
  }
  for (let i = 0; i < window - half + 1; i++, read++, write++) {
    t0 = Math.fround(t0 + src[read]);
    t1 = Math.fround(t1 + src[read + stride]);
    t2 = Math.fround(t2 + src[read + s2]);
    t3 = Math.fround(t3 + src[read + s3]);
    n++;
    inv = 1 / n;
    dst[write] = t0 * inv;
    dst[write + dstStride] = t1 * inv;
    dst[write + d2] = t2 * inv;
    dst[write + d3] = t3 * inv;
  }
  for (let i = 0; i < length - window; i++, read++, left++, write++) {
    t0 = Math.fround(Math.fround(t0 + src[read]) - src[left]);
    t1 = Math.fround(Math.fround(t1 + src[read + stride]) - src[left + stride]);
    t2 = Math.fround(Math.fround(t2 + src[read + s2]) - src[left + s2]);
    t3 = Math.fround(Math.fround(t3 + src[read + s3]) - src[left + s3]);
    dst[write] = t0 * inv;
    dst[write + dstStride] = t1 * inv;
    dst[write + d2] = t2 * inv;
    dst[write + d3] = t3 * inv;
  }
  for (let i = 0; i < half - 1; i++, left++, write++) {
    t0 = Math.fround(t0 - src[left]);
    t1 = Math.fround(t1 - src[left + stride]);
    t2 = Math.fround(t2 - src[left + s2]);
    t3 = Math.fround(t3 - src[left + s3]);
    n--;
    inv = 1 / n;
    dst[write] = t0 * inv;
    dst[write + dstStride] = t1 * inv;
    dst[write + d2] = t2 * inv;
    dst[write + d3] = t3 * inv;
  }
}

// boxLine over `count` lines (rows `stride` apart in src, `dstStride` apart in dst), four at a
// time.
function boxLines(src, from, stride, dst, to, dstStride, count, length, window) {
  let k = 0;
  for (; k + 4 <= count; k += 4) {
    boxLines4(src, from + k * stride, stride, dst, to + k * dstStride, dstStride, length, window);
  }
  for (; k < count; k++) boxLine(src, from + k * stride, dst, to + k * dstStride, length, window);
}

// The running totals (no divisions) of four lines side by side, `length` apart in src and dst:
// dst[j] is the window's total at output j (its count is windowCount(j, ...)); for lines of
// which only a few outputs are used.
function lineTotals4(src, dst, length, window) {
  const half = (window + 2) >> 1;
  const s2 = 2 * length;
  const s3 = 3 * length;
  let t0 = 0;
  let t1 = 0;
  let t2 = 0;
  let t3 = 0;
  let read = 0;
  let left = 0;
  let write = 0;
  for (let i = 0; i < half - 1; i++, read++) {
    t0 = Math.fround(t0 + src[read]);
    t1 = Math.fround(t1 + src[read + length]);
    t2 = Math.fround(t2 + src[read + s2]);
    t3 = Math.fround(t3 + src[read + s3]);
  }
  for (let i = 0; i < window - half + 1; i++, read++, write++) {
    t0 = Math.fround(t0 + src[read]);
    t1 = Math.fround(t1 + src[read + length]);
    t2 = Math.fround(t2 + src[read + s2]);
    t3 = Math.fround(t3 + src[read + s3]);
    dst[write] = t0;
    dst[write + length] = t1;
    dst[write + s2] = t2;
    dst[write + s3] = t3;
  }
  for (let i = 0; i < length - window; i++, read++, left++, write++) {
    t0 = Math.fround(Math.fround(t0 + src[read]) - src[left]);
    t1 = Math.fround(Math.fround(t1 + src[read + length]) - src[left + length]);
    t2 = Math.fround(Math.fround(t2 + src[read + s2]) - src[left + s2]);
    t3 = Math.fround(Math.fround(t3 + src[read + s3]) - src[left + s3]);
    dst[write] = t0;
    dst[write + length] = t1;
    dst[write + s2] = t2;
    dst[write + s3] = t3;
  }
  for (let i = 0; i < half - 1; i++, left++, write++) {
    t0 = Math.fround(t0 - src[left]);
    t1 = Math.fround(t1 - src[left + length]);
    t2 = Math.fround(t2 - src[left + s2]);
    t3 = Math.fround(t3 - src[left + s3]);
    dst[write] = t0;
    dst[write + length] = t1;
    dst[write + s2] = t2;
    dst[write + s3] = t3;
  }
}

// The same running sums along a line, without the divisions: dst[j] is the window's total at
// output j (its count is windowCount(j, ...)); for lines of which only a few outputs are used.
function lineTotals(src, dst, length, window) {
  const half = (window + 2) >> 1;
  let total = 0;
  let read = 0;
  let left = 0;
  let write = 0;
  for (let i = 0; i < half - 1; i++) total = Math.fround(total + src[read++]);
  for (let i = 0; i < window - half + 1; i++) {
    total = Math.fround(total + src[read++]);
    dst[write++] = total;
  }
  for (let i = 0; i < length - window; i++) {
    total = Math.fround(Math.fround(total + src[read++]) - src[left++]);
    dst[write++] = total;
  }
  for (let i = 0; i < half - 1; i++) {
    total = Math.fround(total - src[left++]);
    dst[write++] = total;
  }
}

// How many samples the window of output j of a line of `length` holds.
function windowCount(j, length, window) {
  const half = (window + 2) >> 1;
  return Math.min(length, j + half) - Math.max(0, j + half - window);
}

/** The first pass of the filter, along rows, of the box [top, bottom) x [left, right) of a
 * float32 luma image `stride` pixels wide: (right - left) x (bottom - top) values. `out` (at
 * least that many) is filled and returned; without it, a scratch array is. */
export function rowPass(luma, stride, top, bottom, left, right, out = null) {
  const width = right - left;
  const height = bottom - top;
  const a = out || scratch("rows", width * height);
  boxLines(luma, top * stride + left, stride, a, 0, width, height, width, windowSize(width));
  return a;
}

// The first pass straight from RGBA pixels: the luma of four rows, then their running sums.
function boxRowsFromRGBA(rgba, width, height, window) {
  const out = scratch("rows", width * height);
  const lines = scratch("luma", 4 * width);
  for (let y = 0, q = 0; y < height; y += 4) {
    const count = Math.min(4, height - y);
    for (let x = 0; x < count * width; x++, q += 4) {
      const rg = Math.fround(TABLE_R[rgba[q]] + TABLE_G[rgba[q + 1]]);
      lines[x] = rg + TABLE_B[rgba[q + 2]]; // the store rounds to float32
    }
    boxLines(lines, 0, width, out, y * width, width, count, width, window);
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
  return pdqFromLumaBox(luma, width, 0, height, 0, width);
}

/** Hash the box [top, bottom) x [left, right) of a float32 luma image `stride` pixels wide,
 * as pdqFromLuma of that box copied out. Returns {hex, quality}. */
export function pdqFromLumaBox(luma, stride, top, bottom, left, right) {
  const width = right - left;
  const height = bottom - top;
  if (width < MIN_DIM || height < MIN_DIM) return { hex: "0".repeat(64), quality: 0 };
  return pdqFromRowPass(rowPass(luma, stride, top, bottom, left, right), width, height);
}

/** Hash RGBA pixels (e.g. ImageData.data; alpha is ignored). Returns {hex, quality}. */
export function pdqFromRGBA(rgba, width, height) {
  if (width < MIN_DIM || height < MIN_DIM) return { hex: "0".repeat(64), quality: 0 };
  return pdqFromRowPass(boxRowsFromRGBA(rgba, width, height, windowSize(width)), width, height);
}

/** The hash of a width x height picture from the first pass of its filter (rowPass; rows of
 * `width` values, `a` may be a view into a taller picture's first pass with the same columns).
 * Returns {hex, quality}. */
export function pdqFromRowPass(a, width, height) {
  if (width < MIN_DIM || height < MIN_DIM) return { hex: "0".repeat(64), quality: 0 };
  return fromFirstPass(a, width, height);
}

// One output row of the first column pass into dst[to ..): the running totals of every column
// take in the row at `entering` and take out the row at `leaving` (offsets into a, -1 for none),
// then are divided by n.
function columnStep(a, total, dst, to, width, entering, leaving, inv) {
  if (leaving < 0) {
    for (let x = 0; x < width; x++) {
      const t = Math.fround(total[x] + a[entering + x]);
      total[x] = t;
      dst[to + x] = t * inv;
    }
  } else if (entering < 0) {
    for (let x = 0; x < width; x++) {
      const t = Math.fround(total[x] - a[leaving + x]);
      total[x] = t;
      dst[to + x] = t * inv;
    }
  } else {
    for (let x = 0; x < width; x++) {
      const t = Math.fround(Math.fround(total[x] + a[entering + x]) - a[leaving + x]);
      total[x] = t;
      dst[to + x] = t * inv;
    }
  }
}

// Two consecutive output rows of the first column pass in the window's steady part (rows
// entering and leaving at `entering` and `leaving`, then one row further), into dst[to ..) and
// the row after it: as two columnStep calls, with each column's total kept in a register.
function columnStep2(a, total, dst, to, width, entering, leaving, inv) {
  const next = to + width;
  const enteringNext = entering + width;
  const leavingNext = leaving + width;
  for (let x = 0; x < width; x++) {
    const t = Math.fround(Math.fround(total[x] + a[entering + x]) - a[leaving + x]);
    dst[to + x] = t * inv;
    const u = Math.fround(Math.fround(t + a[enteringNext + x]) - a[leavingNext + x]);
    total[x] = u;
    dst[next + x] = u * inv;
  }
}

// The sampled columns of one row of the second row pass: its totals divided by their counts.
function keepSampled(sums, from, c, to, colIdx, colInv) {
  for (let k = 0; k < SMALL; k++) c[to + k] = sums[from + colIdx[k]] * colInv[k];
}

// The rest of the two passes of rows then columns, decimation, quality, DCT, bits. Only
// 64 x 64 points of the blurred image are sampled, so the second row pass keeps only the
// sampled columns (each row's running sum is still computed in full: the float32 rounding
// depends on the whole sequence, but only the 64 sampled outputs are divided), and the last
// column pass runs on those 64 columns only. The first column pass hands each finished row
// straight to the second row pass: the twice-filtered picture is never stored whole.
function fromFirstPass(a, width, height) {
  const rowWindow = windowSize(width);
  const colWindow = windowSize(height);
  const rowIdx = new Int32Array(SMALL);
  const colIdx = new Int32Array(SMALL);
  const colInv = new Float64Array(SMALL);
  for (let i = 0; i < SMALL; i++) {
    rowIdx[i] = Math.floor(((i + 0.5) * height) / SMALL);
    colIdx[i] = Math.floor(((i + 0.5) * width) / SMALL);
    colInv[i] = 1 / windowCount(colIdx[i], width, rowWindow);
  }
  const c = new Float32Array(height * SMALL); // the second row pass, at the sampled columns
  const total = scratch("total", width).fill(0, 0, width); // stores round to float32
  const lines = scratch("lines", 4 * width); // four rows of the first column pass
  const sums = scratch("sums", 4 * width); // their running totals along them
  // The first column pass, row by row: output row y adds input row y + half - 1 (while there
  // is one) and takes out row y + half - 1 - colWindow (once there is one), as boxColumns.
  const half = (colWindow + 2) >> 1;
  let n = 0;
  for (let y = 0; y < half - 1; y++, n++) {
    for (let x = 0, p = y * width; x < width; x++) total[x] += a[p + x];
  }
  // Rows go through the second row pass four at a time; the last few one by one.
  const rowDone = (y) => {
    if ((y & 3) === 3) {
      lineTotals4(lines, sums, width, rowWindow);
      for (let r = 0; r < 4; r++) keepSampled(sums, r * width, c, (y - 3 + r) * SMALL, colIdx, colInv);
    } else if (y === height - 1) {
      for (let r = 0; r <= (y & 3); r++) {
        lineTotals(lines.subarray(r * width, (r + 1) * width), sums, width, rowWindow);
        keepSampled(sums, 0, c, (y - (y & 3) + r) * SMALL, colIdx, colInv);
      }
    }
  };
  for (let y = 0; y < height; ) {
    const entering = y + half - 1 < height ? (y + half - 1) * width : -1;
    const leaving = y + half - 1 - colWindow >= 0 ? (y + half - 1 - colWindow) * width : -1;
    if ((y & 1) === 0 && leaving >= 0 && y + half < height) {
      // Two rows in the window's steady part at once (rows 4k, 4k + 1 or 4k + 2, 4k + 3).
      columnStep2(a, total, lines, (y & 3) * width, width, entering, leaving, 1 / n);
      rowDone(y);
      rowDone(y + 1);
      y += 2;
      continue;
    }
    if (entering >= 0 && leaving < 0) n++;
    if (entering < 0) n--;
    columnStep(a, total, lines, (y & 3) * width, width, entering, leaving, 1 / n);
    rowDone(y);
    y++;
  }
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

// Each sum is a chain of 64 dependent float32 steps; four sums run side by side (same terms,
// same order each).
function dct64to16(small) {
  const d = dctTable();
  const t = new Float32Array(16 * SMALL); // T = D A
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < SMALL; j += 4) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < SMALL; k++) {
        const w = d[i * SMALL + k];
        const q = k * SMALL + j;
        s0 = Math.fround(s0 + Math.fround(w * small[q]));
        s1 = Math.fround(s1 + Math.fround(w * small[q + 1]));
        s2 = Math.fround(s2 + Math.fround(w * small[q + 2]));
        s3 = Math.fround(s3 + Math.fround(w * small[q + 3]));
      }
      t[i * SMALL + j] = s0;
      t[i * SMALL + j + 1] = s1;
      t[i * SMALL + j + 2] = s2;
      t[i * SMALL + j + 3] = s3;
    }
  }
  const out = new Float32Array(256); // B = T D^T
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 16; j += 4) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < SMALL; k++) {
        const v = t[i * SMALL + k];
        s0 = Math.fround(s0 + Math.fround(v * d[j * SMALL + k]));
        s1 = Math.fround(s1 + Math.fround(v * d[(j + 1) * SMALL + k]));
        s2 = Math.fround(s2 + Math.fround(v * d[(j + 2) * SMALL + k]));
        s3 = Math.fround(s3 + Math.fround(v * d[(j + 3) * SMALL + k]));
      }
      out[i * 16 + j] = s0;
      out[i * 16 + j + 1] = s1;
      out[i * 16 + j + 2] = s2;
      out[i * 16 + j + 3] = s3;
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
