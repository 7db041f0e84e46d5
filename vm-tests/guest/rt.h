/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The guest test program runs as /sbin/init of a FreeBSD kernel that has no
 * userland at all (vm-tests/image/), so it brings its own tiny runtime: raw
 * system calls, console output and the few string helpers the tests use.
 * Struct layouts and ioctl numbers still come from the real FreeBSD headers.
 */
#ifndef GUEST_RT_H
#define GUEST_RT_H

#include <sys/types.h>
#include <sys/param.h>
#include <sys/errno.h>
#include <sys/syscall.h>
#include <sys/time.h>

/* A syscall's result: >= 0 on success, -errno on failure. */
long rt_syscall(long n, long a, long b, long c, long d, long e, long f);
#define	SC0(n)			rt_syscall((n), 0, 0, 0, 0, 0, 0)
#define	SC1(n, a)		rt_syscall((n), (long)(a), 0, 0, 0, 0, 0)
#define	SC2(n, a, b)		rt_syscall((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define	SC3(n, a, b, c)		rt_syscall((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define	SC4(n, a, b, c, d)	rt_syscall((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define	SC6(n, a, b, c, d, e, f) rt_syscall((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

/* fork(2): 0 in the child, the child's pid in the parent, -errno on failure. */
long rt_fork(void);

void	*memset(void *, int, size_t);
void	*memcpy(void *, const void *, size_t);
int	 memcmp(const void *, const void *, size_t);
size_t	 rt_strlen(const char *);
int	 rt_strcmp(const char *, const char *);
void	 rt_strlcpy(char *, const char *, size_t);
const char *rt_strstr(const char *, const char *);

void	 rt_puts(const char *);
void	 rt_putn(long);
void	 rt_puthex(unsigned long);

void	 rt_sleep_ms(long);
long	 rt_now_ms(void);

/* sysctlbyname(3) over the raw syscall. */
int	 rt_sysctl(const char *name, void *old, size_t *oldlen, const void *new,
	    size_t newlen);

/* A deterministic generator: the same run every boot. */
uint32_t rt_rand(void);

static inline uint16_t rt_htons(uint16_t v) { return (uint16_t)(v << 8 | v >> 8); }
static inline uint32_t rt_htonl(uint32_t v) { return __builtin_bswap32(v); }

#endif
