// Proof of work for a busy shared address (see openncii/cases/proof.py): find a nonce such that
// md5(challenge + ":" + nonce) starts with `bits` zero bits, where bits is the challenge's third
// dot-separated field. Runs in a worker so the page stays responsive; 2**bits MD5s on average,
// each on one preallocated padded buffer (no allocation per try).
// Message in: {challenge}; out: {nonce} or {error}.

import { md5LeadingZeroBits } from "./md5.js";

export function solve(challenge) {
  const bits = Number(challenge.split(".")[2]);
  if (!Number.isInteger(bits) || bits < 1 || bits > 32) throw new Error("bad challenge");
  const prefix = new TextEncoder().encode(`${challenge}:`);
  const bytes = new Uint8Array(Math.ceil((prefix.length + 16 + 9) / 64) * 64);
  const words = new Int32Array(bytes.buffer);
  const view = new DataView(bytes.buffer);
  const state = new Int32Array(4);
  bytes.set(prefix);
  for (let nonce = 0; ; nonce++) {
    const digits = String(nonce);
    let end = prefix.length;
    for (let i = 0; i < digits.length; i++) bytes[end++] = digits.charCodeAt(i);
    const length = end;
    const blocks = Math.ceil((length + 9) / 64);
    bytes[end++] = 0x80;
    bytes.fill(0, end, blocks * 64 - 8);
    view.setUint32(blocks * 64 - 8, length * 8, true);
    view.setUint32(blocks * 64 - 4, 0, true);
    if (md5LeadingZeroBits(words, blocks, state) >= bits) return digits;
  }
}

if (typeof window === "undefined" && typeof self !== "undefined") {
  self.onmessage = (event) => {
    try {
      self.postMessage({ nonce: solve(event.data.challenge) });
    } catch (error) {
      self.postMessage({ error: String(error) });
    }
  };
}
