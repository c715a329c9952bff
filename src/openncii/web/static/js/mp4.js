// Just enough of an MP4/MOV (ISO BMFF) demuxer to feed the first video track to WebCodecs:
// the sample table (offsets, sizes, times, key frames) and the decoder configuration. Only the
// moov box and the needed samples are read, slice by slice: the file is never loaded whole.

const MAX_MOOV_BYTES = 64 << 20;
const READ_WINDOW = 4 << 20;

class Reader {
  constructor(blob) {
    this.blob = blob;
    this.start = 0;
    this.bytes = new Uint8Array(0);
  }

  async read(offset, length) {
    if (offset < this.start || offset + length > this.start + this.bytes.length) {
      const end = Math.min(this.blob.size, offset + Math.max(length, READ_WINDOW));
      this.bytes = new Uint8Array(await this.blob.slice(offset, end).arrayBuffer());
      this.start = offset;
      if (this.bytes.length < length) throw new Error("truncated");
    }
    return this.bytes.subarray(offset - this.start, offset - this.start + length);
  }
}

function type4(bytes, at) {
  return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
}

// Children of a box whose payload is bytes[start, end): [{type, start, end}] (payload ranges).
function children(bytes, start, end) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = [];
  let pos = start;
  while (pos + 8 <= end) {
    let size = view.getUint32(pos);
    const type = type4(bytes, pos + 4);
    let header = 8;
    if (size === 1) {
      size = Number(view.getBigUint64(pos + 8));
      header = 16;
    } else if (size === 0) {
      size = end - pos;
    }
    if (size < header || pos + size > end) break;
    out.push({ type, start: pos + header, end: pos + size });
    pos += size;
  }
  return out;
}

function child(bytes, box, type) {
  return children(bytes, box.start, box.end).find((c) => c.type === type) || null;
}

async function findMoov(blob) {
  let pos = 0;
  while (pos + 8 <= blob.size) {
    const head = new Uint8Array(await blob.slice(pos, pos + 16).arrayBuffer());
    const view = new DataView(head.buffer);
    let size = view.getUint32(0);
    const type = type4(head, 4);
    let header = 8;
    if (size === 1) {
      size = Number(view.getBigUint64(8));
      header = 16;
    } else if (size === 0) {
      size = blob.size - pos;
    }
    if (size < header) return null;
    if (type === "moov") {
      if (size > MAX_MOOV_BYTES) return null;
      const bytes = new Uint8Array(await blob.slice(pos, pos + size).arrayBuffer());
      return { bytes, box: { type, start: header, end: size } };
    }
    pos += size;
  }
  return null;
}

function hex2(n) {
  return n.toString(16).padStart(2, "0");
}

function codecConfig(bytes, stsd) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries = children(bytes, stsd.start + 8, stsd.end);
  if (entries.length === 0) return null;
  const entry = entries[0];
  const width = view.getUint16(entry.start + 24);
  const height = view.getUint16(entry.start + 26);
  const boxes = children(bytes, entry.start + 78, entry.end);
  const find = (t) => boxes.find((b) => b.type === t);
  if (entry.type === "avc1" || entry.type === "avc3") {
    const avcC = find("avcC");
    if (!avcC) return null;
    const p = avcC.start;
    return {
      codec: `avc1.${hex2(bytes[p + 1])}${hex2(bytes[p + 2])}${hex2(bytes[p + 3])}`,
      codedWidth: width,
      codedHeight: height,
      description: bytes.slice(avcC.start, avcC.end),
    };
  }
  if (entry.type === "vp09") {
    const vpcC = find("vpcC");
    if (!vpcC) return null;
    const p = vpcC.start + 4;
    const depth = bytes[p + 2] >> 4;
    return {
      codec: `vp09.${hex2(bytes[p]).padStart(2, "0")}.${String(bytes[p + 1]).padStart(2, "0")}.${String(depth).padStart(2, "0")}`,
      codedWidth: width,
      codedHeight: height,
    };
  }
  if (entry.type === "av01") {
    const av1C = find("av1C");
    if (!av1C) return null;
    const p = av1C.start;
    const profile = bytes[p + 1] >> 5;
    const level = bytes[p + 1] & 0x1f;
    const tier = bytes[p + 2] >> 7 ? "H" : "M";
    const high = (bytes[p + 2] >> 6) & 1;
    const twelve = (bytes[p + 2] >> 5) & 1;
    const depth = high ? (twelve ? 12 : 10) : 8;
    return {
      codec: `av01.${profile}.${String(level).padStart(2, "0")}${tier}.${String(depth).padStart(2, "0")}`,
      codedWidth: width,
      codedHeight: height,
      description: bytes.slice(av1C.start, av1C.end),
    };
  }
  return null;
}

function sampleTable(bytes, stbl) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const box = (t) => child(bytes, stbl, t);
  const stsz = box("stsz");
  const stsc = box("stsc");
  const stco = box("stco") || box("co64");
  const stts = box("stts");
  if (!stsz || !stsc || !stco || !stts) return null;
  const count = view.getUint32(stsz.start + 8);
  const fixed = view.getUint32(stsz.start + 4);
  const sizes = new Array(count);
  for (let i = 0; i < count; i++) sizes[i] = fixed || view.getUint32(stsz.start + 12 + 4 * i);
  const chunkCount = view.getUint32(stco.start + 4);
  const chunkOffsets = new Array(chunkCount);
  for (let i = 0; i < chunkCount; i++) {
    chunkOffsets[i] =
      stco.type === "co64"
        ? Number(view.getBigUint64(stco.start + 8 + 8 * i))
        : view.getUint32(stco.start + 8 + 4 * i);
  }
  const offsets = new Array(count);
  const stscCount = view.getUint32(stsc.start + 4);
  let sample = 0;
  for (let e = 0; e < stscCount; e++) {
    const first = view.getUint32(stsc.start + 8 + 12 * e) - 1;
    const perChunk = view.getUint32(stsc.start + 12 + 12 * e);
    const last = e + 1 < stscCount ? view.getUint32(stsc.start + 8 + 12 * (e + 1)) - 1 : chunkCount;
    for (let c = first; c < last && sample < count; c++) {
      let offset = chunkOffsets[c];
      for (let k = 0; k < perChunk && sample < count; k++) {
        offsets[sample] = offset;
        offset += sizes[sample];
        sample++;
      }
    }
  }
  const dts = new Array(count);
  const durations = new Array(count);
  let t = 0;
  sample = 0;
  const sttsCount = view.getUint32(stts.start + 4);
  for (let e = 0; e < sttsCount; e++) {
    const n = view.getUint32(stts.start + 8 + 8 * e);
    const delta = view.getUint32(stts.start + 12 + 8 * e);
    for (let k = 0; k < n && sample < count; k++, sample++) {
      dts[sample] = t;
      durations[sample] = delta;
      t += delta;
    }
  }
  const pts = dts.slice();
  const ctts = box("ctts");
  if (ctts) {
    const signed = bytes[ctts.start] === 1;
    const n = view.getUint32(ctts.start + 4);
    sample = 0;
    for (let e = 0; e < n; e++) {
      const run = view.getUint32(ctts.start + 8 + 8 * e);
      const off = signed
        ? view.getInt32(ctts.start + 12 + 8 * e)
        : view.getUint32(ctts.start + 12 + 8 * e);
      for (let k = 0; k < run && sample < count; k++, sample++) pts[sample] += off;
    }
  }
  const sync = new Array(count).fill(true);
  const stss = box("stss");
  if (stss) {
    sync.fill(false);
    const n = view.getUint32(stss.start + 4);
    for (let e = 0; e < n; e++) sync[view.getUint32(stss.start + 8 + 4 * e) - 1] = true;
  }
  return { count, sizes, offsets, dts, pts, durations, sync };
}

/** Parse the first video track: {config, timescale, samples, reader} or null. */
export async function openMp4(blob) {
  const moov = await findMoov(blob);
  if (!moov) return null;
  const { bytes } = moov;
  for (const trak of children(bytes, moov.box.start, moov.box.end)) {
    if (trak.type !== "trak") continue;
    const mdia = child(bytes, trak, "mdia");
    const hdlr = mdia && child(bytes, mdia, "hdlr");
    if (!hdlr || type4(bytes, hdlr.start + 8) !== "vide") continue;
    const mdhd = child(bytes, mdia, "mdhd");
    const view = new DataView(bytes.buffer);
    const timescale = view.getUint32(mdhd.start + (bytes[mdhd.start] === 1 ? 20 : 12));
    const minf = child(bytes, mdia, "minf");
    const stbl = minf && child(bytes, minf, "stbl");
    const stsd = stbl && child(bytes, stbl, "stsd");
    if (!stsd) return null;
    const config = codecConfig(bytes, stsd);
    const samples = sampleTable(bytes, stbl);
    if (!config || !samples || samples.count === 0 || !timescale) return null;
    return { config, timescale, samples, reader: new Reader(blob) };
  }
  return null;
}
