/*
 * siphash: SipHash-2-4, a keyed 64-bit hash. Pure.
 *
 * The counter table hashes names that clients choose. With a fixed hash an
 * attacker can pick names that all land in one bucket and turn every hit
 * into a long scan; with a secret random key (drawn at start-up) they
 * cannot. Reference: Aumasson and Bernstein, "SipHash: a fast short-input
 * PRF" (2012).
 */
#ifndef GHIT_SIPHASH_H
#define GHIT_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t siphash(const void *data, size_t len, const uint8_t key[16]);

#endif
