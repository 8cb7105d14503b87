/*
 * version.c - the library version, from configure.
 */
#include "config.h"
#include "pfi-int.h"

const char *pfi_version(void)
{
	return PACKAGE_VERSION;
}
