/*
 * Golden pfsync records, laid out by the C compiler from the real FreeBSD
 * headers. The values equal pfsync::wire::samples (state(v, 1), upd_c(1),
 * clr(), bus(End), tdb(), state_id(1)); scripts/stages/30-layout-oracle.sh
 * extracts each section and has examples/wire_oracle.rs decode and re-encode it.
 * Multi-byte fields are stored as pf stores them: network order (x86 is little
 * endian, hence the byte swaps); id/creatorid/addresses/ports are raw bytes.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <net/if.h>
#include <netinet/in.h>
#include <net/pfvar.h>
#include <net/if_pfsync.h>

#define BE16(x) __builtin_bswap16(x)
#define BE32(x) __builtin_bswap32(x)
#define BE64(x) __builtin_bswap64(x)
#define GOLDEN(name) __attribute__((section(".golden." #name), used))

#define SEQ16(b) { .addr8 = { b + 0, b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, \
	b + 8, b + 9, b + 10, b + 11, b + 12, b + 13, b + 14, b + 15 } }

/* samples::peer(n) */
#define PEER(n) { \
	.scrub = { .pfss_flags = BE16(0x0101 * (n)), .pfss_ttl = 64 + (n), .scrub_flag = 1, \
	    .pfss_ts_mod = BE32(0x11223344 ^ (n)) }, \
	.seqlo = BE32(0xa0000001 + (n)), .seqhi = BE32(0xb0000002 + (n)), \
	.seqdiff = BE32(0xc0000003 + (n)), .max_win = BE16(0x4000 + (n)), \
	.mss = BE16(1400 + (n)), .state = 4 + ((n) % 8), .wscale = 0x80 | ((n) & 0x0f) }

#define STATE_ID_1 BE64(0x1020304050607001ULL)
#define CREATOR_1 BE32(0xc1c2c301)

/* The 232-byte prefix shared by 1301, 1400 and 1500: samples::state(_, 1). */
#define COMMON \
	.id = STATE_ID_1, \
	.ifname = "em0", \
	.key = { \
		{ .addr = { SEQ16(0x20), SEQ16(0x40) }, .port = { BE16(0x01bb), BE16(0xc351) } }, \
		{ .addr = { SEQ16(0x60), SEQ16(0x80) }, .port = { BE16(0x0050), BE16(0xd431) } }, \
	}, \
	.src = PEER(1), \
	.dst = PEER(4), \
	.rt_addr = SEQ16(0xa0), \
	.rule = BE32(7), \
	.anchor = BE32(0xffffffff), \
	.nat_rule = BE32(0x01020304), \
	.creation = BE32(3601), \
	.expire = BE32(86000), \
	.packets = { { BE32(1), BE32(3) }, { BE32(3), BE32(4) } }, \
	.bytes = { { BE32(5), BE32(6) }, { BE32(0x7ffffff8), BE32(0x80000009) } }, \
	.creatorid = CREATOR_1

GOLDEN(header) const struct pfsync_header golden_header = {
	.version = PFSYNC_VERSION,
	.len = BE16(0x1234),
	.pfcksum = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 },
};

GOLDEN(subheader) const struct pfsync_subheader golden_subheader = {
	.action = PFSYNC_ACT_INS_1400,
	.count = BE16(0x0102),
};

GOLDEN(state_1301) const struct pfsync_state_1301 golden_state_1301 = {
	COMMON,
	.af = AF_INET6,
	.proto = IPPROTO_TCP,
	.direction = PF_OUT,
	.log = 3,
	.state_flags = 0x5b,
	.timeout = 2,
	.sync_flags = PFSYNC_FLAG_SRCNODE | PFSYNC_FLAG_NATSRCNODE,
};

GOLDEN(state_1400) const struct pfsync_state_1400 golden_state_1400 = {
	COMMON,
	.af = AF_INET6,
	.proto = IPPROTO_TCP,
	.direction = PF_OUT,
	.state_flags = BE16(0x0a5b),
	.log = 3,
	.timeout = 2,
	.sync_flags = PFSYNC_FLAG_SRCNODE | PFSYNC_FLAG_NATSRCNODE,
	.qid = BE16(0x0111),
	.pqid = BE16(0x0222),
	.dnpipe = BE16(0x0333),
	.dnrpipe = BE16(0x0444),
	.rtableid = BE32(5),
	.min_ttl = 17,
	.set_tos = 0x28,
	.max_mss = BE16(1360),
	.set_prio = { 3, 5 },
	.rt = PF_ROUTETO,
	.rt_ifname = "igb1",
};

#ifdef PFSYNC_ACT_INS_1500
GOLDEN(state_1500) const struct pfsync_state_1500 golden_state_1500 = {
	COMMON,
	.tagname = "sample-tag",
	.rt_ifname = "igb1",
	.orig_ifname = "vlan42",
	.rtableid = BE32(5),
	.state_flags = BE16(0x0a5b),
	.qid = BE16(0x0111),
	.pqid = BE16(0x0222),
	.dnpipe = BE16(0x0333),
	.dnrpipe = BE16(0x0444),
	.max_mss = BE16(1360),
	.wire_af = AF_INET6,
	.stack_af = AF_INET,
	.rt_af = AF_INET,
	.wire_proto = IPPROTO_TCP,
	.stack_proto = IPPROTO_UDP,
	.log = 3,
	.timeout = 2,
	.direction = PF_OUT,
	.rt = PF_ROUTETO,
	.min_ttl = 17,
	.set_tos = 0x28,
	.set_prio = { 3, 5 },
};
#endif

GOLDEN(upd_c) const struct pfsync_upd_c golden_upd_c = {
	.id = STATE_ID_1,
	.src = PEER(1),
	.dst = PEER(2),
	.creatorid = CREATOR_1,
	.expire = BE32(7777),
	.timeout = 3,
};

GOLDEN(clr) const struct pfsync_clr golden_clr = {
	.ifname = "em1",
	.creatorid = BE32(0xdeadbeef),
};

GOLDEN(ins_ack) const struct pfsync_ins_ack golden_ins_ack = {
	.id = STATE_ID_1, .creatorid = CREATOR_1,
};

GOLDEN(upd_req) const struct pfsync_upd_req golden_upd_req = {
	.id = STATE_ID_1, .creatorid = CREATOR_1,
};

GOLDEN(del_c) const struct pfsync_del_c golden_del_c = {
	.id = STATE_ID_1, .creatorid = CREATOR_1,
};

GOLDEN(bus) const struct pfsync_bus golden_bus = {
	.creatorid = BE32(0xc1c2c3c5),
	.endtime = BE32(0x00010203),
	.status = PFSYNC_BUS_END,
};

GOLDEN(tdb) const struct pfsync_tdb golden_tdb = {
	.spi = BE32(0x1234),
	.dst = { .sin = { .sin_len = sizeof(struct sockaddr_in), .sin_family = AF_INET,
	    .sin_addr = { BE32(0xc0000209) } } },
	.rpl = BE32(0x0badcafe),
	.cur_bytes = BE64(0x0102030405060708ULL),
	.sproto = IPPROTO_ESP,
};
