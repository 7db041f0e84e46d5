/*
 * Golden OpenBSD pfsync records from OpenBSD's own headers; values equal
 * pfsync::wire::samples::openbsd_state(1), upd_c(1) with state_flags 0x21, and
 * tdb() with a 64-bit replay counter and rdomain. See freebsd.c.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <net/if.h>
#include <netinet/in.h>
#include <net/pfvar.h>
#include <netinet/ip_ipsp.h>
#include <net/if_pfsync.h>

#define BE16(x) __builtin_bswap16(x)
#define BE32(x) __builtin_bswap32(x)
#define BE64(x) __builtin_bswap64(x)
#define GOLDEN(name) __attribute__((section(".golden." #name), used))

#define SEQ16(b) { .addr8 = { b + 0, b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, \
	b + 8, b + 9, b + 10, b + 11, b + 12, b + 13, b + 14, b + 15 } }

#define PEER(n) { \
	.scrub = { .pfss_flags = BE16(0x0101 * (n)), .pfss_ttl = 64 + (n), .scrub_flag = 1, \
	    .pfss_ts_mod = BE32(0x11223344 ^ (n)) }, \
	.seqlo = BE32(0xa0000001 + (n)), .seqhi = BE32(0xb0000002 + (n)), \
	.seqdiff = BE32(0xc0000003 + (n)), .max_win = BE16(0x4000 + (n)), \
	.mss = BE16(1400 + (n)), .state = 4 + ((n) % 8), .wscale = 0x80 | ((n) & 0x0f) }

#define STATE_ID_1 BE64(0x1020304050607001ULL)
#define CREATOR_1 BE32(0xc1c2c301)

GOLDEN(openbsd_state) const struct pfsync_state golden_state = {
	.id = STATE_ID_1,
	.ifname = "em0",
	.key = {
		{ .addr = { SEQ16(0x20), SEQ16(0x40) }, .port = { BE16(0x01bb), BE16(0xc351) },
		  .rdomain = BE16(3), .af = AF_INET6 },
		{ .addr = { SEQ16(0x60), SEQ16(0x80) }, .port = { BE16(0x0050), BE16(0xd431) },
		  .rdomain = BE16(4), .af = AF_INET6 },
	},
	.src = PEER(1),
	.dst = PEER(4),
	.rt_addr = SEQ16(0xa0),
	.rule = BE32(7),
	.anchor = BE32(0xffffffff),
	.nat_rule = BE32(0x01020304),
	.creation = BE32(3601),
	.expire = BE32(86000),
	.packets = { { BE32(1), BE32(3) }, { BE32(3), BE32(4) } },
	.bytes = { { BE32(5), BE32(6) }, { BE32(0x7ffffff8), BE32(0x80000009) } },
	.creatorid = CREATOR_1,
	.rtableid = { BE32(1), BE32(2) },
	.max_mss = BE16(1300),
	.af = AF_INET6,
	.proto = IPPROTO_TCP,
	.direction = PF_IN,
	.log = 1,
	.rt = 0,
	.timeout = 2,
	.sync_flags = PFSYNC_FLAG_SRCNODE,
	.min_ttl = 9,
	.set_tos = 0x10,
	.state_flags = BE16(0x1234),
	.set_prio = { 1, 2 },
};

GOLDEN(openbsd_upd_c) const struct pfsync_upd_c golden_upd_c = {
	.id = STATE_ID_1,
	.src = PEER(1),
	.dst = PEER(2),
	.creatorid = CREATOR_1,
	.expire = BE32(7777),
	.timeout = 3,
	.state_flags = 0x21,
};

GOLDEN(openbsd_tdb) const struct pfsync_tdb golden_tdb = {
	.spi = BE32(0x1234),
	.dst = { .sin = { .sin_len = sizeof(struct sockaddr_in), .sin_family = AF_INET,
	    .sin_addr = { BE32(0xc0000209) } } },
	.rpl = BE64(0x0123456789abcdefULL),
	.cur_bytes = BE64(0x0102030405060708ULL),
	.sproto = IPPROTO_ESP,
	.rdomain = BE16(0x0a0b),
};
