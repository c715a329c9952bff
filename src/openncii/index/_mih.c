/*
 * Multi-index hashing kernels for openncii.index (exact Hamming range search on 256-bit codes).
 *
 * The Python side (openncii/index/core.py) owns every array; this module only reads and fills
 * buffers handed to it, so it needs no numpy headers. See docs/index.md for the design.
 *
 * Codes: 32 bytes each, big-endian bit order (bit 0 = most significant bit of byte 0).
 * A table indexes one chunk of `width` (<= 32) consecutive bits starting at bit `start`:
 * the top `pbits` bits of the chunk key address `offsets` directly (CSR: entries of prefix v are
 * offsets[v] .. offsets[v + 1]). Each entry is the row id (uint32, little-endian) followed by the
 * low `sbits` (<= 16) bits of the key (the "suffix": 0, 1 or 2 bytes), packed, so one cache line
 * holds a whole bucket's keys and row ids.
 *
 * Search for threshold r: chunk i is probed with radius t_i where sum(t_i + 1) = r + 1
 * (generalised pigeonhole: a code within r differs in at most t_i bits on at least one chunk;
 * t_i = -1 means "not probed"). Every row found is verified on the full 256 bits, and emitted
 * only by the first table that can find it, so no per-query "seen" set is needed.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CODE_BYTES 32
#define MAX_TABLES 64
#define PREFETCH_AHEAD 12

#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch((const void *)(p), 0, 1)
#define POPCOUNT64(x) __builtin_popcountll(x)
#define POPCOUNT32(x) __builtin_popcount(x)
#else
#define PREFETCH(p) ((void)0)
static inline int POPCOUNT64(uint64_t x) {
    int c = 0;
    while (x) {
        x &= x - 1;
        c++;
    }
    return c;
}
#define POPCOUNT32(x) POPCOUNT64((uint64_t)(x))
#endif

static inline uint32_t chunk_key(const uint8_t *code, int start, int width) {
    int byte0 = start >> 3;
    uint64_t w = 0;
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (byte0 <= CODE_BYTES - 8) {
        memcpy(&w, code + byte0, 8);
        w = __builtin_bswap64(w); /* 64 bits from bit 8 * byte0, big-endian */
        uint64_t mask = (width >= 32) ? 0xFFFFFFFFull : ((1ull << width) - 1ull);
        return (uint32_t)((w >> (64 - (start & 7) - width)) & mask);
    }
#endif
    for (int k = 0; k < 5; k++) {
        w <<= 8;
        if (byte0 + k < CODE_BYTES) {
            w |= code[byte0 + k];
        }
    }
    int shift = 40 - (start & 7) - width;
    uint64_t mask = (width >= 32) ? 0xFFFFFFFFull : ((1ull << width) - 1ull);
    return (uint32_t)((w >> shift) & mask);
}

static inline int hamming(const uint8_t *a, const uint8_t *b) {
    uint64_t x[4], y[4];
    memcpy(x, a, CODE_BYTES);
    memcpy(y, b, CODE_BYTES);
    return (int)(POPCOUNT64(x[0] ^ y[0]) + POPCOUNT64(x[1] ^ y[1]) + POPCOUNT64(x[2] ^ y[2]) +
                 POPCOUNT64(x[3] ^ y[3]));
}

static inline int is_removed(const uint8_t *removed, Py_ssize_t n_removed_bytes, uint64_t row) {
    uint64_t byte = row >> 3;
    if (removed == NULL || (Py_ssize_t)byte >= n_removed_bytes) {
        return 0;
    }
    return (removed[byte] >> (row & 7)) & 1;
}

/* ------------------------------------------------------------------------------------------ */
/* build_table(codes, start, width, pbits, removed, offsets_out, entries_out) -> n            */

static PyObject *py_build_table(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer codes, removed, offsets, entries;
    int start, width, pbits;
    if (!PyArg_ParseTuple(args, "y*iiiy*w*w*", &codes, &start, &width, &pbits, &removed, &offsets,
                          &entries)) {
        return NULL;
    }
    PyObject *result = NULL;
    int sbits = width - pbits;
    Py_ssize_t n = codes.len / CODE_BYTES;
    Py_ssize_t nbuckets = (Py_ssize_t)1 << pbits;
    int sitem = sbits == 0 ? 0 : (sbits <= 8 ? 1 : 2);
    if (start < 0 || width < 1 || width > 32 || start + width > 256 || pbits < 0 ||
        pbits > width || sbits > 16 || pbits > 30) {
        PyErr_SetString(PyExc_ValueError, "bad chunk geometry");
        goto done;
    }
    if (offsets.len != (nbuckets + 1) * (Py_ssize_t)sizeof(uint32_t) ||
        n > (Py_ssize_t)UINT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "bad output buffer sizes");
        goto done;
    }
    {
        const uint8_t *c = (const uint8_t *)codes.buf;
        const uint8_t *rm = removed.len > 0 ? (const uint8_t *)removed.buf : NULL;
        uint32_t *off = (uint32_t *)offsets.buf;
        uint8_t *ent = (uint8_t *)entries.buf;
        Py_ssize_t stride = 4 + sitem;
        uint32_t *cursor = NULL;
        uint32_t *keys = NULL;
        Py_ssize_t count = 0;
        Py_BEGIN_ALLOW_THREADS;
        keys = (uint32_t *)malloc((size_t)(n > 0 ? n : 1) * sizeof(uint32_t));
        memset(off, 0, (size_t)(nbuckets + 1) * sizeof(uint32_t));
        for (Py_ssize_t i = 0; keys != NULL && i < n; i++) {
            if (is_removed(rm, removed.len, (uint64_t)i)) {
                continue;
            }
            uint32_t key = chunk_key(c + i * CODE_BYTES, start, width);
            keys[i] = key;
            off[(key >> sbits) + 1]++;
        }
        for (Py_ssize_t v = 0; v < nbuckets; v++) {
            off[v + 1] += off[v];
        }
        count = off[nbuckets];
        int fits = entries.len >= count * stride;
        cursor = (fits && keys != NULL) ? (uint32_t *)malloc((size_t)nbuckets * sizeof(uint32_t))
                                        : NULL;
        if (cursor != NULL) {
            memcpy(cursor, off, (size_t)nbuckets * sizeof(uint32_t));
            uint32_t smask = sbits == 0 ? 0u : ((1u << sbits) - 1u);
            for (Py_ssize_t i = 0; i < n; i++) {
                if (is_removed(rm, removed.len, (uint64_t)i)) {
                    continue;
                }
                uint32_t key = keys[i];
                uint32_t pos = cursor[key >> sbits]++;
                uint8_t *e = ent + (Py_ssize_t)pos * stride;
                uint32_t row = (uint32_t)i;
                uint32_t suf = key & smask;
                e[0] = (uint8_t)row;
                e[1] = (uint8_t)(row >> 8);
                e[2] = (uint8_t)(row >> 16);
                e[3] = (uint8_t)(row >> 24);
                if (sitem >= 1) {
                    e[4] = (uint8_t)suf;
                }
                if (sitem == 2) {
                    e[5] = (uint8_t)(suf >> 8);
                }
            }
            free(cursor);
        }
        free(keys);
        Py_END_ALLOW_THREADS;
        if (entries.len < count * (4 + sitem)) {
            PyErr_SetString(PyExc_ValueError, "bad output buffer sizes");
            goto done;
        }
        if (cursor == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        result = PyLong_FromSsize_t(count);
    }
done:
    PyBuffer_Release(&codes);
    PyBuffer_Release(&removed);
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&entries);
    return result;
}

/* ------------------------------------------------------------------------------------------ */
/* search                                                                                      */

typedef struct {
    int start, width, pbits, sbits, sitem, radius;
    const uint32_t *offsets;
    const uint8_t *entries;
    int stride;
    uint32_t *masks; /* XOR masks over the prefix bits, popcount <= radius */
    uint8_t *mask_pc;
    size_t nmasks;
} table_t;

typedef struct {
    uint64_t *data;
    size_t len, cap;
} vec_t;

static int vec_push(vec_t *v, uint64_t x) {
    if (v->len == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 1024;
        uint64_t *d = (uint64_t *)realloc(v->data, cap * sizeof(uint64_t));
        if (d == NULL) {
            return -1;
        }
        v->data = d;
        v->cap = cap;
    }
    v->data[v->len++] = x;
    return 0;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static size_t count_masks(int p, int t) {
    size_t total = 0, c = 1;
    for (int k = 0; k <= t && k <= p; k++) {
        total += c;
        c = c * (size_t)(p - k) / (size_t)(k + 1);
    }
    return total;
}

static void gen_masks(int p, int t, uint32_t *out, uint8_t *pc) {
    size_t n = 0;
    int idx[32];
    for (int k = 0; k <= t && k <= p; k++) {
        for (int i = 0; i < k; i++) {
            idx[i] = i;
        }
        for (;;) {
            uint32_t m = 0;
            for (int i = 0; i < k; i++) {
                m |= 1u << idx[i];
            }
            out[n] = m;
            pc[n] = (uint8_t)k;
            n++;
            int i = k - 1;
            while (i >= 0 && idx[i] == p - k + i) {
                i--;
            }
            if (i < 0) {
                break;
            }
            idx[i]++;
            for (int j = i + 1; j < k; j++) {
                idx[j] = idx[j - 1] + 1;
            }
        }
    }
}

typedef struct {
    uint32_t lo, hi;
    int budget;
} range_t;

typedef struct {
    range_t *ranges;
    uint32_t *cands;
    size_t ranges_cap, cands_cap;
} scratch_t;

static int ensure_cands(scratch_t *s, size_t need) {
    if (need <= s->cands_cap) {
        return 0;
    }
    size_t cap = s->cands_cap ? s->cands_cap : 4096;
    while (cap < need) {
        cap *= 2;
    }
    uint32_t *d = (uint32_t *)realloc(s->cands, cap * sizeof(uint32_t));
    if (d == NULL) {
        return -1;
    }
    s->cands = d;
    s->cands_cap = cap;
    return 0;
}

/* Search one query; appends (dist << 32 | row) for every match to out. Returns 0 or -1 (OOM). */
static int search_one(const uint8_t *q, const uint8_t *codes, uint64_t n_base,
                      const uint8_t *delta, uint64_t n_delta, const uint8_t *removed,
                      Py_ssize_t n_removed_bytes, table_t *tables, int ntables, int threshold,
                      int use_tables, scratch_t *s, vec_t *out) {
    size_t first = out->len;
    if (!use_tables) {
        for (uint64_t i = 0; i < n_base; i++) {
            int d = hamming(q, codes + i * CODE_BYTES);
            if (d <= threshold && !is_removed(removed, n_removed_bytes, i)) {
                if (vec_push(out, ((uint64_t)d << 32) | i) < 0) {
                    return -1;
                }
            }
        }
    } else {
        uint32_t qkeys[MAX_TABLES];
        for (int ti = 0; ti < ntables; ti++) {
            qkeys[ti] = chunk_key(q, tables[ti].start, tables[ti].width);
        }
        for (int ti = 0; ti < ntables; ti++) {
            table_t *t = &tables[ti];
            if (t->radius < 0) {
                continue;
            }
            uint32_t qprefix = qkeys[ti] >> t->sbits;
            uint32_t qsuffix = t->sbits ? (qkeys[ti] & ((1u << t->sbits) - 1u)) : 0u;
            /* Stage 1: bucket ranges of every prefix within the radius. */
            size_t nr = 0;
            size_t ncand_est = 0;
            for (size_t k = 0; k < t->nmasks; k++) {
                if (k + PREFETCH_AHEAD < t->nmasks) {
                    PREFETCH(&t->offsets[qprefix ^ t->masks[k + PREFETCH_AHEAD]]);
                }
                uint32_t v = qprefix ^ t->masks[k];
                uint32_t lo = t->offsets[v], hi = t->offsets[v + 1];
                if (lo < hi) {
                    s->ranges[nr].lo = lo;
                    s->ranges[nr].hi = hi;
                    s->ranges[nr].budget = t->radius - t->mask_pc[k];
                    nr++;
                    ncand_est += hi - lo;
                }
            }
            if (ensure_cands(s, ncand_est) < 0) {
                return -1;
            }
            /* Stage 2: scan those buckets' suffixes; collect candidate rows. */
            size_t nc = 0;
            const uint8_t *ent = t->entries;
            const size_t stride = (size_t)t->stride;
            for (size_t k = 0; k < nr; k++) {
                if (k + PREFETCH_AHEAD < nr) {
                    const range_t *pr = &s->ranges[k + PREFETCH_AHEAD];
                    PREFETCH(ent + (size_t)pr->lo * stride);
                    PREFETCH(ent + (size_t)pr->hi * stride - 1);
                }
                range_t r = s->ranges[k];
                const uint8_t *e = ent + (size_t)r.lo * stride;
                const uint8_t *end = ent + (size_t)r.hi * stride;
                if (t->sitem == 0) {
                    for (; e < end; e += stride) {
                        memcpy(&s->cands[nc++], e, 4);
                    }
                } else if (t->sitem == 1) {
                    for (; e < end; e += stride) {
                        if (POPCOUNT32((uint32_t)e[4] ^ qsuffix) <= r.budget) {
                            memcpy(&s->cands[nc++], e, 4);
                        }
                    }
                } else {
                    for (; e < end; e += stride) {
                        uint32_t sv = (uint32_t)e[4] | ((uint32_t)e[5] << 8);
                        if (POPCOUNT32(sv ^ qsuffix) <= r.budget) {
                            memcpy(&s->cands[nc++], e, 4);
                        }
                    }
                }
            }
            /* Stage 3: verify on the full code. */
            for (size_t k = 0; k < nc; k++) {
                if (k + PREFETCH_AHEAD < nc) {
                    PREFETCH(codes + (uint64_t)s->cands[k + PREFETCH_AHEAD] * CODE_BYTES);
                }
                uint64_t row = s->cands[k];
                const uint8_t *c = codes + row * CODE_BYTES;
                int d = hamming(q, c);
                if (d > threshold || is_removed(removed, n_removed_bytes, row)) {
                    continue;
                }
                /* Emit only from the first table that finds this row. */
                int earlier = 0;
                for (int tj = 0; tj < ti; tj++) {
                    if (tables[tj].radius < 0) {
                        continue;
                    }
                    uint32_t ck = chunk_key(c, tables[tj].start, tables[tj].width);
                    if (POPCOUNT32(ck ^ qkeys[tj]) <= tables[tj].radius) {
                        earlier = 1;
                        break;
                    }
                }
                if (!earlier && vec_push(out, ((uint64_t)d << 32) | row) < 0) {
                    return -1;
                }
            }
        }
    }
    /* The delta segment (rows added since the last build): brute force. */
    for (uint64_t i = 0; i < n_delta; i++) {
        int d = hamming(q, delta + i * CODE_BYTES);
        uint64_t row = n_base + i;
        if (d <= threshold && !is_removed(removed, n_removed_bytes, row)) {
            if (vec_push(out, ((uint64_t)d << 32) | row) < 0) {
                return -1;
            }
        }
    }
    if (out->len - first > 1) {
        qsort(out->data + first, out->len - first, sizeof(uint64_t), cmp_u64);
    }
    return 0;
}

/*
 * search(codes, delta, removed, tables, queries, threshold, use_tables)
 *   tables: sequence of (start, width, pbits, radius, offsets, entries)
 *   returns (bounds: bytes of int64[Q + 1], packed: bytes of uint64 (dist << 32 | row))
 */
static PyObject *py_search(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer codes, delta, removed, queries;
    PyObject *table_seq;
    int threshold, use_tables;
    if (!PyArg_ParseTuple(args, "y*y*y*Oy*ip", &codes, &delta, &removed, &table_seq, &queries,
                          &threshold, &use_tables)) {
        return NULL;
    }
    PyObject *result = NULL;
    table_t tables[MAX_TABLES];
    Py_buffer tbufs[MAX_TABLES][2];
    int ntables = 0, nbufs = 0;
    memset(tables, 0, sizeof(tables));
    PyObject *seq = PySequence_Fast(table_seq, "tables must be a sequence");
    if (seq == NULL) {
        goto done;
    }
    if (PySequence_Fast_GET_SIZE(seq) > MAX_TABLES) {
        PyErr_SetString(PyExc_ValueError, "too many tables");
        goto done;
    }
    if (codes.len % CODE_BYTES || delta.len % CODE_BYTES || queries.len % CODE_BYTES) {
        PyErr_SetString(PyExc_ValueError, "codes must be 32 bytes each");
        goto done;
    }
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        table_t *t = &tables[i];
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, i), "iiiiy*y*", &t->start,
                              &t->width, &t->pbits, &t->radius, &tbufs[i][0], &tbufs[i][1])) {
            goto done;
        }
        nbufs = (int)i + 1;
        ntables = (int)i + 1;
        t->sbits = t->width - t->pbits;
        t->sitem = t->sbits == 0 ? 0 : (t->sbits <= 8 ? 1 : 2);
        t->offsets = (const uint32_t *)tbufs[i][0].buf;
        t->entries = (const uint8_t *)tbufs[i][1].buf;
        t->stride = 4 + t->sitem;
        if (t->width < 1 || t->width > 32 || t->pbits < 0 || t->pbits > 30 || t->sbits > 16 ||
            t->start < 0 || t->start + t->width > 256 ||
            tbufs[i][0].len != (((Py_ssize_t)1 << t->pbits) + 1) * 4) {
            PyErr_SetString(PyExc_ValueError, "bad table");
            goto done;
        }
        if (t->radius >= 0 && use_tables) {
            int pr = t->radius < t->pbits ? t->radius : t->pbits;
            t->nmasks = count_masks(t->pbits, pr);
            t->masks = (uint32_t *)malloc(t->nmasks * sizeof(uint32_t));
            t->mask_pc = (uint8_t *)malloc(t->nmasks);
            if (t->masks == NULL || t->mask_pc == NULL) {
                PyErr_NoMemory();
                goto done;
            }
            gen_masks(t->pbits, pr, t->masks, t->mask_pc);
        }
    }
    {
        Py_ssize_t nq = queries.len / CODE_BYTES;
        int64_t *bounds = (int64_t *)malloc((size_t)(nq + 1) * sizeof(int64_t));
        vec_t out = {NULL, 0, 0};
        scratch_t s = {NULL, NULL, 0, 0};
        size_t maxmasks = 1;
        for (int i = 0; i < ntables; i++) {
            if (tables[i].nmasks > maxmasks) {
                maxmasks = tables[i].nmasks;
            }
        }
        s.ranges = (range_t *)malloc(maxmasks * sizeof(range_t));
        int failed = bounds == NULL || s.ranges == NULL;
        if (!failed) {
            Py_BEGIN_ALLOW_THREADS;
            bounds[0] = 0;
            for (Py_ssize_t qi = 0; qi < nq; qi++) {
                if (search_one((const uint8_t *)queries.buf + qi * CODE_BYTES,
                               (const uint8_t *)codes.buf, (uint64_t)(codes.len / CODE_BYTES),
                               (const uint8_t *)delta.buf, (uint64_t)(delta.len / CODE_BYTES),
                               removed.len > 0 ? (const uint8_t *)removed.buf : NULL,
                               removed.len, tables, ntables, threshold, use_tables, &s,
                               &out) < 0) {
                    failed = 1;
                    break;
                }
                bounds[qi + 1] = (int64_t)out.len;
            }
            Py_END_ALLOW_THREADS;
        }
        if (failed) {
            PyErr_NoMemory();
        } else {
            PyObject *b = PyBytes_FromStringAndSize((const char *)bounds,
                                                    (Py_ssize_t)((nq + 1) * sizeof(int64_t)));
            PyObject *p = PyBytes_FromStringAndSize(out.data ? (const char *)out.data : "",
                                                    (Py_ssize_t)(out.len * sizeof(uint64_t)));
            if (b != NULL && p != NULL) {
                result = PyTuple_Pack(2, b, p);
            }
            Py_XDECREF(b);
            Py_XDECREF(p);
        }
        free(bounds);
        free(out.data);
        free(s.ranges);
        free(s.cands);
    }
done:
    for (int i = 0; i < ntables; i++) {
        free(tables[i].masks);
        free(tables[i].mask_pc);
    }
    for (int i = 0; i < nbufs; i++) {
        for (int j = 0; j < 2; j++) {
            PyBuffer_Release(&tbufs[i][j]);
        }
    }
    Py_XDECREF(seq);
    PyBuffer_Release(&codes);
    PyBuffer_Release(&delta);
    PyBuffer_Release(&removed);
    PyBuffer_Release(&queries);
    return result;
}

static PyMethodDef methods[] = {
    {"build_table", py_build_table, METH_VARARGS,
     "build_table(codes, start, width, pbits, removed, offsets, entries) -> count"},
    {"search", py_search, METH_VARARGS,
     "search(codes, delta, removed, tables, queries, threshold, use_tables) -> (bounds, packed)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_mih", "Multi-index hashing kernels for openncii.index.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__mih(void) { return PyModule_Create(&module); }
