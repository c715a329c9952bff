// Read just enough of a file's first bytes to know what it is and, for common image formats,
// its pixel size and EXIF orientation (so that a 12-megapixel photo can be decoded straight
// to a small size). Nothing here decodes pixels.

const HEAD_BYTES = 64;
const JPEG_SCAN_BYTES = 1 << 20;

async function readBytes(blob, start, end) {
  return new Uint8Array(await blob.slice(start, end).arrayBuffer());
}

function ascii(bytes, start, length) {
  let s = "";
  for (let i = start; i < start + length && i < bytes.length; i++) {
    s += String.fromCharCode(bytes[i]);
  }
  return s;
}

const VIDEO_BRANDS = ["isom", "iso2", "iso4", "iso5", "iso6", "mp41", "mp42", "avc1", "qt  ",
  "M4V ", "M4VP", "3gp4", "3gp5", "3gp6", "3g2a", "dash", "mmp4", "MSNV", "f4v "];
const HEIF_BRANDS = ["heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1"];
const IMAGE_BRANDS = [...HEIF_BRANDS, "avif", "avis"];

/** "image", "video" or null (unknown), from the magic bytes, else from the MIME type. */
export async function sniffKind(file) {
  const head = await readBytes(file, 0, HEAD_BYTES);
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return "image";
  const start = ascii(head, 0, 4);
  if (start === "\x89PNG" || start === "GIF8" || ascii(head, 0, 2) === "BM") return "image";
  if (start === "RIFF") {
    const form = ascii(head, 8, 4);
    if (form === "WEBP") return "image";
    if (form === "AVI ") return "video";
  }
  if (head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) return "video";
  if (ascii(head, 4, 4) === "ftyp") {
    const brand = ascii(head, 8, 4);
    if (IMAGE_BRANDS.includes(brand)) return "image";
    if (VIDEO_BRANDS.includes(brand)) return "video";
    return "video";
  }
  const type = file.type || "";
  if (type.startsWith("image/")) return "image";
  if (type.startsWith("video/")) return "video";
  return null;
}

/** Whether the file is a HEIF still image (HEIC, as iPhones take them): its "ftyp" brand. */
export async function isHeif(file) {
  const head = await readBytes(file, 0, 16);
  return ascii(head, 4, 4) === "ftyp" && HEIF_BRANDS.includes(ascii(head, 8, 4));
}

/** {width, height, orientation} of a JPEG, PNG, GIF, WebP or BMP; null if unknown. */
export async function imageInfo(file) {
  const head = await readBytes(file, 0, 32);
  const start = ascii(head, 0, 4);
  const le = new DataView(head.buffer);
  if (start === "\x89PNG") {
    return { width: le.getUint32(16), height: le.getUint32(20), orientation: 1 };
  }
  if (start === "GIF8") {
    return { width: le.getUint16(6, true), height: le.getUint16(8, true), orientation: 1 };
  }
  if (ascii(head, 0, 2) === "BM") {
    return { width: le.getInt32(18, true), height: Math.abs(le.getInt32(22, true)), orientation: 1 };
  }
  if (start === "RIFF" && ascii(head, 8, 4) === "WEBP") {
    const chunk = ascii(head, 12, 4);
    if (chunk === "VP8X") {
      const w = 1 + (head[24] | (head[25] << 8) | (head[26] << 16));
      const h = 1 + (head[27] | (head[28] << 8) | (head[29] << 16));
      return { width: w, height: h, orientation: 1 };
    }
    if (chunk === "VP8 ") {
      return {
        width: le.getUint16(26, true) & 0x3fff,
        height: le.getUint16(28, true) & 0x3fff,
        orientation: 1,
      };
    }
    if (chunk === "VP8L") {
      const b = le.getUint32(21, true);
      return { width: (b & 0x3fff) + 1, height: ((b >>> 14) & 0x3fff) + 1, orientation: 1 };
    }
    return null;
  }
  if (head[0] === 0xff && head[1] === 0xd8) return jpegInfo(file);
  return null;
}

async function jpegInfo(file) {
  const bytes = await readBytes(file, 0, Math.min(file.size, JPEG_SCAN_BYTES));
  const view = new DataView(bytes.buffer);
  let orientation = 1;
  let pos = 2;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) return null;
    const marker = bytes[pos + 1];
    if (marker === 0xff) {
      pos += 1;
      continue;
    }
    const length = view.getUint16(pos + 2);
    const isSof =
      marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof && pos + 9 <= bytes.length) {
      return {
        format: "jpeg",
        height: view.getUint16(pos + 5),
        width: view.getUint16(pos + 7),
        orientation,
      };
    }
    if (marker === 0xe1 && ascii(bytes, pos + 4, 4) === "Exif") {
      orientation = exifOrientation(view, pos + 10, pos + 2 + length) || orientation;
    }
    if (marker === 0xda || marker === 0xd9) return null;
    pos += 2 + length;
  }
  return null;
}

function exifOrientation(view, tiff, end) {
  if (tiff + 8 > end || end > view.byteLength) return 0;
  const little = view.getUint16(tiff) === 0x4949;
  const ifd = tiff + view.getUint32(tiff + 4, little);
  if (ifd + 2 > end) return 0;
  const count = view.getUint16(ifd, little);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > end) return 0;
    if (view.getUint16(entry, little) === 0x0112) {
      const value = view.getUint16(entry + 8, little);
      return value >= 1 && value <= 8 ? value : 0;
    }
  }
  return 0;
}
