/*
 * failmalloc.c - a shim that test_faults preloads (LD_PRELOAD) into the
 * pfi command to fail its allocations: every malloc, calloc and realloc
 * of the process (pfi's, libpfi's, SQLite's, zstd's, libc's own) counts,
 * and once PFI_FAIL_MALLOC_AFTER=N of them have succeeded the next one
 * fails (NULL, errno ENOMEM), and so does every later one unless
 * PFI_FAIL_MALLOC_ONCE is set.  PFI_FAIL_MALLOC_COUNT=FILE receives, at
 * exit, how many were made: a clean run tells how many points there are.
 *
 * Only a process named pfi counts, or lt-pfi: in the build tree, pfi is
 * a libtool wrapper script, whose shell must not fail, that runs it.
 * And only from main() on: the constructors of the libraries pfi links
 * (GnuTLS, under libmicrohttpd) run before any code of pfi's and cannot
 * be answered by it, so failing them tests nothing of pfi.
 *
 * The real allocator is the next one (dlsym RTLD_NEXT): libc's, or
 * AddressSanitizer's in a sanitized build.  dlsym may itself allocate,
 * so until it has answered, allocations come from a small static arena,
 * which free() leaves alone.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);

static unsigned long calls;                 /* counted so far */
static unsigned long fail_after = ULONG_MAX;
static int fail_once;
static int counting;                        /* this process is pfi, in main */

/* The arena of the allocations made before the real allocator is known;
 * each is preceded by its size, for realloc. */
#define ALIGN 16
static _Alignas(ALIGN) char arena[64 * 1024];
static size_t arena_used;

static void *arena_alloc(size_t n)
{
	size_t need = ALIGN + ((n + ALIGN - 1) & ~(size_t)(ALIGN - 1));
	char *p;

	if (need > sizeof(arena) - arena_used)
		return NULL;
	p = arena + arena_used;
	arena_used += need;
	memcpy(p, &n, sizeof(n));
	return p + ALIGN;
}

static int in_arena(const void *p)
{
	return (const char *)p >= arena && (const char *)p < arena + sizeof(arena);
}

static size_t arena_size(const void *p)
{
	size_t n;

	memcpy(&n, (const char *)p - ALIGN, sizeof(n));
	return n;
}

/* Finds the real allocator, at the first allocation: the constructors of
 * other libraries (GnuTLS's) may allocate before this one's has run.
 * While dlsym works, its own allocations come from the arena. */
static void resolve(void)
{
	static int busy;

	if (real_malloc != NULL || busy)
		return;
	busy = 1;
	real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	busy = 0;
}

__attribute__((constructor))
static void failmalloc_init(void)
{
	const char *after = getenv("PFI_FAIL_MALLOC_AFTER");

	resolve();
	fail_once = getenv("PFI_FAIL_MALLOC_ONCE") != NULL;
	if (after != NULL && *after != '\0')
		fail_after = strtoul(after, NULL, 10);
}

static int (*real_main)(int, char **, char **);

/* pfi's main, entered with counting on. */
static int counting_main(int argc, char **argv, char **envp)
{
	counting = strcmp(program_invocation_short_name, "pfi") == 0 ||
	           strcmp(program_invocation_short_name, "lt-pfi") == 0;
	return real_main(argc, argv, envp);
}

/* glibc calls main through this; the shim puts counting_main between. */
int __libc_start_main(int (*main)(int, char **, char **), int argc,
                      char **argv, void (*init)(void), void (*fini)(void),
                      void (*rtld_fini)(void), void *stack_end);
int __libc_start_main(int (*main)(int, char **, char **), int argc,
                      char **argv, void (*init)(void), void (*fini)(void),
                      void (*rtld_fini)(void), void *stack_end)
{
	int (*start)(int (*)(int, char **, char **), int, char **,
	             void (*)(void), void (*)(void), void (*)(void), void *);

	start = (int (*)(int (*)(int, char **, char **), int, char **,
	                 void (*)(void), void (*)(void), void (*)(void),
	                 void *))dlsym(RTLD_NEXT, "__libc_start_main");
	real_main = main;
	return start(counting_main, argc, argv, init, fini, rtld_fini,
	             stack_end);
}

__attribute__((destructor))
static void failmalloc_fini(void)
{
	const char *path = getenv("PFI_FAIL_MALLOC_COUNT");
	char buf[32];
	int fd, n;

	if (!counting || path == NULL || *path == '\0')
		return;
	n = snprintf(buf, sizeof(buf), "%lu\n",
	             __atomic_load_n(&calls, __ATOMIC_RELAXED));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0 && n > 0 && write(fd, buf, (size_t)n) != n)
		n = -1;
	if (fd >= 0)
		close(fd);
}

/* Counts one allocation; whether it fails. */
static int fails(void)
{
	unsigned long n;

	if (!counting)
		return 0;   /* not pfi, or not set up yet */
	n = __atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED);
	if (n <= fail_after || (fail_once && n > fail_after + 1))
		return 0;
	errno = ENOMEM;
	return 1;
}

void *malloc(size_t n)
{
	resolve();
	if (real_malloc == NULL)
		return arena_alloc(n);
	return fails() ? NULL : real_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	resolve();
	if (real_calloc == NULL)
		return size && n > SIZE_MAX / size ? NULL : arena_alloc(n * size);
	return fails() ? NULL : real_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	void *q;

	if (p != NULL && in_arena(p)) {
		q = malloc(n);
		if (q != NULL)
			memcpy(q, p, arena_size(p) < n ? arena_size(p) : n);
		return q;
	}
	resolve();
	if (real_realloc == NULL)
		return p == NULL ? arena_alloc(n) : NULL;
	if (p != NULL && n == 0)
		return real_realloc(p, n);   /* a free */
	return fails() ? NULL : real_realloc(p, n);
}

void free(void *p)
{
	if (p == NULL || in_arena(p))
		return;
	if (real_free != NULL)
		real_free(p);
}
