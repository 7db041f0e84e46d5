/* SPDX-License-Identifier: ISC */
/*
 * Stand-in for OpenBSD's sys/lib/libkern/libkern.h, which the header set we
 * build against (the ziglang wheel's installed /usr/include) does not ship:
 * sys/systm.h includes it.  It declares, with OpenBSD's signatures, only
 * the assertion macros and libkern routines those headers and this shim
 * use.  scripts/audit-ko.py lists every undefined symbol of pfsync.o that
 * only this file declares, so nothing hides behind it.
 */

#ifndef PFSYNC_OBSD_LIBKERN_STANDIN_H
#define PFSYNC_OBSD_LIBKERN_STANDIN_H

#include <sys/types.h>

static __inline int imax(int a, int b) { return (a > b ? a : b); }
static __inline int imin(int a, int b) { return (a < b ? a : b); }
static __inline long lmax(long a, long b) { return (a > b ? a : b); }
static __inline long lmin(long a, long b) { return (a < b ? a : b); }
static __inline u_int max(u_int a, u_int b) { return (a > b ? a : b); }
static __inline u_int min(u_int a, u_int b) { return (a < b ? a : b); }
static __inline u_long ulmax(u_long a, u_long b) { return (a > b ? a : b); }
static __inline u_long ulmin(u_long a, u_long b) { return (a < b ? a : b); }

void	__assert(const char *, const char *, int, const char *)
	    __attribute__((__noreturn__));

#ifdef DIAGNOSTIC
#define	KASSERT(e)	((e) ? (void)0 : \
	    __assert("diagnostic ", __FILE__, __LINE__, #e))
#define	KASSERTMSG(e, msg, ...)	((e) ? (void)0 : \
	    panic("kernel %sassertion \"%s\" failed: file \"%s\", line %d: " \
	    msg, "diagnostic ", #e, __FILE__, __LINE__, ##__VA_ARGS__))
#else
#define	KASSERT(e)		((void)0)
#define	KASSERTMSG(e, msg, ...)	((void)0)
#endif
#define	KDASSERT(e)		((void)0)
#define	CTASSERT(x)		_Static_assert(x, "CTASSERT")

int	memcmp(const void *, const void *, size_t);
void	*memchr(const void *, int, size_t);
size_t	strlcpy(char *, const char *, size_t);
size_t	strlcat(char *, const char *, size_t);
size_t	strlen(const char *);
size_t	strnlen(const char *, size_t);
int	strcmp(const char *, const char *);
int	strncmp(const char *, const char *, size_t);
int	ffs(int);
int	fls(int);
int	flsl(long);
int	timingsafe_bcmp(const void *, const void *, size_t);

#endif /* PFSYNC_OBSD_LIBKERN_STANDIN_H */
