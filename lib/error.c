/*
 * error.c - status codes, their texts, and the message kept on a handle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pfi-int.h"

const char *pfi_strerror(int code)
{
	switch (code) {
	case PFI_OK: return "success";
	case PFI_ERROR: return "error";
	case PFI_ENOMEM: return "out of memory";
	case PFI_EIO: return "input/output error";
	case PFI_EPARSE: return "cannot parse input";
	case PFI_ENOTFOUND: return "not found";
	case PFI_EINVAL: return "invalid argument";
	case PFI_ESCHEMA: return "not a pfi index or unknown schema version";
	case PFI_EOF: return "end of input";
	case PFI_EBUSY: return "index is busy";
	}
	return "unknown error";
}

int pfi_err_set(struct pfi_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void pfi_err_clear(struct pfi_err *err)
{
	if (err == NULL)
		return;
	err->code = PFI_OK;
	err->msg[0] = '\0';
}

int pfi_opts_version(struct pfi_err *err, unsigned int version,
                     unsigned int known, const char *what)
{
	if (version >= 1 && version <= known)
		return PFI_OK;
	return pfi_err_set(err, PFI_EINVAL, "%s version %u is not one this"
	                   " libpfi knows (1 to %u)", what, version, known);
}
