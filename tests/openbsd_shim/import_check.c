/* SPDX-License-Identifier: ISC */
/*
 * Runs kmod/openbsd/pfsync_obsd_import.c on Linux: the shim's conversion of
 * the core's import record into OpenBSD's struct pfsync_state, compiled
 * against OpenBSD's headers exactly as in the kernel object, checked field
 * by field.  Freestanding (OpenBSD's headers, no libc): a static Linux
 * executable whose _start reports through write(2) and exit(2).
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/socket.h>

#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <netinet/ip_icmp.h>
#include <netinet/icmp6.h>
#include <netinet/ip_ipsp.h>
#include <net/pfvar.h>
#include <net/if_pfsync.h>

#include "pfsync_obsd_import.h"

void	_start(void);

/*
 * What the compiler may call, declared by OpenBSD's headers (which map the
 * names to builtins).  Volatile, so the loops are not turned back into
 * calls to themselves.
 */
#undef memcpy
#undef memset
#undef memcmp
void *
memcpy(void *d, const void *s, size_t n)
{
	volatile unsigned char *dp = d;
	const unsigned char *sp = s;

	while (n--)
		*dp++ = *sp++;
	return (d);
}

void *
memset(void *b, int c, size_t n)
{
	volatile unsigned char *p = b;

	while (n--)
		*p++ = (unsigned char)c;
	return (b);
}

int
memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n > 0; n--, x++, y++)
		if (*x != *y)
			return (*x - *y);
	return (0);
}

static long
sys(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile ("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b),
	    "d"(c) : "rcx", "r11", "memory");
	return (ret);
}

static void
say(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0')
		n++;
	(void)sys(1, 1, (long)s, (long)n);	/* Linux write(2) */
}

static int failures;

static void
expect(int ok, const char *what)
{
	say(ok ? "ok: " : "FAIL: ");
	say(what);
	say("\n");
	if (!ok)
		failures++;
}

static struct pfsync_rs_import rec;
static struct pfsync_state sp;

void
_start(void)
{
	uint8_t a = 0x20;
	int k, side, i, addrs_ok = 1, ports_ok = 1;

	for (k = 0; k < 2; k++)
		for (side = 0; side < 2; side++) {
			for (i = 0; i < 16; i++)
				rec.key_addr[k][side][i] = a++;
			rec.key_port_be[k][side][0] = (uint8_t)(0x10 * k + side);
			rec.key_port_be[k][side][1] = 0xbb;
		}
	memcpy(rec.sid.id_be, "\x10\x20\x30\x40\x50\x60\x70\x01", 8);
	memcpy(rec.sid.creatorid_be, "\xc1\xc2\xc3\x01", 4);
	memcpy(rec.ifname, "0123456789abcdef", 16);	/* no NUL: must get one */
	for (i = 0; i < PFSYNC_RS_PEER_LEN; i++) {
		rec.src[i] = (uint8_t)(0x40 + i);
		rec.dst[i] = (uint8_t)(0x80 + i);
	}
	rec.rule = 7;
	rec.anchor = UINT32_MAX;
	rec.creation_age_s = 3601;
	rec.expire_s = 86000;
	rec.rtableid = -1;
	rec.state_flags = 0x1234;
	rec.max_mss = 1300;
	rec.wire_af = PFSYNC_RS_AF_INET6;
	rec.stack_af = PFSYNC_RS_AF_INET;
	rec.wire_proto = IPPROTO_TCP;
	rec.direction = PF_OUT;
	rec.log = 1;
	rec.timeout = 2;
	rec.rt = 3;
	rec.min_ttl = 9;
	rec.set_tos = 0x10;
	rec.set_prio[0] = 1;
	rec.set_prio[1] = 2;

	memset(&sp, 0xa5, sizeof(sp));
	pfsync_obsd_import_record(&rec, &sp);

	for (k = 0; k < 2; k++)
		for (side = 0; side < 2; side++) {
			addrs_ok &= memcmp(&sp.key[k].addr[side],
			    rec.key_addr[k][side], 16) == 0;
			ports_ok &= memcmp(&sp.key[k].port[side],
			    rec.key_port_be[k][side], 2) == 0;
		}
	expect(addrs_ok, "key addresses copied [key][side], in order");
	expect(ports_ok, "key ports copied in network order");
	expect(memcmp(&sp.id, rec.sid.id_be, 8) == 0 &&
	    memcmp(&sp.creatorid, rec.sid.creatorid_be, 4) == 0,
	    "id and creator id copied raw");
	expect(sp.ifname[15] == '\0' && memcmp(sp.ifname, "0123456789abcde", 15) == 0,
	    "ifname NUL-terminated within IFNAMSIZ");
	expect(sp.af == AF_INET6 && sp.key[PF_SK_WIRE].af == AF_INET6 &&
	    sp.key[PF_SK_STACK].af == AF_INET,
	    "FreeBSD family numbers mapped to OpenBSD's (28 -> AF_INET6)");
	expect(memcmp(&sp.src, rec.src, 32) == 0 && memcmp(&sp.dst, rec.dst, 32) == 0,
	    "wire peers copied as they are");
	expect(sp.rule == htonl(7) && sp.anchor == htonl(UINT32_MAX) &&
	    sp.nat_rule == htonl(UINT32_MAX), "rule numbers in network order, none = -1");
	expect(sp.creation == htonl(3601) && sp.expire == htonl(86000),
	    "creation and expiry in network order");
	expect(sp.rtableid[0] == htonl(UINT32_MAX) && sp.rtableid[1] == htonl(UINT32_MAX),
	    "rtableid -1 on both keys");
	expect(sp.key[0].rdomain == 0 && sp.key[1].rdomain == 0,
	    "routing domain 0 (the import record has none)");
	expect(sp.state_flags == htons(0x1234) && sp.max_mss == htons(1300),
	    "state_flags and max_mss in network order");
	expect(sp.proto == IPPROTO_TCP && sp.direction == PF_OUT && sp.log == 1 &&
	    sp.timeout == 2 && sp.rt == 3 && sp.min_ttl == 9 && sp.set_tos == 0x10 &&
	    sp.set_prio[0] == 1 && sp.set_prio[1] == 2, "one-byte fields");
	expect(sp.sync_flags == 0 && sp.updates == 0 &&
	    sp.packets[0][0] == 0 && sp.bytes[1][1] == 0,
	    "what the record does not carry is zero, not left over");

	rec.wire_af = 7;
	pfsync_obsd_import_record(&rec, &sp);
	expect(sp.af == AF_UNSPEC && sp.key[PF_SK_WIRE].af == AF_UNSPEC,
	    "an unknown family becomes AF_UNSPEC, which pf refuses");

	say(failures ? "import_check: FAILED\n" : "import_check: all passed\n");
	(void)sys(231, failures ? 1 : 0, 0, 0);	/* Linux exit_group(2) */
	for (;;)
		;
}
