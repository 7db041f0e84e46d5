/*
 * Golden OpenBSD pfsync v6 frames, laid out by the compiler from OpenBSD's
 * own structs (struct pfsync_header, pfsync_subheader and the records of
 * net/if_pfsync.h and net/pfvar.h) with designated initializers. Each frame
 * is one object in a section ".golden_frame.NAME"; stage 30-layout-oracle
 * extracts them and compares them with tests/golden/openbsd/NAME.bin, which
 * tests/golden_openbsd_frames.rs decodes and rebuilds with the Rust codec.
 *
 * Values follow pfsync::wire::samples (state 1, upd_c 1 and 2 with
 * state_flags 0x21, clr, bus End) and golden openbsd.c; subheader lengths
 * and the header's len come from sizeof, never from a number written here,
 * and the limits in frame "rejects" from OpenBSD's own constants.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp_fsm.h>
#include <net/pfvar.h>
#include <netinet/ip_ipsp.h>
#include <net/if_pfsync.h>

#define BE16(x) __builtin_bswap16(x)
#define BE32(x) __builtin_bswap32(x)
#define BE64(x) __builtin_bswap64(x)
#define FRAME(name) __attribute__((section(".golden_frame." #name), used))

#define SEQ16(b) { .addr8 = { b + 0, b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, \
	b + 8, b + 9, b + 10, b + 11, b + 12, b + 13, b + 14, b + 15 } }

#define PEER(n) { \
	.scrub = { .pfss_flags = BE16(0x0101 * (n)), .pfss_ttl = 64 + (n), .scrub_flag = 1, \
	    .pfss_ts_mod = BE32(0x11223344 ^ (n)) }, \
	.seqlo = BE32(0xa0000001 + (n)), .seqhi = BE32(0xb0000002 + (n)), \
	.seqdiff = BE32(0xc0000003 + (n)), .max_win = BE16(0x4000 + (n)), \
	.mss = BE16(1400 + (n)), .state = 4 + ((n) % 8), .wscale = 0x80 | ((n) & 0x0f) }

/* samples::state_id(n): id 10 20 30 40 50 60 70 n, creator c1 c2 c3 (n|1). */
#define STATE_ID(n) BE64(0x1020304050607000ULL | (n))
#define CREATOR(n) BE32(0xc1c2c300U | ((n) | 1))

/* The pfcksum slot of the header ("spare" in OpenBSD's header). */
#define SPARE { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 }

#define SUB(act, type, n) { .action = (act), .len = sizeof(type) / 4, .count = BE16(n) }

#define STATE_1 { STATE_1_FIELDS }
#define STATE_1_FIELDS \
	.id = STATE_ID(1), \
	.ifname = "em0", \
	.key = { \
		{ .addr = { SEQ16(0x20), SEQ16(0x40) }, .port = { BE16(0x01bb), BE16(0xc351) }, \
		  .rdomain = BE16(3), .af = AF_INET6 }, \
		{ .addr = { SEQ16(0x60), SEQ16(0x80) }, .port = { BE16(0x0050), BE16(0xd431) }, \
		  .rdomain = BE16(4), .af = AF_INET6 }, \
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
	.creatorid = CREATOR(1), \
	.rtableid = { BE32(1), BE32(2) }, \
	.max_mss = BE16(1300), \
	.af = AF_INET6, \
	.proto = IPPROTO_TCP, \
	.direction = PF_IN, \
	.log = 1, \
	.timeout = 2, \
	.sync_flags = PFSYNC_FLAG_SRCNODE, \
	.min_ttl = 9, \
	.set_tos = 0x10, \
	.state_flags = BE16(0x1234), \
	.set_prio = { 1, 2 }

#define UPD_C(n) { \
	.id = STATE_ID(n), .src = PEER(n), .dst = PEER((n) + 1), .creatorid = CREATOR(n), \
	.expire = BE32(7777), .timeout = 3, .state_flags = 0x21 }

/* A full insert and update, then two compressed updates. */
struct frame_states {
	struct pfsync_header h;
	struct pfsync_subheader ins_h;
	struct pfsync_state ins;
	struct pfsync_subheader upd_h;
	struct pfsync_state upd;
	struct pfsync_subheader upd_c_h;
	struct pfsync_upd_c upd_c[2];
} __packed;

FRAME(states) const struct frame_states frame_states = {
	.h = { .version = PFSYNC_VERSION, .len = BE16(sizeof(struct frame_states)), .spare = SPARE },
	.ins_h = SUB(PFSYNC_ACT_INS, struct pfsync_state, 1),
	.ins = STATE_1,
	.upd_h = SUB(PFSYNC_ACT_UPD, struct pfsync_state, 1),
	.upd = STATE_1,
	.upd_c_h = SUB(PFSYNC_ACT_UPD_C, struct pfsync_upd_c, 2),
	.upd_c = { UPD_C(1), UPD_C(2) },
};

/* Every short message: acknowledgement, compressed delete, update requests
 * (the bulk request and one state), clear, end of bulk, TDB replay counter. */
struct frame_ids {
	struct pfsync_header h;
	struct pfsync_subheader ack_h;
	struct pfsync_ins_ack ack;
	struct pfsync_subheader del_c_h;
	struct pfsync_del_c del_c[2];
	struct pfsync_subheader ureq_h;
	struct pfsync_upd_req ureq[2];
	struct pfsync_subheader clr_h;
	struct pfsync_clr clr;
	struct pfsync_subheader bus_h;
	struct pfsync_bus bus;
	struct pfsync_subheader tdb_h;
	struct pfsync_tdb tdb;
} __packed;

FRAME(ids) const struct frame_ids frame_ids = {
	.h = { .version = PFSYNC_VERSION, .len = BE16(sizeof(struct frame_ids)), .spare = SPARE },
	.ack_h = SUB(PFSYNC_ACT_INS_ACK, struct pfsync_ins_ack, 1),
	.ack = { .id = STATE_ID(1), .creatorid = CREATOR(1) },
	.del_c_h = SUB(PFSYNC_ACT_DEL_C, struct pfsync_del_c, 2),
	.del_c = { { .id = STATE_ID(2), .creatorid = CREATOR(2) },
	    { .id = STATE_ID(4), .creatorid = CREATOR(4) } },
	.ureq_h = SUB(PFSYNC_ACT_UPD_REQ, struct pfsync_upd_req, 2),
	.ureq = { { .id = 0, .creatorid = 0 }, { .id = STATE_ID(1), .creatorid = CREATOR(1) } },
	.clr_h = SUB(PFSYNC_ACT_CLR, struct pfsync_clr, 1),
	.clr = { .ifname = "em1", .creatorid = BE32(0xdeadbeef) },
	.bus_h = SUB(PFSYNC_ACT_BUS, struct pfsync_bus, 1),
	.bus = { .creatorid = BE32(0xc1c2c3c5), .endtime = BE32(0x00010203),
	    .status = PFSYNC_BUS_END },
	.tdb_h = SUB(PFSYNC_ACT_TDB, struct pfsync_tdb, 1),
	.tdb = { .spi = BE32(0x1234),
	    .dst = { .sin = { .sin_len = sizeof(struct sockaddr_in), .sin_family = AF_INET,
	        .sin_addr = { BE32(0xc0000209) } } },
	    .rpl = BE64(0x0123456789abcdefULL), .cur_bytes = BE64(0x0102030405060708ULL),
	    .sproto = IPPROTO_ESP, .rdomain = BE16(0x0a0b) },
};

/*
 * What an OpenBSD receiver steps over or reads only in part: a section of an
 * action it does not know (99, two words), an INS_ACK from a newer sender with
 * four bytes more per record (read, the tail ignored), and a full-state DEL,
 * of which only the identity counts.
 */
struct ins_ack_longer {
	struct pfsync_ins_ack ack;
	u_int8_t future[4];
} __packed;

struct frame_skips {
	struct pfsync_header h;
	struct pfsync_subheader unknown_h;
	u_int8_t unknown[8];
	struct pfsync_subheader ack_h;
	struct ins_ack_longer ack;
	struct pfsync_subheader del_h;
	struct pfsync_state del;
} __packed;

FRAME(skips) const struct frame_skips frame_skips = {
	.h = { .version = PFSYNC_VERSION, .len = BE16(sizeof(struct frame_skips)), .spare = SPARE },
	.unknown_h = { .action = 99, .len = 2, .count = BE16(1) },
	.unknown = { 9, 9, 9, 9, 9, 9, 9, 9 },
	.ack_h = SUB(PFSYNC_ACT_INS_ACK, struct ins_ack_longer, 1),
	.ack = { .ack = { .id = STATE_ID(2), .creatorid = CREATOR(2) },
	    .future = { 7, 7, 7, 7 } },
	.del_h = SUB(PFSYNC_ACT_DEL, struct pfsync_state, 1),
	.del = STATE_1,
};

/*
 * Full states that break one of OpenBSD's insert checks each, with the
 * limits taken from OpenBSD's own headers (PFTM_MAX, PF_TCPS_PROXY_DST,
 * PF_OUT), then one at every limit, which must pass: the codec's bounds are
 * OpenBSD's, not off by one.  Each record is state 1 with one field
 * overridden, hence the later initializer winning on purpose.
 */
#pragma clang diagnostic ignored "-Winitializer-overrides"
struct frame_rejects {
	struct pfsync_header h;
	struct pfsync_subheader ins_h;
	struct pfsync_state ins[7];
	struct pfsync_subheader upd_h;
	struct pfsync_state upd;
} __packed;

FRAME(rejects) const struct frame_rejects frame_rejects = {
	.h = { .version = PFSYNC_VERSION, .len = BE16(sizeof(struct frame_rejects)), .spare = SPARE },
	.ins_h = SUB(PFSYNC_ACT_INS, struct pfsync_state, 7),
	.ins = {
		{ STATE_1_FIELDS, .timeout = PFTM_MAX },
		{ STATE_1_FIELDS, .src.state = PF_TCPS_PROXY_DST + 1 },
		{ STATE_1_FIELDS, .direction = PF_OUT + 1 },
		{ STATE_1_FIELDS, .key[1].af = 0 },
		{ STATE_1_FIELDS, .ifname = "0123456789abcdef" },
		{ STATE_1_FIELDS, .creatorid = 0 },
		{ STATE_1_FIELDS, .timeout = PFTM_MAX - 1, .src.state = PF_TCPS_PROXY_DST,
		    .dst.state = PF_TCPS_PROXY_DST, .direction = PF_OUT },
	},
	.upd_h = SUB(PFSYNC_ACT_UPD, struct pfsync_state, 1),
	.upd = { STATE_1_FIELDS, .dst.state = PF_TCPS_PROXY_DST + 1 },
};

/* Records must sit where the codec puts them: no padding between members. */
_Static_assert(sizeof(struct frame_states) == sizeof(struct pfsync_header) +
    3 * sizeof(struct pfsync_subheader) + 2 * sizeof(struct pfsync_state) +
    2 * sizeof(struct pfsync_upd_c), "frame_states has padding");
_Static_assert(sizeof(struct frame_ids) == sizeof(struct pfsync_header) +
    6 * sizeof(struct pfsync_subheader) + sizeof(struct pfsync_ins_ack) +
    2 * sizeof(struct pfsync_del_c) + 2 * sizeof(struct pfsync_upd_req) +
    sizeof(struct pfsync_clr) + sizeof(struct pfsync_bus) + sizeof(struct pfsync_tdb),
    "frame_ids has padding");
_Static_assert(sizeof(struct frame_skips) == sizeof(struct pfsync_header) +
    3 * sizeof(struct pfsync_subheader) + 8 + sizeof(struct ins_ack_longer) +
    sizeof(struct pfsync_state), "frame_skips has padding");
