/* SPDX-License-Identifier: BSD-2-Clause */
/* The guest program's runtime: see rt.h for why it exists. */
#include "rt.h"

#include <time.h>

long
rt_syscall(long n, long a, long b, long c, long d, long e, long f)
{
	long ret;
	char failed;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;

	/* FreeBSD/amd64 reports failure in the carry flag, errno in %rax. */
	__asm__ volatile ("syscall; setc %1"
	    : "=a"(ret), "=r"(failed)
	    : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
	    : "rcx", "r11", "memory");
	return (failed ? -ret : ret);
}

long
rt_fork(void)
{
	long ret, second;
	char failed;

	/* The child is told apart by %rdx = 1, not by %rax. */
	__asm__ volatile ("syscall; setc %2"
	    : "=a"(ret), "=d"(second), "=r"(failed)
	    : "a"((long)SYS_fork), "D"(0L), "S"(0L), "d"(0L)
	    : "rcx", "r11", "r8", "r9", "r10", "memory");
	if (failed)
		return (-ret);
	return (second ? 0 : ret);
}

void *
memset(void *d, int c, size_t n)
{
	volatile unsigned char *p = d;

	while (n--)
		*p++ = (unsigned char)c;
	return (d);
}

void *
memcpy(void *d, const void *s, size_t n)
{
	volatile unsigned char *p = d;
	const unsigned char *q = s;

	while (n--)
		*p++ = *q++;
	return (d);
}

int
memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;

	for (; n > 0; n--, p++, q++)
		if (*p != *q)
			return (*p - *q);
	return (0);
}

size_t
rt_strlen(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0')
		n++;
	return (n);
}

int
rt_strcmp(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b) {
		a++;
		b++;
	}
	return ((unsigned char)*a - (unsigned char)*b);
}

void
rt_strlcpy(char *d, const char *s, size_t size)
{
	size_t i;

	for (i = 0; i + 1 < size && s[i] != '\0'; i++)
		d[i] = s[i];
	if (size > 0)
		d[i] = '\0';
}

const char *
rt_strstr(const char *hay, const char *needle)
{
	size_t n = rt_strlen(needle);

	for (; *hay != '\0'; hay++)
		if (memcmp(hay, needle, n) == 0)
			return (hay);
	return (NULL);
}

void
rt_puts(const char *s)
{
	SC3(SYS_write, 1, s, rt_strlen(s));
}

void
rt_putn(long v)
{
	char b[24];
	int i = 23;
	unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;

	b[i] = '\0';
	do {
		b[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		b[--i] = '-';
	rt_puts(b + i);
}

void
rt_puthex(unsigned long v)
{
	char b[19];
	int i = 18;

	b[i] = '\0';
	do {
		b[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v != 0);
	b[--i] = 'x';
	b[--i] = '0';
	rt_puts(b + i);
}

void
rt_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	SC2(SYS_nanosleep, &ts, NULL);
}

long
rt_now_ms(void)
{
	struct timespec ts;

	SC2(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int
rt_sysctl(const char *name, void *old, size_t *oldlen, const void *new,
    size_t newlen)
{
	return ((int)SC6(SYS___sysctlbyname, name, rt_strlen(name), old, oldlen,
	    new, newlen));
}

uint32_t
rt_rand(void)
{
	static uint32_t x = 0x9e3779b9;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return (x);
}
