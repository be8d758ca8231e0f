/* Constant-time check of ct_exp's arithmetic (run by tests/unit/groups/test_ristretto255_ct.py).
 *
 * Compiles the extension's arithmetic without Python (DEGCORE_CT_HARNESS), marks the secret
 * scalars as undefined for valgrind's memcheck, and runs the fixed-base and two-base paths: any
 * branch or memory index that depends on a secret bit is then a memcheck error. The result's
 * bytes are marked defined again before they are compared, which is what a caller does.
 */
#define DEGCORE_CT_HARNESS 1
#include "../../src/degcore/groups/_ristretto255.c"

#include <stdio.h>
#include <valgrind/memcheck.h>

/* The RFC 9496 base point's encoding (generator_multiples[1] of the RFC 9496 A.1 vectors). */
static const uint8_t BASE[32] = {0xe2, 0xf2, 0xae, 0x0a, 0x6a, 0xbc, 0x4e, 0x71, 0xa8, 0x84, 0xa9,
                                 0x61, 0xc5, 0x00, 0x51, 0x5f, 0x58, 0xe3, 0x0b, 0x6a, 0xa5, 0x82,
                                 0xdd, 0x8d, 0xb6, 0xa6, 0x59, 0x45, 0xe0, 0x8d, 0x2d, 0x76};

/* With "control", the variable-time encoding instead of ge_encode_ct: memcheck must then report
 * errors, which shows that the check can fail. */
int main(int argc, char **argv) {
    const int control = argc > 1 && strcmp(argv[1], "control") == 0;
    ge_p3 b, acc;
    static ct_table table;
    uint8_t k1[32], k2[32], out[32];
    if (ge_decode(&b, BASE) != 0) return 2;
    ct_table_build(&table, &b);
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 32; i++) {
            k1[i] = (uint8_t)(37 * i + 11 * round + 1);
            k2[i] = (uint8_t)(91 * i + 7 * round + 3);
        }
        k1[31] &= 0x0f; /* below l */
        k2[31] &= 0x0f;
        VALGRIND_MAKE_MEM_UNDEFINED(k1, 32);
        VALGRIND_MAKE_MEM_UNDEFINED(k2, 32);
        ct_var_mul(&acc, &b, k2);
        ct_fixed_add(&acc, &table, k1);
        ct_fixed_add(&acc, &table, k2); /* ct_fixed2's second table */
        {
            /* ct_multi's core over two terms, both scalars secret. */
            ge_cached rows[16];
            int8_t digits[128];
            ge_p3 m = b, sum;
            ge_done d;
            for (int t = 0; t < 2; t++) {
                ct_rows(rows + 8 * t, &m);
                ge_dbl(&d, &m);
                ge_done_to_p3(&m, &d);
            }
            recode16(digits, k1);
            recode16(digits + 64, k2);
            ct_multi_mul(&sum, 2, rows, digits);
            ge_add_p3(&acc, &acc, &sum);
        }
        if (control)
            ge_encode(out, &acc);
        else
            ge_encode_ct(out, &acc);
        VALGRIND_MAKE_MEM_DEFINED(out, 32);
        printf("%02x", out[0]);
    }
    printf("\n");
    return 0;
}
