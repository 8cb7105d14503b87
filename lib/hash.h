/*
 * hash.h - pfi's one hash function: FNV-1a, 64 bits.
 *
 * It keys the in-memory tables (htab.h: the correlator's messages and
 * sessions, smap.h) and fingerprints the first bytes of every indexed file
 * (files.fp_hash in the index).  Those fingerprints are stored, so this
 * must stay FNV-1a 64 bit for bit: the offset basis below, the FNV prime
 * 0x100000001b3, one byte at a time, xor then multiply.
 *
 * Hash several pieces by chaining: h = pfi_hash_bytes(PFI_HASH_INIT, a, an);
 * h = pfi_hash_bytes(h, b, bn).
 */
#ifndef PFI_HASH_H
#define PFI_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The FNV-1a 64 offset basis: the hash of no bytes. */
#define PFI_HASH_INIT 0xcbf29ce484222325ULL

/* FNV-1a 64 of the n bytes at p, continuing from the hash h. */
static inline uint64_t pfi_hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

#endif
