// MD5 (RFC 1321), incremental, for hashing large files slice by slice without holding them
// in memory. Written for speed in a JavaScript engine: 32-bit integer arithmetic, the 64 steps
// unrolled, whole 64-byte blocks read straight from a little-endian Int32Array view.

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

// Process `blocks` 64-byte blocks of the Int32Array `w` starting at word `off`. The 64 steps
// are written out (generated from RFC 1321's tables) so that the engine keeps everything in
// registers.
function compress(state, w, off, blocks) {
  let a0 = state[0];
  let b0 = state[1];
  let c0 = state[2];
  let d0 = state[3];
  let n = 0;
  for (let blk = 0; blk < blocks; blk++, off += 16) {
    const x0 = w[off], x1 = w[off + 1], x2 = w[off + 2], x3 = w[off + 3];
    const x4 = w[off + 4], x5 = w[off + 5], x6 = w[off + 6], x7 = w[off + 7];
    const x8 = w[off + 8], x9 = w[off + 9], x10 = w[off + 10], x11 = w[off + 11];
    const x12 = w[off + 12], x13 = w[off + 13], x14 = w[off + 14], x15 = w[off + 15];
    let a = a0, b = b0, c = c0, d = d0;
    n = (a + ((b & c) | (~b & d)) + x0 + -680876936) | 0; a = (((n << 7) | (n >>> 25)) + b) | 0;
    n = (d + ((a & b) | (~a & c)) + x1 + -389564586) | 0; d = (((n << 12) | (n >>> 20)) + a) | 0;
    n = (c + ((d & a) | (~d & b)) + x2 + 606105819) | 0; c = (((n << 17) | (n >>> 15)) + d) | 0;
    n = (b + ((c & d) | (~c & a)) + x3 + -1044525330) | 0; b = (((n << 22) | (n >>> 10)) + c) | 0;
    n = (a + ((b & c) | (~b & d)) + x4 + -176418897) | 0; a = (((n << 7) | (n >>> 25)) + b) | 0;
    n = (d + ((a & b) | (~a & c)) + x5 + 1200080426) | 0; d = (((n << 12) | (n >>> 20)) + a) | 0;
    n = (c + ((d & a) | (~d & b)) + x6 + -1473231341) | 0; c = (((n << 17) | (n >>> 15)) + d) | 0;
    n = (b + ((c & d) | (~c & a)) + x7 + -45705983) | 0; b = (((n << 22) | (n >>> 10)) + c) | 0;
    n = (a + ((b & c) | (~b & d)) + x8 + 1770035416) | 0; a = (((n << 7) | (n >>> 25)) + b) | 0;
    n = (d + ((a & b) | (~a & c)) + x9 + -1958414417) | 0; d = (((n << 12) | (n >>> 20)) + a) | 0;
    n = (c + ((d & a) | (~d & b)) + x10 + -42063) | 0; c = (((n << 17) | (n >>> 15)) + d) | 0;
    n = (b + ((c & d) | (~c & a)) + x11 + -1990404162) | 0; b = (((n << 22) | (n >>> 10)) + c) | 0;
    n = (a + ((b & c) | (~b & d)) + x12 + 1804603682) | 0; a = (((n << 7) | (n >>> 25)) + b) | 0;
    n = (d + ((a & b) | (~a & c)) + x13 + -40341101) | 0; d = (((n << 12) | (n >>> 20)) + a) | 0;
    n = (c + ((d & a) | (~d & b)) + x14 + -1502002290) | 0; c = (((n << 17) | (n >>> 15)) + d) | 0;
    n = (b + ((c & d) | (~c & a)) + x15 + 1236535329) | 0; b = (((n << 22) | (n >>> 10)) + c) | 0;
    n = (a + ((b & d) | (c & ~d)) + x1 + -165796510) | 0; a = (((n << 5) | (n >>> 27)) + b) | 0;
    n = (d + ((a & c) | (b & ~c)) + x6 + -1069501632) | 0; d = (((n << 9) | (n >>> 23)) + a) | 0;
    n = (c + ((d & b) | (a & ~b)) + x11 + 643717713) | 0; c = (((n << 14) | (n >>> 18)) + d) | 0;
    n = (b + ((c & a) | (d & ~a)) + x0 + -373897302) | 0; b = (((n << 20) | (n >>> 12)) + c) | 0;
    n = (a + ((b & d) | (c & ~d)) + x5 + -701558691) | 0; a = (((n << 5) | (n >>> 27)) + b) | 0;
    n = (d + ((a & c) | (b & ~c)) + x10 + 38016083) | 0; d = (((n << 9) | (n >>> 23)) + a) | 0;
    n = (c + ((d & b) | (a & ~b)) + x15 + -660478335) | 0; c = (((n << 14) | (n >>> 18)) + d) | 0;
    n = (b + ((c & a) | (d & ~a)) + x4 + -405537848) | 0; b = (((n << 20) | (n >>> 12)) + c) | 0;
    n = (a + ((b & d) | (c & ~d)) + x9 + 568446438) | 0; a = (((n << 5) | (n >>> 27)) + b) | 0;
    n = (d + ((a & c) | (b & ~c)) + x14 + -1019803690) | 0; d = (((n << 9) | (n >>> 23)) + a) | 0;
    n = (c + ((d & b) | (a & ~b)) + x3 + -187363961) | 0; c = (((n << 14) | (n >>> 18)) + d) | 0;
    n = (b + ((c & a) | (d & ~a)) + x8 + 1163531501) | 0; b = (((n << 20) | (n >>> 12)) + c) | 0;
    n = (a + ((b & d) | (c & ~d)) + x13 + -1444681467) | 0; a = (((n << 5) | (n >>> 27)) + b) | 0;
    n = (d + ((a & c) | (b & ~c)) + x2 + -51403784) | 0; d = (((n << 9) | (n >>> 23)) + a) | 0;
    n = (c + ((d & b) | (a & ~b)) + x7 + 1735328473) | 0; c = (((n << 14) | (n >>> 18)) + d) | 0;
    n = (b + ((c & a) | (d & ~a)) + x12 + -1926607734) | 0; b = (((n << 20) | (n >>> 12)) + c) | 0;
    n = (a + (b ^ c ^ d) + x5 + -378558) | 0; a = (((n << 4) | (n >>> 28)) + b) | 0;
    n = (d + (a ^ b ^ c) + x8 + -2022574463) | 0; d = (((n << 11) | (n >>> 21)) + a) | 0;
    n = (c + (d ^ a ^ b) + x11 + 1839030562) | 0; c = (((n << 16) | (n >>> 16)) + d) | 0;
    n = (b + (c ^ d ^ a) + x14 + -35309556) | 0; b = (((n << 23) | (n >>> 9)) + c) | 0;
    n = (a + (b ^ c ^ d) + x1 + -1530992060) | 0; a = (((n << 4) | (n >>> 28)) + b) | 0;
    n = (d + (a ^ b ^ c) + x4 + 1272893353) | 0; d = (((n << 11) | (n >>> 21)) + a) | 0;
    n = (c + (d ^ a ^ b) + x7 + -155497632) | 0; c = (((n << 16) | (n >>> 16)) + d) | 0;
    n = (b + (c ^ d ^ a) + x10 + -1094730640) | 0; b = (((n << 23) | (n >>> 9)) + c) | 0;
    n = (a + (b ^ c ^ d) + x13 + 681279174) | 0; a = (((n << 4) | (n >>> 28)) + b) | 0;
    n = (d + (a ^ b ^ c) + x0 + -358537222) | 0; d = (((n << 11) | (n >>> 21)) + a) | 0;
    n = (c + (d ^ a ^ b) + x3 + -722521979) | 0; c = (((n << 16) | (n >>> 16)) + d) | 0;
    n = (b + (c ^ d ^ a) + x6 + 76029189) | 0; b = (((n << 23) | (n >>> 9)) + c) | 0;
    n = (a + (b ^ c ^ d) + x9 + -640364487) | 0; a = (((n << 4) | (n >>> 28)) + b) | 0;
    n = (d + (a ^ b ^ c) + x12 + -421815835) | 0; d = (((n << 11) | (n >>> 21)) + a) | 0;
    n = (c + (d ^ a ^ b) + x15 + 530742520) | 0; c = (((n << 16) | (n >>> 16)) + d) | 0;
    n = (b + (c ^ d ^ a) + x2 + -995338651) | 0; b = (((n << 23) | (n >>> 9)) + c) | 0;
    n = (a + (c ^ (b | ~d)) + x0 + -198630844) | 0; a = (((n << 6) | (n >>> 26)) + b) | 0;
    n = (d + (b ^ (a | ~c)) + x7 + 1126891415) | 0; d = (((n << 10) | (n >>> 22)) + a) | 0;
    n = (c + (a ^ (d | ~b)) + x14 + -1416354905) | 0; c = (((n << 15) | (n >>> 17)) + d) | 0;
    n = (b + (d ^ (c | ~a)) + x5 + -57434055) | 0; b = (((n << 21) | (n >>> 11)) + c) | 0;
    n = (a + (c ^ (b | ~d)) + x12 + 1700485571) | 0; a = (((n << 6) | (n >>> 26)) + b) | 0;
    n = (d + (b ^ (a | ~c)) + x3 + -1894986606) | 0; d = (((n << 10) | (n >>> 22)) + a) | 0;
    n = (c + (a ^ (d | ~b)) + x10 + -1051523) | 0; c = (((n << 15) | (n >>> 17)) + d) | 0;
    n = (b + (d ^ (c | ~a)) + x1 + -2054922799) | 0; b = (((n << 21) | (n >>> 11)) + c) | 0;
    n = (a + (c ^ (b | ~d)) + x8 + 1873313359) | 0; a = (((n << 6) | (n >>> 26)) + b) | 0;
    n = (d + (b ^ (a | ~c)) + x15 + -30611744) | 0; d = (((n << 10) | (n >>> 22)) + a) | 0;
    n = (c + (a ^ (d | ~b)) + x6 + -1560198380) | 0; c = (((n << 15) | (n >>> 17)) + d) | 0;
    n = (b + (d ^ (c | ~a)) + x13 + 1309151649) | 0; b = (((n << 21) | (n >>> 11)) + c) | 0;
    n = (a + (c ^ (b | ~d)) + x4 + -145523070) | 0; a = (((n << 6) | (n >>> 26)) + b) | 0;
    n = (d + (b ^ (a | ~c)) + x11 + -1120210379) | 0; d = (((n << 10) | (n >>> 22)) + a) | 0;
    n = (c + (a ^ (d | ~b)) + x2 + 718787259) | 0; c = (((n << 15) | (n >>> 17)) + d) | 0;
    n = (b + (d ^ (c | ~a)) + x9 + -343485551) | 0; b = (((n << 21) | (n >>> 11)) + c) | 0;

    a0 = (a0 + a) | 0;
    b0 = (b0 + b) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  }
  state[0] = a0;
  state[1] = b0;
  state[2] = c0;
  state[3] = d0;
}

function swapWords(w, from, to) {
  for (let i = from; i < to; i++) {
    const v = w[i];
    w[i] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
  }
}

/** Incremental MD5: update(bytes) any number of times, then hex(). */
export class MD5 {
  constructor() {
    this.state = new Int32Array([1732584193, -271733879, -1732584194, 271733878]);
    this.tail = new Uint8Array(64); // bytes waiting for a full block
    this.tailWords = new Int32Array(this.tail.buffer);
    this.tailLength = 0;
    this.length = 0; // total bytes, as a double (exact up to 2^53)
  }

  /** Add bytes (a Uint8Array). */
  update(bytes) {
    let pos = 0;
    const n = bytes.length;
    this.length += n;
    if (this.tailLength > 0) {
      const take = Math.min(64 - this.tailLength, n);
      this.tail.set(bytes.subarray(0, take), this.tailLength);
      this.tailLength += take;
      pos = take;
      if (this.tailLength < 64) return this;
      this.block(this.tailWords, 0, 1);
      this.tailLength = 0;
    }
    const blocks = Math.floor((n - pos) / 64);
    if (blocks > 0) {
      const start = bytes.byteOffset + pos;
      if (start % 4 === 0 && LITTLE_ENDIAN) {
        compress(this.state, new Int32Array(bytes.buffer, start, blocks * 16), 0, blocks);
      } else {
        // Unaligned (or big-endian): copy in pieces of at most 1 MB.
        for (let done = 0; done < blocks; ) {
          const count = Math.min(blocks - done, 16384);
          const copy = bytes.slice(pos + done * 64, pos + (done + count) * 64);
          this.block(new Int32Array(copy.buffer), 0, count);
          done += count;
        }
      }
      pos += blocks * 64;
    }
    if (pos < n) {
      this.tail.set(bytes.subarray(pos), 0);
      this.tailLength = n - pos;
    }
    return this;
  }

  block(words, off, count) {
    if (!LITTLE_ENDIAN) swapWords(words, off, off + count * 16);
    compress(this.state, words, off, count);
  }

  /** Finish and return 32 lowercase hex characters. The object must not be updated after. */
  hex() {
    const bitLength = this.length * 8;
    const pad = new Uint8Array(this.tailLength < 56 ? 64 : 128);
    pad.set(this.tail.subarray(0, this.tailLength));
    pad[this.tailLength] = 0x80;
    const view = new DataView(pad.buffer);
    view.setUint32(pad.length - 8, bitLength % 0x100000000, true);
    view.setUint32(pad.length - 4, Math.floor(bitLength / 0x100000000), true);
    this.block(new Int32Array(pad.buffer), 0, pad.length / 64);
    const out = new DataView(this.state.buffer);
    let hex = "";
    for (let i = 0; i < 16; i++) hex += out.getUint8(i).toString(16).padStart(2, "0");
    return hex;
  }
}

/** MD5 of a Blob/File, read in slices of `chunkSize` bytes; onProgress(doneBytes, total).
 * The next slice is already being read while the current one is hashed. */
export async function md5Blob(blob, onProgress = null, chunkSize = 8 << 20) {
  const md5 = new MD5();
  const read = (offset) =>
    offset < blob.size ? blob.slice(offset, offset + chunkSize).arrayBuffer() : null;
  let pending = read(0);
  for (let offset = 0; offset < blob.size; offset += chunkSize) {
    const buffer = await pending;
    pending = read(offset + chunkSize);
    md5.update(new Uint8Array(buffer));
    if (onProgress) onProgress(Math.min(offset + chunkSize, blob.size), blob.size);
  }
  return md5.hex();
}
