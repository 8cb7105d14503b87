/*
 * addr.c - mail addresses.
 */
#include <string.h>

#include "pfi-int.h"

const char *pfi_addr_domain(const char *addr, char *buf, size_t size)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;
	size_t i;

	if (at == NULL || at[1] == '\0')
		return NULL;
	for (i = 0; at[1 + i] && i + 1 < size; i++) {
		char ch = at[1 + i];
		buf[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
	}
	buf[i] = '\0';
	return buf;
}
