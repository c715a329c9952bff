// The hashing worker: everything that touches the person's files runs here, off the page's
// main thread. It answers with fingerprints only; pixels and bytes never leave the device.
//
// Messages in:  {type: "hash", id, file}        -> progress..., then done or failed
//               {type: "pixels", id, rgba, width, height}  -> {type: "pixels", id, pdq, quality}
//               {type: "variants", id, file}     -> {type: "variants", id, variants: [{hex, kind,
//                quality}], width, height, ms, stages}: the robust-matching enrolment of a photo
//                (variants.js) with timings, for benchmarks and tests
//               {type: "plain", id, file}        -> {type: "plain", id, pdq, quality, width,
//                height, ms}: one PDQ hash of the decoded photo (the benchmarks' yardstick)
// Messages out: {type: "progress", id, fraction}
//               {type: "done", id, kind: "image", variants: [{hex, kind, quality}], pdq (the
//                "full" variant's hex, or null), quality (the best variant's), thumb}
//               {type: "done", id, kind: "video", md5, frames: [{pdq, quality, timestamp}],
//                decoded: bool, thumb}
//               {type: "failed", id, reason: "unsupported" | "unreadable" | "heic"}
//                ("heic": a HEIC photo, and libheif could not be loaded in this browser)

import { md5Blob } from "./md5.js";
import { openMp4 } from "./mp4.js";
import { pdqFromRGBA } from "./pdq.js";
import { imageInfo, isHeif, sniffKind } from "./probe.js";
import { enrolVariants, workingBitmap } from "./variants.js";

/** Big JPEGs are decoded smaller: at 1/2, 1/4 or 1/8 scale (which the decoder does almost for
 * free) keeping the short side at least MIN_SIDE, as the Python library's working bitmap is
 * made; other formats at full size. */
const MIN_SIDE = 512;
/** Video frames whose short side is above RESIZE_ABOVE are hashed at a short side of
 * TARGET_SIDE. */
const RESIZE_ABOVE = 1024;
const TARGET_SIDE = 768;
const THUMB_SIDE = 96;
/** The largest image decoded (as the Python library): 200 megapixels. */
const MAX_PIXELS = 200_000_000;
/** Video frames hashed per second, and at most this many frames per video. */
const FRAMES_PER_SECOND = 1;
const MAX_FRAMES = 300;
/** At most one progress message per this many milliseconds while a file's MD5 is computed. */
const PROGRESS_MS = 100;

class HashError extends Error {
  constructor(reason) {
    super(reason);
    this.reason = reason;
  }
}

function post(message, transfer = []) {
  self.postMessage(message, transfer);
}

self.onmessage = async (event) => {
  const msg = event.data;
  if (msg.type === "pixels") {
    const { hex, quality } = pdqFromRGBA(msg.rgba, msg.width, msg.height);
    post({ type: "pixels", id: msg.id, pdq: hex, quality });
    return;
  }
  if (msg.type === "variants" || msg.type === "plain") {
    try {
      const answer = msg.type === "variants" ? await enrolFile(msg.file) : await plainFile(msg.file);
      post({ type: msg.type, id: msg.id, ...answer });
    } catch (err) {
      post({ type: "failed", id: msg.id, reason: err instanceof HashError ? err.reason : "unreadable" });
    }
    return;
  }
  if (msg.type !== "hash") return;
  try {
    const kind = await sniffKind(msg.file);
    if (kind === "image") await hashImage(msg.id, msg.file);
    else if (kind === "video") await hashVideo(msg.id, msg.file);
    else throw new HashError("unsupported");
  } catch (err) {
    post({ type: "failed", id: msg.id, reason: err instanceof HashError ? err.reason : "unreadable" });
  }
};

function scaledSize(width, height, side) {
  const scale = side / Math.min(width, height);
  return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
}

/** Decode an image upright, without colour conversion: an ImageBitmap, or a VideoFrame from
 * WebCodecs' ImageDecoder. A JPEG is decoded smaller (by its own decoder); other formats at
 * full size, as the Python library's working bitmap is made. */
async function decodeImage(file) {
  const options = { colorSpaceConversion: "none", imageOrientation: "from-image" };
  let info = null;
  try {
    info = await imageInfo(file);
  } catch {
    info = null;
  }
  // A file that claims more pixels than any camera makes is refused before decoding.
  if (info && info.width * info.height > MAX_PIXELS) throw new HashError("unreadable");
  if (info && info.width > 0 && info.height > 0) {
    const swap = info.orientation >= 5;
    const width = swap ? info.height : info.width;
    const height = swap ? info.width : info.height;
    if (info.format === "jpeg") {
      let scale = 1;
      while (scale < 8 && Math.min(width, height) / (scale * 2) >= MIN_SIDE) scale *= 2;
      if (scale > 1) {
        options.resizeWidth = Math.ceil(width / scale);
        options.resizeHeight = Math.ceil(height / scale);
      }
    }
    if (options.resizeWidth !== undefined) options.resizeQuality = "medium";
  }
  // A JPEG decoded to a smaller size: WebCodecs' ImageDecoder lets the JPEG decoder itself
  // scale (1/2, 1/4, 1/8 in the DCT), several times faster than a full decode then a resize.
  // Its frame carries the EXIF orientation, which drawing applies.
  if (info && info.format === "jpeg" && options.resizeWidth !== undefined && canDecodeJpeg()) {
    try {
      const decoder = new ImageDecoder({
        data: file.stream(),
        type: "image/jpeg",
        colorSpaceConversion: "none",
        desiredWidth: options.resizeWidth,
        desiredHeight: options.resizeHeight,
      });
      try {
        const { image } = await decoder.decode();
        return image;
      } finally {
        decoder.close();
      }
    } catch {
      // fall back to createImageBitmap below
    }
  }
  try {
    return await createImageBitmap(file, options);
  } catch {
    // The browser cannot decode it itself: a HEIC photo is decoded by libheif (WebAssembly).
    if (!(await isHeif(file))) throw new HashError("unreadable");
    return await createImageBitmap(await decodeHeif(file), options);
  }
}

/** libheif's WebAssembly build (npm "libheif-js", installed at set-up and served by us). */
const LIBHEIF_URL = new URL("../vendor/node_modules/libheif-js/libheif-wasm/libheif-bundle.mjs", import.meta.url);
let libheif = null;

function loadLibheif() {
  if (!libheif) {
    libheif = import(LIBHEIF_URL.href)
      .then((module) => module.default())
      .catch((err) => {
        libheif = null;
        throw err;
      });
  }
  return libheif;
}

/** The primary image of a HEIF file as ImageData (upright: libheif applies its rotations and
 * mirrors, as the Python library does through pillow-heif). */
async function decodeHeif(file) {
  let lib;
  try {
    lib = await loadLibheif();
  } catch {
    throw new HashError("heic");
  }
  const images = new lib.HeifDecoder().decode(new Uint8Array(await file.arrayBuffer()));
  try {
    const image = images.find((i) => i.is_primary()) || images[0];
    if (!image) throw new HashError("unreadable");
    const width = image.get_width();
    const height = image.get_height();
    if (width * height > MAX_PIXELS) throw new HashError("unreadable");
    const pixels = new ImageData(width, height);
    await new Promise((resolve, reject) =>
      image.display(pixels, (done) => (done ? resolve() : reject(new HashError("unreadable")))),
    );
    return pixels;
  } finally {
    for (const image of images) image.free();
  }
}

function canDecodeJpeg() {
  return typeof ImageDecoder !== "undefined";
}

/** Width and height as drawn: a VideoFrame's display size, else the bitmap's. */
function drawnSize(source) {
  return source.displayWidth !== undefined
    ? [source.displayWidth, source.displayHeight]
    : [source.width, source.height];
}

function pixelsOf(source, width, height) {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(source, 0, 0, width, height);
  return ctx.getImageData(0, 0, width, height);
}

const RGB_FORMATS = new Set(["RGBA", "RGBX", "BGRA", "BGRX"]);

/** The upright RGBA pixels of a decoded image, at its size: {data, width, height}. A VideoFrame
 * in an RGB format (what ImageDecoder gives for a JPEG) is copied out, several times faster than
 * drawing it, and turned upright here by its rotation and flip (a reordering of whole pixels:
 * the bytes drawing gives); anything else, or a frame the browser cannot copy as RGBA, is
 * drawn. */
async function uprightPixels(source) {
  const [width, height] = drawnSize(source);
  const rect = source.visibleRect;
  const turned = source.rotation === 90 || source.rotation === 270;
  const copyable =
    typeof source.copyTo === "function" &&
    RGB_FORMATS.has(source.format) &&
    [0, 90, 180, 270].includes(source.rotation) &&
    typeof source.flip === "boolean" &&
    rect &&
    (turned ? [rect.height, rect.width] : [rect.width, rect.height]).join() === [width, height].join();
  if (copyable) {
    const data = new Uint8ClampedArray(rect.width * rect.height * 4);
    try {
      await source.copyTo(data, { rect, format: "RGBA" });
    } catch {
      // A browser that cannot convert while copying: draw it instead.
      return pixelsOf(source, width, height);
    }
    if (source.rotation === 0 && !source.flip) return { data, width, height };
    return { data: turn(data, rect.width, rect.height, source.rotation, source.flip), width, height };
  }
  return pixelsOf(source, width, height);
}

/** w x h RGBA pixels rotated clockwise by `rotation` degrees, then mirrored left to right when
 * `flip` (how a VideoFrame's rotation and flip are shown). */
function turn(data, w, h, rotation, flip) {
  const src = new Uint32Array(data.buffer, data.byteOffset, w * h);
  const outW = rotation === 90 || rotation === 270 ? h : w;
  const outH = outW === w ? h : w;
  const out = new Uint32Array(outW * outH);
  // The source index of output pixel (x, y): linear in x along a row.
  const at = (x, y) => {
    const u = flip ? outW - 1 - x : x;
    if (rotation === 90) return (h - 1 - u) * w + y;
    if (rotation === 180) return (h - 1 - y) * w + (w - 1 - u);
    if (rotation === 270) return u * w + (w - 1 - y);
    return y * w + u;
  };
  for (let y = 0, o = 0; y < outH; y++) {
    const step = at(1, y) - at(0, y);
    for (let x = 0, i = at(0, y); x < outW; x++, i += step) out[o++] = src[i];
  }
  return new Uint8ClampedArray(out.buffer);
}

async function thumbnail(source, width, height) {
  const [w, h] =
    Math.min(width, height) > THUMB_SIDE ? scaledSize(width, height, THUMB_SIDE) : [width, height];
  return createImageBitmap(source, { resizeWidth: w, resizeHeight: h, resizeQuality: "medium" });
}

/** A photo in the person's flow: its robust-matching enrolment (the working bitmap's variant
 * hashes, bit-exact with the Python library's) and a thumbnail (from the working bitmap).
 * `quality` is the best of its hashes' (0 when none reaches 50: the photo is then left out). */
async function hashImage(id, file) {
  const { bitmap } = await decodeWorking(file);
  post({ type: "progress", id, fraction: 0.6 });
  const variants = enrolVariants(bitmap.rgba, bitmap.width, bitmap.height);
  const thumb = await thumbnail(new ImageData(bitmap.rgba, bitmap.width, bitmap.height), bitmap.width, bitmap.height);
  const full = variants.find((v) => v.kind === "full");
  const quality = variants.reduce((best, v) => Math.max(best, v.quality), 0);
  post({ type: "done", id, kind: "image", variants, pdq: full ? full.hex : null, quality, thumb }, [thumb]);
}

/** An image file decoded (a JPEG at 1/2, 1/4 or 1/8 scale by its decoder, others at full size)
 * and its upright pixels ({data, width, height}); the time each step took (ms) goes in
 * `stages`. */
async function decodePixels(file, stages = {}) {
  const started = performance.now();
  const source = await decodeImage(file);
  const decoded = performance.now();
  try {
    return await uprightPixels(source);
  } finally {
    source.close();
    stages.decode = decoded - started;
    stages.pixels = performance.now() - decoded;
  }
}

/** An image file's decoded size and working bitmap: {width, height, bitmap: {rgba, width,
 * height}}; its timings in `stages`. */
async function decodeWorking(file, stages = {}) {
  const { data, width, height } = await decodePixels(file, stages);
  const read = performance.now();
  const bitmap = workingBitmap(data, width, height);
  stages.bitmap = performance.now() - read;
  return { width, height, bitmap };
}

/** The robust-matching enrolment of one photo file: decode, the working bitmap, its variant
 * hashes; with timings, for benchmarks and tests. */
async function enrolFile(file) {
  const started = performance.now();
  if ((await sniffKind(file)) !== "image") throw new HashError("unsupported");
  const stages = { sniff: performance.now() - started };
  const { width, height, bitmap } = await decodeWorking(file, stages);
  const shrunk = performance.now();
  const variants = enrolVariants(bitmap.rgba, bitmap.width, bitmap.height);
  const done = performance.now();
  stages.hashes = done - shrunk;
  return { variants, width, height, ms: done - started, stages };
}

/** The plain PDQ hash of one photo file, as the app computed it before robust matching (decode
 * as above, one PDQ hash of the decoded pixels): the benchmarks' yardstick. */
async function plainFile(file) {
  const started = performance.now();
  if ((await sniffKind(file)) !== "image") throw new HashError("unsupported");
  const pixels = await decodePixels(file);
  const { hex, quality } = pdqFromRGBA(pixels.data, pixels.width, pixels.height);
  return { pdq: hex, quality, width: pixels.width, height: pixels.height, ms: performance.now() - started };
}

async function hashVideo(id, file) {
  // The MD5 is most of the work for a big file; frames come after. Progress at most every
  // PROGRESS_MS (a 2 GB video is a thousand slices), and always at the end of the MD5.
  let lastProgress = -Infinity;
  const md5 = await md5Blob(file, (done, total) => {
    const now = performance.now();
    if (done < total && now - lastProgress < PROGRESS_MS) return;
    lastProgress = now;
    post({ type: "progress", id, fraction: total ? 0.5 * (done / total) : 0.5 });
  });
  let frames = [];
  let thumb = null;
  let decoded = false;
  try {
    const result = await videoFrames(file, (fraction) => {
      post({ type: "progress", id, fraction: 0.5 + 0.5 * fraction });
    });
    if (result) {
      ({ frames, thumb } = result);
      decoded = true;
    }
  } catch {
    decoded = false;
  }
  post({ type: "done", id, kind: "video", md5, frames, decoded, thumb }, thumb ? [thumb] : []);
}

/** PDQ of one frame per second, decoded with WebCodecs; null when the browser cannot.
 *
 * Frames are sampled as the vPDQ reference does: every int(frame_rate / fps)-th frame in
 * presentation order (frames 0, 29, 58, ... of a 29.97 fps video), with timestamp
 * index / frame_rate; a long video keeps at most MAX_FRAMES frames, evenly spread. */
async function videoFrames(file, onProgress) {
  if (typeof VideoDecoder === "undefined") return null;
  const mp4 = await openMp4(file);
  if (!mp4) return null;
  const { config, timescale, samples, reader } = mp4;
  const support = await VideoDecoder.isConfigSupported(config);
  if (!support.supported) return null;

  const count = samples.count;
  const totalTicks = samples.durations.reduce((a, b) => a + b, 0);
  const frameRate = totalTicks > 0 ? (count * timescale) / totalTicks : 30;
  const step = Math.max(1, Math.floor(frameRate / FRAMES_PER_SECOND), Math.ceil(count / MAX_FRAMES));
  // Presentation rank of every sample, and the chunk timestamp (microseconds) that finds it.
  const order = [...Array(count).keys()].sort((a, b) => samples.pts[a] - samples.pts[b]);
  const rank = new Array(count);
  order.forEach((sample, r) => {
    rank[sample] = r;
  });
  const micros = (i) => Math.round((samples.pts[i] / timescale) * 1e6);
  const rankAt = new Map();
  for (let i = 0; i < count; i++) rankAt.set(micros(i), rank[i]);

  // Groups of pictures: decode only those that hold a sampled frame.
  const gops = [];
  for (let i = 0; i < count; i++) {
    if (samples.sync[i] || gops.length === 0) gops.push({ first: i, last: i, wanted: false });
    const gop = gops[gops.length - 1];
    gop.last = i;
    if (rank[i] % step === 0) gop.wanted = true;
  }
  const needed = gops.filter((gop) => gop.wanted);

  const frames = [];
  let thumbPromise = null;
  let failure = null;
  // Hash the sampled frames and release every frame at once (a decoded HD frame is megabytes).
  const onFrame = (frame) => {
    try {
      const r = rankAt.get(frame.timestamp);
      if (r !== undefined && r % step === 0) {
        const width = frame.displayWidth;
        const height = frame.displayHeight;
        const [w, h] =
          Math.min(width, height) > RESIZE_ABOVE
            ? scaledSize(width, height, TARGET_SIDE)
            : [width, height];
        const pixels = pixelsOf(frame, w, h);
        const { hex, quality } = pdqFromRGBA(pixels.data, w, h);
        const timestamp = Math.round((r / frameRate) * 1e6) / 1e6;
        frames.push({ pdq: hex, quality, timestamp, frame: r });
        if (!thumbPromise) thumbPromise = thumbnail(pixels, w, h);
      }
    } catch (err) {
      failure = err;
    } finally {
      frame.close();
    }
  };
  const decoder = new VideoDecoder({
    output: onFrame,
    error: (err) => {
      failure = err;
    },
  });
  decoder.configure(config);

  let done = 0;
  const total = needed.reduce((n, gop) => n + gop.last - gop.first + 1, 0);
  for (let g = 0; g < needed.length; g++) {
    const gop = needed[g];
    for (let i = gop.first; i <= gop.last; i++) {
      if (failure) throw failure;
      const data = await reader.read(samples.offsets[i], samples.sizes[i]);
      decoder.decode(
        new EncodedVideoChunk({
          type: i === gop.first ? "key" : "delta",
          timestamp: micros(i),
          duration: Math.round((samples.durations[i] / timescale) * 1e6),
          data,
        }),
      );
      while (decoder.decodeQueueSize > 4 && !failure) {
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      done++;
      if (done % 16 === 0) onProgress(done / total);
    }
    // Before a jump over groups of pictures we do not need, drain the decoder.
    const contiguous = g + 1 < needed.length && needed[g + 1].first === gop.last + 1;
    if (!contiguous) await decoder.flush();
    if (failure) throw failure;
  }
  const thumb = thumbPromise ? await thumbPromise : null;
  decoder.close();
  onProgress(1);
  frames.sort((a, b) => a.frame - b.frame);
  return frames.length ? { frames, thumb } : null;
}
