/* Unit tests of siphash against the test vectors of the SipHash paper (appendix A). */
#include "siphash.h"
#include "test.h"

static void paper_vectors(void)
{
    uint8_t key[16], msg[15];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 15; i++)
        msg[i] = (uint8_t)i;
    CHECK(siphash(msg, 15, key) == 0xa129ca6149be45e5ULL);
    CHECK(siphash(msg, 0, key) == 0x726fdb47dd0e0e31ULL);
}

static void the_key_changes_the_hash(void)
{
    uint8_t k1[16] = {0}, k2[16] = {1};
    CHECK(siphash("foo/bar", 7, k1) != siphash("foo/bar", 7, k2));
    CHECK(siphash("foo/bar", 7, k1) == siphash("foo/bar", 7, k1));
}

int main(void)
{
    RUN(paper_vectors);
    RUN(the_key_changes_the_hash);
    return test_main_end("siphash");
}
