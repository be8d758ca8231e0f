/*
 * degcore.groups._ristretto255: ristretto255 arithmetic written for degcore.
 *
 * Written for degcore from the published specifications; no third-party source is copied in.
 * Two kinds of code, kept apart: everything but the "Constant time" section runs in time that
 * depends on its inputs (scalars, points), so it must only ever see public values: proof
 * verification, the mix-net verifier, record checks. The "Constant time" section (ct_exp) takes
 * secret scalars: a fixed base's table (the election key's) and k1 T + k2 P for a public P; no
 * branch or memory index there depends on a scalar, which tests/native_ct/ checks under valgrind.
 * Every other secret exponent stays with libsodium's constant-time calls (rbcl).
 *
 * Sources of the published facts used below:
 *   - RFC 9496 (ristretto255): constants (§4.1), SQRT_RATIO_M1 (§4.2), decoding (§4.3.1),
 *     encoding (§4.3.2).
 *   - RFC 8032 §5.1.4 and Hisil, Wong, Carter, Dawson, "Twisted Edwards Curves Revisited"
 *     (ASIACRYPT 2008): extended coordinates (X:Y:Z:T), x = X/Z, y = Y/Z, xy = T/Z, for
 *     a = -1; the addition "add-2008-hwcd-3" (with k = 2d) and the doubling "dbl-2008-hwcd".
 *   - p = 2^255 - 19; l = 2^252 + 27742317777372353535851937790883648493 (RFC 9496 §4).
 *   - Straus's interleaved multi-exponentiation (1964) with width-w NAF recoding, and
 *     Pippenger's bucket method (1976) with signed radix-2^c digits.
 *
 * Field elements are 5 limbs of 51 bits (value = sum v[i] 2^(51 i)), multiplied with 64x64->128
 * bit products (unsigned __int128, gcc and clang on 64-bit targets). Invariant: every fe passed
 * to an operation has limbs below 2^52 ("weakly reduced"); fe_add and fe_sub reduce their
 * output so that it holds everywhere. Canonical form is computed only for encodings and
 * comparisons.
 */
#ifndef DEGCORE_CT_HARNESS /* tests/native_ct/ compiles the arithmetic alone, without Python */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#else
#define PyMem_RawMalloc malloc
#define PyMem_RawFree free
#endif

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;

typedef struct {
    uint64_t v[5];
} fe;

#define MASK51 ((uint64_t)0x7ffffffffffffULL)

/* RFC 9496 §4.1 constants, in 51-bit limbs (converted from the RFC's decimal values). */
static const fe FE_D = {{0x34dca135978a3ULL, 0x1a8283b156ebdULL, 0x5e7a26001c029ULL, 0x739c663a03cbbULL,
                         0x52036cee2b6ffULL}};
static const fe FE_D2 = {{0x69b9426b2f159ULL, 0x35050762add7aULL, 0x3cf44c0038052ULL, 0x6738cc7407977ULL,
                          0x2406d9dc56dffULL}};
static const fe FE_SQRT_M1 = {{0x61b274a0ea0b0ULL, 0x0d5a5fc8f189dULL, 0x7ef5e9cbd0c60ULL,
                               0x78595a6804c9eULL, 0x2b8324804fc1dULL}};
static const fe FE_INVSQRT_A_MINUS_D = {{0x0fdaa805d40eaULL, 0x2eb482e57d339ULL, 0x007610274bc58ULL,
                                         0x6510b613dc8ffULL, 0x786c8905cfaffULL}};
static const fe FE_ZERO = {{0, 0, 0, 0, 0}};
static const fe FE_ONE = {{1, 0, 0, 0, 0}};

/* l, little-endian (RFC 9496 §4). */
static const uint8_t ORDER_L[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                    0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
                                    0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};

/* ---------------------------------------------------------------------------------------------
 * Field arithmetic mod p = 2^255 - 19
 * ------------------------------------------------------------------------------------------- */

/* Carry every limb into the next (the top one times 19 into the bottom): limbs < 2^51 + 2^10. */
static inline void fe_carry(fe *h) {
    uint64_t c;
    c = h->v[0] >> 51;
    h->v[0] &= MASK51;
    h->v[1] += c;
    c = h->v[1] >> 51;
    h->v[1] &= MASK51;
    h->v[2] += c;
    c = h->v[2] >> 51;
    h->v[2] &= MASK51;
    h->v[3] += c;
    c = h->v[3] >> 51;
    h->v[3] &= MASK51;
    h->v[4] += c;
    c = h->v[4] >> 51;
    h->v[4] &= MASK51;
    h->v[0] += c * 19;
}

static inline void fe_add(fe *h, const fe *f, const fe *g) {
    for (int i = 0; i < 5; i++) h->v[i] = f->v[i] + g->v[i];
    fe_carry(h);
}

/* f - g + 2p: 2p's limbs (2^52 - 38, 2^52 - 2, ...) exceed any weakly reduced g's. */
static inline void fe_sub(fe *h, const fe *f, const fe *g) {
    h->v[0] = f->v[0] + 0xfffffffffffdaULL - g->v[0];
    for (int i = 1; i < 5; i++) h->v[i] = f->v[i] + 0xffffffffffffeULL - g->v[i];
    fe_carry(h);
}

static inline void fe_neg(fe *h, const fe *f) { fe_sub(h, &FE_ZERO, f); }

/* Without the carry, for the point formulas' hot paths: the output (limbs < 2^54) may only be
 * multiplied or squared next (fe_fold's bounds hold for factors below 2^54), and fe_sub_lazy's
 * subtrahend must be weakly reduced (a product, or an fe_add/fe_sub result). */
static inline void fe_add_lazy(fe *h, const fe *f, const fe *g) {
    for (int i = 0; i < 5; i++) h->v[i] = f->v[i] + g->v[i];
}

static inline void fe_sub_lazy(fe *h, const fe *f, const fe *g) {
    h->v[0] = f->v[0] + 0xfffffffffffdaULL - g->v[0];
    for (int i = 1; i < 5; i++) h->v[i] = f->v[i] + 0xffffffffffffeULL - g->v[i];
}

/* Fold the five 128-bit column sums into weakly reduced limbs. */
static inline void fe_fold(fe *h, u128 r0, u128 r1, u128 r2, u128 r3, u128 r4) {
    uint64_t c;
    r1 += (uint64_t)(r0 >> 51);
    r2 += (uint64_t)(r1 >> 51);
    r3 += (uint64_t)(r2 >> 51);
    r4 += (uint64_t)(r3 >> 51);
    c = (uint64_t)(r4 >> 51);
    uint64_t h0 = ((uint64_t)r0 & MASK51) + c * 19;
    h->v[0] = h0 & MASK51;
    h->v[1] = ((uint64_t)r1 & MASK51) + (h0 >> 51);
    h->v[2] = (uint64_t)r2 & MASK51;
    h->v[3] = (uint64_t)r3 & MASK51;
    h->v[4] = (uint64_t)r4 & MASK51;
}

/* Schoolbook product; a limb product at column i + j >= 5 wraps around times 19 (2^255 = 19). */
static inline __attribute__((always_inline)) void fe_mul(fe *h, const fe *f, const fe *g) {
    const uint64_t f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
    const uint64_t g0 = g->v[0], g1 = g->v[1], g2 = g->v[2], g3 = g->v[3], g4 = g->v[4];
    const uint64_t g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4;
    u128 r0 = (u128)f0 * g0 + (u128)f1 * g4_19 + (u128)f2 * g3_19 + (u128)f3 * g2_19 + (u128)f4 * g1_19;
    u128 r1 = (u128)f0 * g1 + (u128)f1 * g0 + (u128)f2 * g4_19 + (u128)f3 * g3_19 + (u128)f4 * g2_19;
    u128 r2 = (u128)f0 * g2 + (u128)f1 * g1 + (u128)f2 * g0 + (u128)f3 * g4_19 + (u128)f4 * g3_19;
    u128 r3 = (u128)f0 * g3 + (u128)f1 * g2 + (u128)f2 * g1 + (u128)f3 * g0 + (u128)f4 * g4_19;
    u128 r4 = (u128)f0 * g4 + (u128)f1 * g3 + (u128)f2 * g2 + (u128)f3 * g1 + (u128)f4 * g0;
    fe_fold(h, r0, r1, r2, r3, r4);
}

/* Squaring: the cross products f_i f_j (i != j) appear twice, so 15 products instead of 25.
 * Inlined: square roots and inverses are chains of hundreds of squarings (fe_sq_times). */
static inline __attribute__((always_inline)) void fe_sq(fe *h, const fe *f) {
    const uint64_t f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
    const uint64_t d0 = 2 * f0, d1 = 2 * f1, d2 = 2 * f2, d3 = 2 * f3;
    const uint64_t f3_19 = 19 * f3, f4_19 = 19 * f4;
    u128 r0 = (u128)f0 * f0 + (u128)d1 * f4_19 + (u128)d2 * f3_19;
    u128 r1 = (u128)d0 * f1 + (u128)d2 * f4_19 + (u128)f3 * f3_19;
    u128 r2 = (u128)d0 * f2 + (u128)f1 * f1 + (u128)d3 * f4_19;
    u128 r3 = (u128)d0 * f3 + (u128)d1 * f2 + (u128)f4 * f4_19;
    u128 r4 = (u128)d0 * f4 + (u128)d1 * f3 + (u128)f2 * f2;
    fe_fold(h, r0, r1, r2, r3, r4);
}

/* h = f^(2^n), n >= 1; the value stays in a local (in registers) between the squarings. */
static void fe_sq_times(fe *h, const fe *f, int n) {
    fe t;
    fe_sq(&t, f);
    for (int i = 1; i < n; i++) fe_sq(&t, &t);
    *h = t;
}

/* The canonical 32-byte little-endian encoding (the unique representative below p). */
static void fe_tobytes(uint8_t s[32], const fe *f) {
    fe t = *f;
    fe_carry(&t);
    /* q = 1 exactly when t >= p, i.e. when t + 19 reaches 2^255; then t - p = t + 19 - 2^255. */
    uint64_t q = (t.v[0] + 19) >> 51;
    q = (t.v[1] + q) >> 51;
    q = (t.v[2] + q) >> 51;
    q = (t.v[3] + q) >> 51;
    q = (t.v[4] + q) >> 51;
    t.v[0] += 19 * q;
    t.v[1] += t.v[0] >> 51;
    t.v[0] &= MASK51;
    t.v[2] += t.v[1] >> 51;
    t.v[1] &= MASK51;
    t.v[3] += t.v[2] >> 51;
    t.v[2] &= MASK51;
    t.v[4] += t.v[3] >> 51;
    t.v[3] &= MASK51;
    t.v[4] &= MASK51; /* drops the 2^255 of t + 19 - 2^255 */
    const uint64_t w[4] = {t.v[0] | (t.v[1] << 51), (t.v[1] >> 13) | (t.v[2] << 38),
                           (t.v[2] >> 26) | (t.v[3] << 25), (t.v[3] >> 39) | (t.v[4] << 12)};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 8; j++) s[8 * i + j] = (uint8_t)(w[i] >> (8 * j));
}

/* Bits 0..254 of s (bit 255 is ignored here; the decoder rejects it by re-encoding). */
static void fe_frombytes(fe *h, const uint8_t s[32]) {
    uint64_t w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = 0;
        for (int j = 7; j >= 0; j--) w[i] = (w[i] << 8) | s[8 * i + j];
    }
    h->v[0] = w[0] & MASK51;
    h->v[1] = ((w[0] >> 51) | (w[1] << 13)) & MASK51;
    h->v[2] = ((w[1] >> 38) | (w[2] << 26)) & MASK51;
    h->v[3] = ((w[2] >> 25) | (w[3] << 39)) & MASK51;
    h->v[4] = (w[3] >> 12) & MASK51;
}

static int fe_is_negative(const fe *f) {
    uint8_t s[32];
    fe_tobytes(s, f);
    return s[0] & 1;
}

static int fe_is_zero(const fe *f) {
    uint8_t s[32], acc = 0;
    fe_tobytes(s, f);
    for (int i = 0; i < 32; i++) acc |= s[i];
    return acc == 0;
}

static int fe_equal(const fe *f, const fe *g) {
    fe d;
    fe_sub(&d, f, g);
    return fe_is_zero(&d);
}

static void fe_abs(fe *h, const fe *f) {
    if (fe_is_negative(f))
        fe_neg(h, f);
    else
        *h = *f;
}

/* z^(2^250 - 1) and z^11, the common part of the two exponentiations below. */
static void fe_pow_2_250_1(fe *out, fe *z11, const fe *z) {
    fe z2, z9, t, z_5_0, z_10_0, z_20_0, z_50_0, z_100_0;
    fe_sq(&z2, z);            /* z^2 */
    fe_sq_times(&t, &z2, 2);  /* z^8 */
    fe_mul(&z9, &t, z);       /* z^9 */
    fe_mul(z11, &z9, &z2);    /* z^11 */
    fe_sq(&t, z11);           /* z^22 */
    fe_mul(&z_5_0, &t, &z9);  /* z^31 = z^(2^5 - 1) */
    fe_sq_times(&t, &z_5_0, 5);
    fe_mul(&z_10_0, &t, &z_5_0); /* z^(2^10 - 1) */
    fe_sq_times(&t, &z_10_0, 10);
    fe_mul(&z_20_0, &t, &z_10_0); /* z^(2^20 - 1) */
    fe_sq_times(&t, &z_20_0, 20);
    fe_mul(&t, &t, &z_20_0); /* z^(2^40 - 1) */
    fe_sq_times(&t, &t, 10);
    fe_mul(&z_50_0, &t, &z_10_0); /* z^(2^50 - 1) */
    fe_sq_times(&t, &z_50_0, 50);
    fe_mul(&z_100_0, &t, &z_50_0); /* z^(2^100 - 1) */
    fe_sq_times(&t, &z_100_0, 100);
    fe_mul(&t, &t, &z_100_0); /* z^(2^200 - 1) */
    fe_sq_times(&t, &t, 50);
    fe_mul(out, &t, &z_50_0); /* z^(2^250 - 1) */
}

/* z^((p - 5) / 8) = z^(2^252 - 3) = (z^(2^250 - 1))^4 * z. */
static void fe_pow_p58(fe *out, const fe *z) {
    fe t, z11;
    fe_pow_2_250_1(&t, &z11, z);
    fe_sq_times(&t, &t, 2);
    fe_mul(out, &t, z);
}

/* RFC 9496 §4.2 SQRT_RATIO_M1(u, v): returns was_square; *r = the nonnegative root (or of i u/v). */
static int fe_sqrt_ratio_m1(fe *r, const fe *u, const fe *v) {
    fe v3, v7, t, check, neg_u, neg_u_i;
    fe_sq(&t, v);
    fe_mul(&v3, &t, v); /* v^3 */
    fe_sq(&t, &v3);
    fe_mul(&v7, &t, v); /* v^7 */
    fe_mul(&t, u, &v7);
    fe_pow_p58(&t, &t);
    fe_mul(&t, &t, &v3);
    fe_mul(r, &t, u); /* (u v^3) (u v^7)^((p-5)/8) */
    fe_sq(&t, r);
    fe_mul(&check, v, &t);
    fe_neg(&neg_u, u);
    fe_mul(&neg_u_i, &neg_u, &FE_SQRT_M1);
    const int correct = fe_equal(&check, u);
    const int flipped = fe_equal(&check, &neg_u);
    const int flipped_i = fe_equal(&check, &neg_u_i);
    if (flipped || flipped_i) fe_mul(r, r, &FE_SQRT_M1);
    fe_abs(r, r);
    return correct || flipped;
}

/* ---------------------------------------------------------------------------------------------
 * Group elements: extended twisted Edwards coordinates for -x^2 + y^2 = 1 + d x^2 y^2
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    fe X, Y, Z, T;
} ge_p3; /* extended: x = X/Z, y = Y/Z, x y = T/Z */

typedef struct {
    fe E, F, G, H;
} ge_done; /* a sum before its last four products: X = E F, Y = G H, Z = F G, T = E H */

typedef struct {
    fe YplusX, YminusX, Z2, T2d;
} ge_cached; /* an addend prepared for the addition formula: (Y + X, Y - X, 2 Z, 2 d T) */

static void ge_identity(ge_p3 *p) {
    p->X = FE_ZERO;
    p->Y = FE_ONE;
    p->Z = FE_ONE;
    p->T = FE_ZERO;
}

static void ge_to_cached(ge_cached *c, const ge_p3 *p) {
    fe_add_lazy(&c->YplusX, &p->Y, &p->X);
    fe_sub_lazy(&c->YminusX, &p->Y, &p->X);
    fe_add_lazy(&c->Z2, &p->Z, &p->Z);
    fe_mul(&c->T2d, &p->T, &FE_D2);
}

static void ge_done_to_p3(ge_p3 *p, const ge_done *d) {
    fe_mul(&p->X, &d->E, &d->F);
    fe_mul(&p->Y, &d->G, &d->H);
    fe_mul(&p->Z, &d->F, &d->G);
    fe_mul(&p->T, &d->E, &d->H);
}

/* The same without T, for a point that is only doubled next (doubling never reads T). */
static void ge_done_to_p2(ge_p3 *p, const ge_done *d) {
    fe_mul(&p->X, &d->E, &d->F);
    fe_mul(&p->Y, &d->G, &d->H);
    fe_mul(&p->Z, &d->F, &d->G);
}

/* add-2008-hwcd-3 (RFC 8032 §5.1.4): p + q, or p - q when negate (-(X, Y, Z, T) = (-X, Y, Z, -T)).
 * q_z_one: q was prepared from a point with Z = 1 (a decoded one), so Z_p Z2_q = 2 Z_p, an addition
 * (madd-2008-hwcd-3: 7 products with ge_done_to_p3 instead of 8). */
static inline __attribute__((always_inline)) void ge_add_any(ge_done *r, const ge_p3 *p, const ge_cached *q,
                                                             int negate, int q_z_one) {
    fe a, b, c, d, ymx, ypx;
    fe_sub_lazy(&ymx, &p->Y, &p->X);
    fe_add_lazy(&ypx, &p->Y, &p->X);
    fe_mul(&a, &ymx, negate ? &q->YplusX : &q->YminusX);
    fe_mul(&b, &ypx, negate ? &q->YminusX : &q->YplusX);
    fe_mul(&c, &p->T, &q->T2d);
    if (q_z_one)
        fe_add_lazy(&d, &p->Z, &p->Z); /* limbs < 2^53: F and G below stay < 2^54, as fe_mul needs */
    else
        fe_mul(&d, &p->Z, &q->Z2);
    fe_sub_lazy(&r->E, &b, &a);
    fe_add_lazy(&r->H, &b, &a);
    if (negate) {
        fe_add_lazy(&r->F, &d, &c);
        fe_sub_lazy(&r->G, &d, &c);
    } else {
        fe_sub_lazy(&r->F, &d, &c);
        fe_add_lazy(&r->G, &d, &c);
    }
}

static void ge_add(ge_done *r, const ge_p3 *p, const ge_cached *q, int negate) { ge_add_any(r, p, q, negate, 0); }

/* ge_add for a q prepared (ge_to_cached) from a point with Z = 1. */
static void ge_madd(ge_done *r, const ge_p3 *p, const ge_cached *q, int negate) { ge_add_any(r, p, q, negate, 1); }

/* dbl-2008-hwcd for a = -1 (RFC 8032 §5.1.4): reads X, Y, Z only. */
static void ge_dbl(ge_done *r, const ge_p3 *p) {
    fe a, b, c, t;
    fe_sq(&a, &p->X);
    fe_sq(&b, &p->Y);
    fe_sq(&c, &p->Z);
    fe_add_lazy(&c, &c, &c);
    fe_add_lazy(&r->H, &a, &b);
    fe_add_lazy(&t, &p->X, &p->Y);
    fe_sq(&t, &t);
    fe_sub_lazy(&r->E, &r->H, &t);
    fe_sub_lazy(&r->G, &a, &b);
    fe_add_lazy(&r->F, &c, &r->G);
}

static void ge_add_p3(ge_p3 *r, const ge_p3 *p, const ge_p3 *q) {
    ge_cached c;
    ge_done d;
    ge_to_cached(&c, q);
    ge_add(&d, p, &c, 0);
    ge_done_to_p3(r, &d);
}

/* RFC 9496 §4.3.1. Returns 0 for a valid canonical encoding, -1 otherwise. */
static int ge_decode(ge_p3 *p, const uint8_t s_bytes[32]) {
    fe s, ss, u1, u2, u2_sqr, v, t, invsqrt, den_x, den_y;
    uint8_t again[32];
    fe_frombytes(&s, s_bytes);
    fe_tobytes(again, &s);
    /* Non-canonical (s >= p, or bit 255 set) or negative s. */
    if (memcmp(again, s_bytes, 32) != 0 || (again[0] & 1)) return -1;
    fe_sq(&ss, &s);
    fe_sub(&u1, &FE_ONE, &ss); /* 1 + a s^2 with a = -1 */
    fe_add(&u2, &FE_ONE, &ss); /* 1 - a s^2 */
    fe_sq(&u2_sqr, &u2);
    fe_sq(&t, &u1);
    fe_mul(&t, &t, &FE_D);
    fe_neg(&t, &t);
    fe_sub(&v, &t, &u2_sqr); /* -(d u1^2) - u2^2 */
    fe_mul(&t, &v, &u2_sqr);
    const int was_square = fe_sqrt_ratio_m1(&invsqrt, &FE_ONE, &t);
    fe_mul(&den_x, &invsqrt, &u2);
    fe_mul(&den_y, &invsqrt, &den_x);
    fe_mul(&den_y, &den_y, &v);
    fe_add(&t, &s, &s);
    fe_mul(&t, &t, &den_x);
    fe_abs(&p->X, &t);
    fe_mul(&p->Y, &u1, &den_y);
    p->Z = FE_ONE;
    fe_mul(&p->T, &p->X, &p->Y);
    if (!was_square || fe_is_negative(&p->T) || fe_is_zero(&p->Y)) return -1;
    return 0;
}

/* RFC 9496 §4.3.2. */
static void ge_encode(uint8_t out[32], const ge_p3 *p) {
    fe u1, u2, t, invsqrt, den1, den2, z_inv, ix0, iy0, x, y, den_inv;
    fe_add(&t, &p->Z, &p->Y);
    fe_sub(&u1, &p->Z, &p->Y);
    fe_mul(&u1, &t, &u1); /* (Z + Y)(Z - Y) */
    fe_mul(&u2, &p->X, &p->Y);
    fe_sq(&t, &u2);
    fe_mul(&t, &u1, &t);
    fe_sqrt_ratio_m1(&invsqrt, &FE_ONE, &t);
    fe_mul(&den1, &invsqrt, &u1);
    fe_mul(&den2, &invsqrt, &u2);
    fe_mul(&z_inv, &den1, &den2);
    fe_mul(&z_inv, &z_inv, &p->T);
    fe_mul(&ix0, &p->X, &FE_SQRT_M1);
    fe_mul(&iy0, &p->Y, &FE_SQRT_M1);
    fe_mul(&t, &p->T, &z_inv);
    if (fe_is_negative(&t)) { /* rotate */
        x = iy0;
        y = ix0;
        fe_mul(&den_inv, &den1, &FE_INVSQRT_A_MINUS_D);
    } else {
        x = p->X;
        y = p->Y;
        den_inv = den2;
    }
    fe_mul(&t, &x, &z_inv);
    if (fe_is_negative(&t)) fe_neg(&y, &y);
    fe_sub(&t, &p->Z, &y);
    fe_mul(&t, &den_inv, &t);
    fe_abs(&t, &t);
    fe_tobytes(out, &t);
}

/* ---------------------------------------------------------------------------------------------
 * Scalars: width-w NAF (Straus) and signed radix-2^c digits (Pippenger)
 * ------------------------------------------------------------------------------------------- */

#define NAF_LEN 256    /* a scalar below l < 2^253 has a wNAF of at most 254 digits */
#define STRAUS_W 5     /* odd multiples 1, 3, ..., 15 of every variable base */
#define FIXED_W 8      /* odd multiples 1, 3, ..., 127 in a precomputed table */
#define MAX_WINDOW 15  /* Pippenger digits fit int16_t */

static int scalar_is_reduced(const uint8_t s[32]) {
    for (int i = 31; i >= 0; i--) {
        if (s[i] < ORDER_L[i]) return 1;
        if (s[i] > ORDER_L[i]) return 0;
    }
    return 0; /* equal to l */
}

/* Width-w NAF: k = sum naf[i] 2^i with every nonzero digit odd, |digit| < 2^(w-1), and at least
 * w - 1 zeros after each nonzero digit. Returns one more than the highest nonzero index (0 for k = 0). */
static int wnaf(int8_t naf[NAF_LEN], const uint8_t s[32], int w) {
    uint64_t k[5] = {0, 0, 0, 0, 0};
    for (int i = 0; i < 4; i++)
        for (int j = 7; j >= 0; j--) k[i] = (k[i] << 8) | s[8 * i + j];
    memset(naf, 0, NAF_LEN);
    const int64_t width = (int64_t)1 << w, half = width >> 1;
    int i = 0, top = 0;
    while ((k[0] | k[1] | k[2] | k[3] | k[4]) != 0 && i < NAF_LEN) {
        if (k[0] & 1) {
            int64_t d = (int64_t)(k[0] & (uint64_t)(width - 1));
            if (d >= half) d -= width;
            naf[i] = (int8_t)d;
            top = i + 1;
            if (d > 0) {
                k[0] -= (uint64_t)d; /* only clears low bits: no borrow */
            } else {
                uint64_t add = (uint64_t)(-d);
                for (int j = 0; j < 5 && add; j++) {
                    k[j] += add;
                    add = k[j] < add;
                }
            }
        }
        for (int j = 0; j < 4; j++) k[j] = (k[j] >> 1) | (k[j + 1] << 63);
        k[4] >>= 1;
        i++;
    }
    return top;
}

/* Bits [pos, pos + c) of a 32-byte little-endian scalar (zero past bit 255), c <= 16. */
static uint32_t scalar_bits(const uint8_t s[32], int pos, int c) {
    uint32_t acc = 0;
    const int first = pos >> 3;
    for (int i = 0; i < 4; i++)
        if (first + i < 32) acc |= (uint32_t)s[first + i] << (8 * i);
    return (acc >> (pos & 7)) & ((1u << c) - 1);
}

/* ---------------------------------------------------------------------------------------------
 * Multi-scalar multiplication
 * ------------------------------------------------------------------------------------------- */

/* Odd multiples P, 3P, ..., (2 count - 1)P prepared for addition. */
static void odd_multiples(ge_cached *out, const ge_p3 *p, int count) {
    ge_p3 p2, acc;
    ge_done d;
    ge_to_cached(&out[0], p);
    if (count < 2) return;
    ge_dbl(&d, p);
    ge_done_to_p3(&p2, &d);
    acc = *p;
    for (int i = 1; i < count; i++) {
        ge_add(&d, &p2, &out[i - 1], 0);
        ge_done_to_p3(&acc, &d);
        ge_to_cached(&out[i], &acc);
    }
}

typedef struct {
    ge_cached odd[1 << (FIXED_W - 2)]; /* T, 3T, ..., 127T */
} fixed_table;

/* Straus: one shared chain of doublings; at bit i, every base whose digit is nonzero adds its
 * odd multiple. tables[j] holds 2^(w_j - 2) odd multiples for the digits nafs[j]. */
static void straus(ge_p3 *out, size_t count, const ge_cached *const *tables, const int8_t *nafs, int top) {
    ge_p3 r;
    ge_done d;
    ge_identity(out);
    if (top == 0) return;
    ge_identity(&r);
    for (int i = top - 1; i >= 0; i--) {
        ge_dbl(&d, &r);
        for (size_t j = 0; j < count; j++) {
            const int digit = nafs[j * NAF_LEN + (size_t)i];
            if (digit == 0) continue;
            ge_done_to_p3(&r, &d);
            if (digit > 0)
                ge_add(&d, &r, &tables[j][digit / 2], 0);
            else
                ge_add(&d, &r, &tables[j][(-digit) / 2], 1);
        }
        if (i == 0)
            ge_done_to_p3(out, &d);
        else
            ge_done_to_p2(&r, &d);
    }
}

static int pippenger_windows(int c) { return (253 + c - 1) / c + 1; /* one more for the last carry */ }

/* Pippenger with signed radix-2^c digits d in [-2^(c-1), 2^(c-1)]: per window, each base (with Z = 1,
 * as decoding and raw_load leave it; cached[j] prepared from pts[j]) goes into
 * bucket |d| (negated for d < 0), and sum_b b B_b is formed with two running sums; windows are
 * combined from the top by c doublings each. Returns -1 if out of memory. */
static int pippenger(ge_p3 *out, size_t n, const ge_p3 *pts, const ge_cached *cached, const uint8_t *scalars,
                     int c) {
    const int windows = pippenger_windows(c);
    const size_t nbuckets = (size_t)1 << (c - 1);
    int16_t *digits = PyMem_RawMalloc(n * (size_t)windows * sizeof(int16_t));
    ge_p3 *buckets = PyMem_RawMalloc(nbuckets * sizeof(ge_p3));
    uint8_t *filled = PyMem_RawMalloc(nbuckets);
    if (digits == NULL || buckets == NULL || filled == NULL) {
        PyMem_RawFree(digits);
        PyMem_RawFree(buckets);
        PyMem_RawFree(filled);
        return -1;
    }
    const int32_t radix = (int32_t)1 << c, half = radix >> 1;
    for (size_t j = 0; j < n; j++) {
        int32_t carry = 0;
        for (int w = 0; w < windows; w++) {
            int32_t v = (int32_t)scalar_bits(scalars + 32 * j, w * c, c) + carry;
            carry = v > half; /* the top window holds at most the last carry: bits >= 253 are 0 */
            digits[j * (size_t)windows + (size_t)w] = (int16_t)(carry ? v - radix : v);
        }
    }
    ge_identity(out);
    int started = 0;
    for (int w = windows - 1; w >= 0; w--) {
        if (started) {
            ge_done d;
            for (int i = 0; i < c; i++) {
                ge_dbl(&d, out);
                if (i + 1 < c)
                    ge_done_to_p2(out, &d);
                else
                    ge_done_to_p3(out, &d);
            }
        }
        memset(filled, 0, nbuckets);
        int any = 0;
        for (size_t j = 0; j < n; j++) {
            const int32_t digit = digits[j * (size_t)windows + (size_t)w];
            if (digit == 0) continue;
            const size_t b = (size_t)(digit > 0 ? digit : -digit) - 1;
            any = 1;
            if (!filled[b]) {
                buckets[b] = pts[j];
                if (digit < 0) {
                    fe_neg(&buckets[b].X, &buckets[b].X);
                    fe_neg(&buckets[b].T, &buckets[b].T);
                }
                filled[b] = 1;
            } else {
                ge_done d;
                ge_madd(&d, &buckets[b], &cached[j], digit < 0); /* every point here has Z = 1 */
                ge_done_to_p3(&buckets[b], &d);
            }
        }
        if (!any) continue;
        /* sum_b (b + 1) B_b = sum over b from the top of the running sum B_top + ... + B_b. */
        ge_p3 running, total;
        int have_running = 0, have_total = 0;
        for (size_t b = nbuckets; b-- > 0;) {
            if (filled[b]) {
                if (have_running)
                    ge_add_p3(&running, &running, &buckets[b]);
                else
                    running = buckets[b];
                have_running = 1;
            }
            if (have_running) {
                if (have_total)
                    ge_add_p3(&total, &total, &running);
                else
                    total = running;
                have_total = 1;
            }
        }
        if (started)
            ge_add_p3(out, out, &total);
        else
            *out = total;
        started = 1;
    }
    PyMem_RawFree(digits);
    PyMem_RawFree(buckets);
    PyMem_RawFree(filled);
    return 0;
}

/* Cost models in point additions (a doubling ~ 0.8 of one), for choosing the method and window. */
static double straus_cost(size_t n) { return (double)n * (254.0 / (STRAUS_W + 1) + (1 << (STRAUS_W - 2))) + 200.0; }

static int best_window(size_t n, double *cost) {
    int best = 1;
    double best_cost = -1;
    for (int c = 1; c <= MAX_WINDOW; c++) {
        const double cc = (double)pippenger_windows(c) * ((double)n + 2.0 * (double)((size_t)1 << (c - 1))) + 200.0;
        if (best_cost < 0 || cc < best_cost) {
            best_cost = cc;
            best = c;
        }
    }
    *cost = best_cost;
    return best;
}

/* ---------------------------------------------------------------------------------------------
 * Constant time, for secret scalars: a fixed base's table (the election key's) and g^a · P^b.
 * Nothing below branches on, or indexes memory by, a secret: digits pick table entries through
 * masks and the encoding chooses with masks. The bases and tables are public. Checked under
 * valgrind with the scalars marked undefined (tests/unit/groups/test_ristretto255_ct.py).
 * ------------------------------------------------------------------------------------------- */

/* f = g where flag (0 or 1) is 1. */
static inline void fe_cmov(fe *f, const fe *g, uint64_t flag) {
    const uint64_t mask = (uint64_t)0 - flag;
    for (int i = 0; i < 5; i++) f->v[i] ^= (f->v[i] ^ g->v[i]) & mask;
}

/* 1 if f = 0 mod p, else 0, without a comparison of secret bytes. */
static uint64_t fe_is_zero_ct(const fe *f) {
    uint8_t s[32];
    uint64_t acc = 0;
    fe_tobytes(s, f);
    for (int i = 0; i < 32; i++) acc |= s[i];
    return ((acc | (0 - acc)) >> 63) ^ 1; /* acc < 2^8, so acc | -acc has bit 63 set iff acc != 0 */
}

static uint64_t fe_is_negative_ct(const fe *f) {
    uint8_t s[32];
    fe_tobytes(s, f);
    return s[0] & 1;
}

static void fe_abs_ct(fe *h, const fe *f) {
    fe neg;
    fe_neg(&neg, f);
    *h = *f;
    fe_cmov(h, &neg, fe_is_negative_ct(f));
}

/* fe_sqrt_ratio_m1 with masks for its choices (u = 1 here: the encoding's inverse square root). */
static void fe_invsqrt_ct(fe *r, const fe *v) {
    fe v3, v7, t, check, neg_one, neg_i, r_i;
    fe_sq(&t, v);
    fe_mul(&v3, &t, v);
    fe_sq(&t, &v3);
    fe_mul(&v7, &t, v);
    fe_pow_p58(&t, &v7);
    fe_mul(r, &t, &v3); /* v^3 (v^7)^((p-5)/8) */
    fe_sq(&t, r);
    fe_mul(&check, v, &t);
    fe_neg(&neg_one, &FE_ONE);
    fe_mul(&neg_i, &neg_one, &FE_SQRT_M1);
    fe_sub(&t, &check, &neg_one);
    const uint64_t flipped = fe_is_zero_ct(&t);
    fe_sub(&t, &check, &neg_i);
    const uint64_t flipped_i = fe_is_zero_ct(&t);
    fe_mul(&r_i, r, &FE_SQRT_M1);
    fe_cmov(r, &r_i, flipped | flipped_i);
    fe_abs_ct(r, r);
}

/* RFC 9496 §4.3.2 as ge_encode, choosing with masks. */
static void ge_encode_ct(uint8_t out[32], const ge_p3 *p) {
    fe u1, u2, t, invsqrt, den1, den2, z_inv, ix0, iy0, x, y, den_inv, rot, ny;
    fe_add(&t, &p->Z, &p->Y);
    fe_sub(&u1, &p->Z, &p->Y);
    fe_mul(&u1, &t, &u1);
    fe_mul(&u2, &p->X, &p->Y);
    fe_sq(&t, &u2);
    fe_mul(&t, &u1, &t);
    fe_invsqrt_ct(&invsqrt, &t);
    fe_mul(&den1, &invsqrt, &u1);
    fe_mul(&den2, &invsqrt, &u2);
    fe_mul(&z_inv, &den1, &den2);
    fe_mul(&z_inv, &z_inv, &p->T);
    fe_mul(&ix0, &p->X, &FE_SQRT_M1);
    fe_mul(&iy0, &p->Y, &FE_SQRT_M1);
    fe_mul(&rot, &den1, &FE_INVSQRT_A_MINUS_D);
    fe_mul(&t, &p->T, &z_inv);
    const uint64_t rotate = fe_is_negative_ct(&t);
    x = p->X;
    y = p->Y;
    den_inv = den2;
    fe_cmov(&x, &iy0, rotate);
    fe_cmov(&y, &ix0, rotate);
    fe_cmov(&den_inv, &rot, rotate);
    fe_mul(&t, &x, &z_inv);
    fe_neg(&ny, &y);
    fe_cmov(&y, &ny, fe_is_negative_ct(&t));
    fe_sub(&t, &p->Z, &y);
    fe_mul(&t, &den_inv, &t);
    fe_abs_ct(&t, &t);
    fe_tobytes(out, &t);
}

static void ge_cached_identity(ge_cached *c) {
    c->YplusX = FE_ONE;
    c->YminusX = FE_ONE;
    c->Z2 = FE_ONE;
    fe_add(&c->Z2, &c->Z2, &FE_ONE);
    c->T2d = FE_ZERO;
}

static void ge_cached_cmov(ge_cached *c, const ge_cached *d, uint64_t flag) {
    fe_cmov(&c->YplusX, &d->YplusX, flag);
    fe_cmov(&c->YminusX, &d->YminusX, flag);
    fe_cmov(&c->Z2, &d->Z2, flag);
    fe_cmov(&c->T2d, &d->T2d, flag);
}

/* 1 if a = b (both below 2^8), else 0. */
static inline uint64_t byte_eq(uint64_t a, uint64_t b) { return ((a ^ b) - 1) >> 63; }

/* The entry for digit d in -8..8 of row[j] = (j + 1) B: all eight read, |d| selected, -B for d < 0. */
static void ct_select(ge_cached *out, const ge_cached row[8], int8_t d) {
    const uint64_t negative = (uint64_t)((uint8_t)d) >> 7;
    const uint64_t magnitude = (uint64_t)(uint8_t)(d - (int8_t)(((uint8_t)(0 - negative) & (uint8_t)d) << 1));
    ge_cached neg;
    ge_cached_identity(out);
    for (uint64_t j = 0; j < 8; j++) ge_cached_cmov(out, &row[j], byte_eq(magnitude, j + 1));
    neg.YplusX = out->YminusX; /* -(X, Y, Z, T) = (-X, Y, Z, -T) */
    neg.YminusX = out->YplusX;
    neg.Z2 = out->Z2;
    fe_neg(&neg.T2d, &out->T2d);
    ge_cached_cmov(out, &neg, negative);
}

/* The scalar (below l < 2^253) as 64 signed radix-16 digits in -8..8, without branches. */
static void recode16(int8_t e[64], const uint8_t s[32]) {
    int8_t carry = 0;
    for (int i = 0; i < 32; i++) {
        e[2 * i] = (int8_t)(s[i] & 15);
        e[2 * i + 1] = (int8_t)((s[i] >> 4) & 15);
    }
    for (int i = 0; i < 63; i++) {
        e[i] = (int8_t)(e[i] + carry);
        carry = (int8_t)((e[i] + 8) >> 4);
        e[i] = (int8_t)(e[i] - carry * 16);
    }
    e[63] = (int8_t)(e[63] + carry);
}

/* row[j] = (j + 1) P for j = 0 … 7 (P public: computed in variable time). */
static void ct_rows(ge_cached row[8], const ge_p3 *p) {
    ge_p3 m = *p;
    ge_done d;
    ge_to_cached(&row[0], p);
    for (int j = 1; j < 8; j++) {
        ge_add(&d, &m, &row[0], 0);
        ge_done_to_p3(&m, &d);
        ge_to_cached(&row[j], &m);
    }
}

/* table[i][j] = (j + 1) 16^i B: 64 rows of 8, so B^k is 64 selections and additions, no doublings. */
typedef struct {
    ge_cached row[64][8];
} ct_table;

static void ct_table_build(ct_table *t, const ge_p3 *b) {
    ge_p3 base = *b;
    ge_done d;
    for (int i = 0; i < 64; i++) {
        ct_rows(t->row[i], &base);
        ge_dbl(&d, &base); /* 16^(i+1) B */
        ge_done_to_p2(&base, &d);
        ge_dbl(&d, &base);
        ge_done_to_p2(&base, &d);
        ge_dbl(&d, &base);
        ge_done_to_p2(&base, &d);
        ge_dbl(&d, &base);
        ge_done_to_p3(&base, &d);
    }
}

/* acc += k T for a fixed-base table T (k secret). */
static void ct_fixed_add(ge_p3 *acc, const ct_table *t, const uint8_t k[32]) {
    int8_t e[64];
    ge_cached c;
    ge_done d;
    recode16(e, k);
    for (int i = 0; i < 64; i++) {
        ct_select(&c, t->row[i], e[i]);
        ge_add(&d, acc, &c, 0);
        ge_done_to_p3(acc, &d);
    }
}

/* acc = sum k_j P_j for public points and secret scalars (digits from recode16, rows from
 * ct_rows): one chain of 252 doublings shared by all terms, and per digit of each term one
 * selection over its eight multiples and one addition. */
static void ct_multi_mul(ge_p3 *acc, size_t n, const ge_cached *rows, const int8_t *digits) {
    ge_cached c;
    ge_done d;
    ge_identity(acc);
    for (int i = 63; i >= 0; i--) {
        for (int r = 0; r < 4; r++) {
            ge_dbl(&d, acc);
            if (r < 3)
                ge_done_to_p2(acc, &d);
            else
                ge_done_to_p3(acc, &d);
        }
        for (size_t j = 0; j < n; j++) {
            ct_select(&c, rows + 8 * j, digits[64 * j + (size_t)i]);
            ge_add(&d, acc, &c, 0);
            ge_done_to_p3(acc, &d);
        }
    }
}

/* acc = k P for a public point P and a secret k. */
static void ct_var_mul(ge_p3 *acc, const ge_p3 *p, const uint8_t k[32]) {
    int8_t e[64];
    ge_cached row[8];
    ct_rows(row, p);
    recode16(e, k);
    ct_multi_mul(acc, 1, row, e);
}

#ifndef DEGCORE_CT_HARNESS
/* ---------------------------------------------------------------------------------------------
 * Python interface
 * ------------------------------------------------------------------------------------------- */

#define TABLE_CAPSULE "degcore.groups._ristretto255.table"

static void table_free(PyObject *capsule) {
    PyMem_RawFree(PyCapsule_GetPointer(capsule, TABLE_CAPSULE));
}

static int check_len(const Py_buffer *b, const char *what) {
    if (b->len % 32 != 0) {
        PyErr_Format(PyExc_ValueError, "%s: length %zd is not a multiple of 32", what, b->len);
        return -1;
    }
    return 0;
}

/* Decode the one 32-byte encoding ``arg``: 0, or -1 with ValueError set. */
static int decode_arg(PyObject *arg, ge_p3 *p) {
    Py_buffer in;
    if (PyObject_GetBuffer(arg, &in, PyBUF_SIMPLE) < 0) return -1;
    const Py_ssize_t len = in.len;
    const int bad = len != 32 || ge_decode(p, in.buf) != 0;
    PyBuffer_Release(&in);
    if (bad) {
        PyErr_SetString(PyExc_ValueError,
                        len != 32 ? "a ristretto255 encoding is 32 bytes" : "not a canonical ristretto255 encoding");
        return -1;
    }
    return 0;
}

static PyObject *py_decode(PyObject *self, PyObject *arg) {
    ge_p3 p;
    uint8_t out[32];
    (void)self;
    if (decode_arg(arg, &p) < 0) return NULL;
    ge_encode(out, &p);
    return PyBytes_FromStringAndSize((const char *)out, 32);
}

/* A decoded point as Python keeps it beside its encoding: X, Y and T of the extended coordinates,
 * Z being 1 after decoding. Passing these to multi_exp(raw=1) skips its decoding (the inverse
 * square root, half the cost of a term in a large Pippenger). */
#define RAW_POINT (3 * sizeof(fe))

static void raw_store(uint8_t *out, const ge_p3 *p) {
    memcpy(out, &p->X, sizeof(fe));
    memcpy(out + sizeof(fe), &p->Y, sizeof(fe));
    memcpy(out + 2 * sizeof(fe), &p->T, sizeof(fe));
}

static void raw_load(ge_p3 *p, const uint8_t *in) {
    memcpy(&p->X, in, sizeof(fe));
    memcpy(&p->Y, in + sizeof(fe), sizeof(fe));
    memcpy(&p->T, in + 2 * sizeof(fe), sizeof(fe));
    p->Z = FE_ONE;
}

static PyObject *py_decode_point(PyObject *self, PyObject *arg) {
    ge_p3 p;
    uint8_t out[RAW_POINT];
    (void)self;
    if (decode_arg(arg, &p) < 0) return NULL;
    raw_store(out, &p);
    return PyBytes_FromStringAndSize((const char *)out, RAW_POINT);
}

/* Decode n concatenated encodings at once: a list of n decoded points, or ValueError naming the
 * first invalid one. One call for a proof's or a row's elements instead of one each. */
static PyObject *py_decode_points(PyObject *self, PyObject *arg) {
    Py_buffer in;
    (void)self;
    if (PyObject_GetBuffer(arg, &in, PyBUF_SIMPLE) < 0) return NULL;
    if (check_len(&in, "decode_points") < 0) {
        PyBuffer_Release(&in);
        return NULL;
    }
    const Py_ssize_t n = in.len / 32;
    const uint8_t *buf = in.buf;
    PyObject *out = PyList_New(n);
    if (out == NULL) goto fail;
    for (Py_ssize_t i = 0; i < n; i++) {
        ge_p3 p;
        if (ge_decode(&p, buf + 32 * i) != 0) {
            PyErr_Format(PyExc_ValueError, "element %zd: not a canonical ristretto255 encoding", i);
            goto fail;
        }
        PyObject *point = PyBytes_FromStringAndSize(NULL, RAW_POINT);
        if (point == NULL) goto fail;
        raw_store((uint8_t *)PyBytes_AS_STRING(point), &p);
        PyList_SET_ITEM(out, i, point);
    }
    PyBuffer_Release(&in);
    return out;
fail:
    Py_XDECREF(out); /* a list's unset items are NULL, which its deallocation skips */
    PyBuffer_Release(&in);
    return NULL;
}

static PyObject *py_precompute(PyObject *self, PyObject *arg) {
    ge_p3 p;
    (void)self;
    if (decode_arg(arg, &p) < 0) return NULL;
    fixed_table *t = PyMem_RawMalloc(sizeof(fixed_table));
    if (t == NULL) return PyErr_NoMemory();
    odd_multiples(t->odd, &p, 1 << (FIXED_W - 2));
    PyObject *capsule = PyCapsule_New(t, TABLE_CAPSULE, table_free);
    if (capsule == NULL) PyMem_RawFree(t);
    return capsule;
}

/* The state of one multi_exp call, freed in one place. */
typedef struct {
    ge_p3 *pts;
    ge_cached *cached;
    const ge_cached **tables;
    int8_t *nafs;
} msm_work;

static void msm_free(msm_work *w) {
    PyMem_RawFree(w->pts);
    PyMem_RawFree(w->cached);
    PyMem_RawFree((void *)w->tables);
    PyMem_RawFree(w->nafs);
}

static PyObject *py_multi_exp(PyObject *self, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"points", "scalars", "tables", "table_scalars", "method", "raw", NULL};
    Py_buffer points, scalars, table_scalars = {0};
    PyObject *tables = NULL, *result = NULL, *seq = NULL;
    int method = 0, raw = 0;
    msm_work w = {NULL, NULL, NULL, NULL};
    ge_p3 acc;
    uint8_t out[32];
    (void)self;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*y*|Oy*ii:multi_exp", keywords, &points, &scalars, &tables,
                                     &table_scalars, &method, &raw))
        return NULL;
    const size_t record = raw ? RAW_POINT : 32;
    const size_t n = (size_t)points.len / record;
    size_t nf = 0;
    if ((size_t)points.len % record != 0) {
        PyErr_Format(PyExc_ValueError, "points: length %zd is not a multiple of %zu", points.len, record);
        goto done;
    }
    if ((size_t)scalars.len != 32 * n) {
        PyErr_SetString(PyExc_ValueError, "multi_exp: one 32-byte scalar per point");
        goto done;
    }
    if (tables != NULL && tables != Py_None) {
        seq = PySequence_Fast(tables, "multi_exp: tables must be a sequence");
        if (seq == NULL) goto done;
        nf = (size_t)PySequence_Fast_GET_SIZE(seq);
    }
    if ((size_t)(table_scalars.buf == NULL ? 0 : table_scalars.len) != 32 * nf) {
        PyErr_SetString(PyExc_ValueError, "multi_exp: one 32-byte scalar per table");
        goto done;
    }
    if (method < -1 || method > MAX_WINDOW) {
        PyErr_SetString(PyExc_ValueError, "multi_exp: method is 0 (choose), -1 (Straus) or a window 1..15");
        goto done;
    }
    const uint8_t *ks = scalars.buf;
    const uint8_t *fks = table_scalars.buf;
    for (size_t j = 0; j < n + nf; j++) {
        if (!scalar_is_reduced(j < n ? ks + 32 * j : fks + 32 * (j - n))) {
            PyErr_Format(PyExc_ValueError, "multi_exp: scalar %zu is not below the group order", j);
            goto done;
        }
    }
    w.pts = PyMem_RawMalloc((n ? n : 1) * sizeof(ge_p3));
    if (w.pts == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (size_t j = 0; j < n; j++) {
        if (raw) {
            raw_load(&w.pts[j], (const uint8_t *)points.buf + RAW_POINT * j);
        } else if (ge_decode(&w.pts[j], (const uint8_t *)points.buf + 32 * j) != 0) {
            PyErr_Format(PyExc_ValueError, "multi_exp: point %zu is not a canonical ristretto255 encoding", j);
            goto done;
        }
    }
    double pip_cost = 0;
    const int window = method > 0 ? method : best_window(n, &pip_cost);
    const int use_pippenger = method > 0 || (method == 0 && pip_cost < straus_cost(n));
    /* Straus takes the tables and (unless Pippenger does) the points; count its terms. */
    const size_t ns = nf + (use_pippenger ? 0 : n);
    const size_t odd_per_point = (size_t)1 << (STRAUS_W - 2);
    w.tables = PyMem_RawMalloc((ns ? ns : 1) * sizeof(ge_cached *));
    w.nafs = PyMem_RawMalloc((ns ? ns : 1) * NAF_LEN);
    if (use_pippenger)
        w.cached = PyMem_RawMalloc((n ? n : 1) * sizeof(ge_cached));
    else
        w.cached = PyMem_RawMalloc((n ? n : 1) * odd_per_point * sizeof(ge_cached));
    if (w.tables == NULL || w.nafs == NULL || w.cached == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    int top = 0;
    for (size_t j = 0; j < nf; j++) {
        PyObject *capsule = PySequence_Fast_GET_ITEM(seq, (Py_ssize_t)j);
        fixed_table *t = PyCapsule_GetPointer(capsule, TABLE_CAPSULE);
        if (t == NULL) goto done;
        w.tables[j] = t->odd;
        const int len = wnaf(w.nafs + j * NAF_LEN, fks + 32 * j, FIXED_W);
        if (len > top) top = len;
    }
    if (use_pippenger && n == 0) {
        ge_identity(&acc);
    } else if (use_pippenger) {
        for (size_t j = 0; j < n; j++) ge_to_cached(&w.cached[j], &w.pts[j]);
        if (pippenger(&acc, n, w.pts, w.cached, ks, window) < 0) {
            PyErr_NoMemory();
            goto done;
        }
    } else {
        for (size_t j = 0; j < n; j++) {
            const int8_t *naf = w.nafs + (nf + j) * NAF_LEN;
            const int len = wnaf(w.nafs + (nf + j) * NAF_LEN, ks + 32 * j, STRAUS_W);
            if (len > top) top = len;
            /* Only the odd multiples the digits use (a scalar 1, as in a plain sum, needs P alone). */
            int largest = 1;
            for (int i = 0; i < len; i++) {
                const int digit = naf[i] < 0 ? -naf[i] : naf[i];
                if (digit > largest) largest = digit;
            }
            odd_multiples(w.cached + j * odd_per_point, &w.pts[j], (largest + 1) / 2);
            w.tables[nf + j] = w.cached + j * odd_per_point;
        }
        ge_identity(&acc);
    }
    if (ns > 0) {
        ge_p3 part;
        straus(&part, ns, w.tables, w.nafs, top);
        ge_add_p3(&acc, &acc, &part);
    }
    ge_encode(out, &acc);
    result = PyBytes_FromStringAndSize((const char *)out, 32);
done:
    msm_free(&w);
    Py_XDECREF(seq);
    PyBuffer_Release(&points);
    PyBuffer_Release(&scalars);
    if (table_scalars.buf != NULL) PyBuffer_Release(&table_scalars);
    return result;
}

static PyObject *py_sum(PyObject *self, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"points", "raw", NULL};
    Py_buffer in;
    int raw = 0;
    ge_p3 acc, p;
    uint8_t out[32];
    (void)self;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*|i:sum", keywords, &in, &raw)) return NULL;
    const size_t record = raw ? RAW_POINT : 32;
    if ((size_t)in.len % record != 0) {
        PyErr_Format(PyExc_ValueError, "points: length %zd is not a multiple of %zu", in.len, record);
        PyBuffer_Release(&in);
        return NULL;
    }
    const uint8_t *bytes = in.buf;
    const Py_ssize_t n = in.len / (Py_ssize_t)record;
    ge_identity(&acc);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (raw) {
            raw_load(&p, bytes + record * (size_t)i);
        } else if (ge_decode(&p, bytes + 32 * i)) {
            PyBuffer_Release(&in);
            PyErr_Format(PyExc_ValueError, "point %zd is not a canonical ristretto255 encoding", i);
            return NULL;
        }
        ge_add_p3(&acc, &acc, &p);
    }
    PyBuffer_Release(&in);
    ge_encode(out, &acc);
    return PyBytes_FromStringAndSize((const char *)out, 32);
}

#define CT_CAPSULE "degcore.groups._ristretto255.ct_table"

static void ct_table_free(PyObject *capsule) { PyMem_RawFree(PyCapsule_GetPointer(capsule, CT_CAPSULE)); }

static PyObject *py_precompute_ct(PyObject *self, PyObject *arg) {
    ge_p3 p;
    (void)self;
    if (decode_arg(arg, &p) < 0) return NULL;
    ct_table *t = PyMem_RawMalloc(sizeof(ct_table));
    if (t == NULL) return PyErr_NoMemory();
    ct_table_build(t, &p);
    PyObject *capsule = PyCapsule_New(t, CT_CAPSULE, ct_table_free);
    if (capsule == NULL) PyMem_RawFree(t);
    return capsule;
}

/* ct_exp(table, k, point=b"", k2=b""): k T (+ k2 P) for secret 32-byte scalars below l. */
static PyObject *py_ct_exp(PyObject *self, PyObject *args) {
    PyObject *capsule;
    Py_buffer k, point = {0}, k2 = {0};
    PyObject *result = NULL;
    ge_p3 acc, p;
    uint8_t out[32];
    (void)self;
    if (!PyArg_ParseTuple(args, "Oy*|y*y*:ct_exp", &capsule, &k, &point, &k2)) return NULL;
    const ct_table *t = PyCapsule_GetPointer(capsule, CT_CAPSULE);
    if (t == NULL) goto done;
    const int with_point = point.buf != NULL && point.len > 0;
    if (k.len != 32 || (with_point && (point.len != 32 || k2.buf == NULL || k2.len != 32))) {
        PyErr_SetString(PyExc_ValueError, "ct_exp: 32-byte scalars, and a 32-byte point with its scalar");
        goto done;
    }
    /* Whether a scalar is reduced is public (the caller reduces every one); refuse the others. */
    if (!scalar_is_reduced(k.buf) || (with_point && !scalar_is_reduced(k2.buf))) {
        PyErr_SetString(PyExc_ValueError, "ct_exp: a scalar is not below the group order");
        goto done;
    }
    if (with_point) {
        if (ge_decode(&p, point.buf) != 0) {
            PyErr_SetString(PyExc_ValueError, "ct_exp: the point is not a canonical ristretto255 encoding");
            goto done;
        }
        ct_var_mul(&acc, &p, k2.buf);
    } else {
        ge_identity(&acc);
    }
    ct_fixed_add(&acc, t, k.buf);
    ge_encode_ct(out, &acc);
    result = PyBytes_FromStringAndSize((const char *)out, 32);
done:
    PyBuffer_Release(&k);
    if (point.buf != NULL) PyBuffer_Release(&point);
    if (k2.buf != NULL) PyBuffer_Release(&k2);
    return result;
}

/* ct_multi(points, scalars): sum k_j P_j, public 32-byte points, SECRET 32-byte scalars below l. */
static PyObject *py_ct_multi(PyObject *self, PyObject *args) {
    Py_buffer points, scalars;
    PyObject *result = NULL;
    ge_cached *rows = NULL;
    int8_t *digits = NULL;
    ge_p3 acc, p;
    uint8_t out[32];
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*:ct_multi", &points, &scalars)) return NULL;
    const size_t n = (size_t)points.len / 32;
    if (points.len % 32 != 0 || scalars.len != points.len) {
        PyErr_SetString(PyExc_ValueError, "ct_multi: 32-byte points, one 32-byte scalar each");
        goto done;
    }
    rows = PyMem_RawMalloc((n ? n : 1) * 8 * sizeof(ge_cached));
    digits = PyMem_RawMalloc((n ? n : 1) * 64);
    if (rows == NULL || digits == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (size_t j = 0; j < n; j++) {
        const uint8_t *k = (const uint8_t *)scalars.buf + 32 * j;
        if (!scalar_is_reduced(k)) { /* public: the caller reduces every scalar */
            PyErr_Format(PyExc_ValueError, "ct_multi: scalar %zu is not below the group order", j);
            goto done;
        }
        if (ge_decode(&p, (const uint8_t *)points.buf + 32 * j) != 0) {
            PyErr_Format(PyExc_ValueError, "ct_multi: point %zu is not a canonical ristretto255 encoding", j);
            goto done;
        }
        ct_rows(rows + 8 * j, &p);
        recode16(digits + 64 * j, k);
    }
    ct_multi_mul(&acc, n, rows, digits);
    ge_encode_ct(out, &acc);
    result = PyBytes_FromStringAndSize((const char *)out, 32);
done:
    if (digits != NULL) memset(digits, 0, (n ? n : 1) * 64); /* the secret's digits */
    PyMem_RawFree(rows);
    PyMem_RawFree(digits);
    PyBuffer_Release(&points);
    PyBuffer_Release(&scalars);
    return result;
}

/* ct_fixed2(t1, k1, t2, k2): k1 T1 + k2 T2 over two fixed-base tables, SECRET scalars, no doublings. */
static PyObject *py_ct_fixed2(PyObject *self, PyObject *args) {
    PyObject *c1, *c2, *result = NULL;
    Py_buffer k1, k2;
    ge_p3 acc;
    uint8_t out[32];
    (void)self;
    if (!PyArg_ParseTuple(args, "Oy*Oy*:ct_fixed2", &c1, &k1, &c2, &k2)) return NULL;
    const ct_table *t1 = PyCapsule_GetPointer(c1, CT_CAPSULE);
    const ct_table *t2 = t1 == NULL ? NULL : PyCapsule_GetPointer(c2, CT_CAPSULE);
    if (t2 == NULL) goto done;
    if (k1.len != 32 || k2.len != 32 || !scalar_is_reduced(k1.buf) || !scalar_is_reduced(k2.buf)) {
        PyErr_SetString(PyExc_ValueError, "ct_fixed2: two 32-byte scalars below the group order");
        goto done;
    }
    ge_identity(&acc);
    ct_fixed_add(&acc, t1, k1.buf);
    ct_fixed_add(&acc, t2, k2.buf);
    ge_encode_ct(out, &acc);
    result = PyBytes_FromStringAndSize((const char *)out, 32);
done:
    PyBuffer_Release(&k1);
    PyBuffer_Release(&k2);
    return result;
}

static PyMethodDef methods[] = {
    {"sum", (PyCFunction)(void (*)(void))py_sum, METH_VARARGS | METH_KEYWORDS,
     "sum(points: bytes, raw=0) -> bytes: the encoding of the sum of the 32-byte points (ValueError if "
     "one is invalid); variable time (public data only). raw=1: the points are decode_point's results."},
    {"decode", py_decode, METH_O,
     "decode(data: bytes) -> bytes: check an RFC 9496 encoding (ValueError if invalid) and re-encode it."},
    {"decode_points", py_decode_points, METH_O,
     "decode_points(data: bytes) -> list[bytes]: check n concatenated RFC 9496 encodings (ValueError "
     "naming the first invalid one) and return their decoded points for multi_exp(raw=1)."},
    {"decode_point", py_decode_point, METH_O,
     "decode_point(data: bytes) -> bytes: check an RFC 9496 encoding (ValueError if invalid) and return "
     "the decoded point for multi_exp(raw=1)."},
    {"ct_multi", py_ct_multi, METH_VARARGS,
     "ct_multi(points, scalars) -> bytes: the encoding of sum k_j P_j for public 32-byte points and "
     "SECRET 32-byte scalars below l, in constant time in the scalars."},
    {"ct_fixed2", py_ct_fixed2, METH_VARARGS,
     "ct_fixed2(t1, k1, t2, k2) -> bytes: k1 T1 + k2 T2 over two precompute_ct tables, SECRET scalars, "
     "constant time."},
    {"precompute_ct", py_precompute_ct, METH_O,
     "precompute_ct(point: bytes) -> table: a public base's table for ct_exp (64 rows of 8 multiples)."},
    {"ct_exp", py_ct_exp, METH_VARARGS,
     "ct_exp(table, k, point=b'', k2=b'') -> bytes: the encoding of k T + k2 P for SECRET scalars "
     "below l, in constant time (no branch or memory index depends on k or k2); T, P public."},
    {"precompute", py_precompute, METH_O,
     "precompute(point: bytes) -> table: odd multiples of a fixed public base for multi_exp's tables."},
    {"multi_exp", (PyCFunction)(void (*)(void))py_multi_exp, METH_VARARGS | METH_KEYWORDS,
     "multi_exp(points, scalars, tables=(), table_scalars=b'', method=0) -> bytes: the encoding of "
     "sum k_i P_i + sum t_j T_j over 32-byte points and little-endian scalars below l; variable time "
     "(public data only). method: 0 chooses, -1 forces Straus, c > 0 forces Pippenger of window c. "
     "raw=1: the points are decode_point's results, not encodings."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_ristretto255",
    "ristretto255 (RFC 9496) for degcore: variable-time decoding, encoding and multi-scalar "
    "multiplication for public data, and constant-time fixed-base and two-base multiplication "
    "(ct_exp) for secret scalars.",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__ristretto255(void) { return PyModule_Create(&module); }
#endif /* DEGCORE_CT_HARNESS */
