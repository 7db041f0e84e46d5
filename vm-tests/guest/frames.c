/* SPDX-License-Identifier: BSD-2-Clause */
#include "frames.h"

#include <net/ethernet.h>
#include <netinet/ip.h>
#include <netinet/tcp_fsm.h>

#define	ETH_LEN		14
#define	IP_LEN		20
#define	PFSYNC_GROUP	0xe00000f0u	/* 224.0.0.240 */

static uint16_t
ip_checksum(const unsigned char *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (rt_htons((uint16_t)~sum));
}

void
frame_begin(struct frame *f, uint32_t src, int ttl, int version)
{
	static const unsigned char dst_mac[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xf0 };
	static const unsigned char src_mac[6] = { 0x02, 0x00, 0x5e, 0xed, 0x00, 0x01 };
	struct ip *ip;
	struct pfsync_header *ph;

	memset(f, 0, sizeof(*f));
	memcpy(f->buf, dst_mac, 6);
	memcpy(f->buf + 6, src_mac, 6);
	f->buf[12] = 0x08;
	f->buf[13] = 0x00;
	ip = (struct ip *)(f->buf + ETH_LEN);
	ip->ip_v = 4;
	ip->ip_hl = 5;
	ip->ip_ttl = (u_char)ttl;
	ip->ip_p = IPPROTO_PFSYNC;
	ip->ip_src.s_addr = rt_htonl(src);
	ip->ip_dst.s_addr = rt_htonl(PFSYNC_GROUP);
	ph = (struct pfsync_header *)(f->buf + ETH_LEN + IP_LEN);
	ph->version = (u_int8_t)version;
	f->len = ETH_LEN + IP_LEN + sizeof(*ph);
}

void
frame_section(struct frame *f, int action)
{
	struct pfsync_subheader *sh;

	if (f->len + sizeof(*sh) > sizeof(f->buf)) {
		f->count_at = NULL;
		return;
	}
	sh = (struct pfsync_subheader *)(f->buf + f->len);
	sh->action = (u_int8_t)action;
	f->count_at = (unsigned char *)&sh->count;
	f->records = 0;
	f->len += sizeof(*sh);
}

void *
frame_record(struct frame *f, size_t len)
{
	void *rec;

	if (f->count_at == NULL || f->len + len > sizeof(f->buf))
		return (NULL);
	rec = f->buf + f->len;
	f->len += len;
	f->records++;
	f->count_at[0] = (unsigned char)(f->records >> 8);
	f->count_at[1] = (unsigned char)f->records;
	return (rec);
}

void
frame_end(struct frame *f)
{
	struct ip *ip = (struct ip *)(f->buf + ETH_LEN);
	struct pfsync_header *ph;

	ip->ip_len = rt_htons((uint16_t)(f->len - ETH_LEN));
	ip->ip_sum = 0;
	ip->ip_sum = ip_checksum((unsigned char *)ip, IP_LEN);
	ph = (struct pfsync_header *)(f->buf + ETH_LEN + IP_LEN);
	ph->len = rt_htons((uint16_t)(f->len - ETH_LEN - IP_LEN));
}

uint64_t
state_id(uint64_t n)
{
	/* ids travel as raw bytes; this one reads the same either way round */
	return (0x7e57000000000000ull | n | (n << 32 & 0x0000ffff00000000ull));
}

void
state_1500(struct pfsync_state_1500 *sp, uint64_t n)
{
	memset(sp, 0, sizeof(*sp));
	sp->id = state_id(n);
	sp->creatorid = rt_htonl(PEER_CREATORID);
	rt_strlcpy(sp->ifname, "all", sizeof(sp->ifname));
	rt_strlcpy(sp->orig_ifname, "all", sizeof(sp->orig_ifname));
	for (int k = 0; k < 2; k++) {
		sp->key[k].addr[0].v4.s_addr = rt_htonl(0xc6120100u | (uint32_t)(n >> 8 & 0xff));
		sp->key[k].addr[1].v4.s_addr = rt_htonl(0xc6120201u);
		sp->key[k].port[0] = rt_htons((uint16_t)(10000 + (n & 0xff)));
		sp->key[k].port[1] = rt_htons(80);
	}
	sp->wire_af = sp->stack_af = AF_INET;
	sp->wire_proto = sp->stack_proto = IPPROTO_TCP;
	sp->src.state = sp->dst.state = TCPS_ESTABLISHED;
	sp->src.seqlo = rt_htonl(1000);
	sp->src.seqhi = rt_htonl(70000);
	sp->src.max_win = rt_htons(65535);
	sp->dst.seqlo = rt_htonl(5000);
	sp->dst.seqhi = rt_htonl(74000);
	sp->dst.max_win = rt_htons(65535);
	sp->rule = sp->anchor = sp->nat_rule = rt_htonl(0xffffffffu);
	sp->expire = rt_htonl(86400);
	sp->timeout = PFTM_TCP_ESTABLISHED;
	sp->direction = PF_OUT;
	sp->rtableid = rt_htonl(0xffffffffu);
}

void
state_1301(struct pfsync_state_1301 *sp, uint64_t n, uint32_t rule,
    uint32_t rt_addr)
{
	memset(sp, 0, sizeof(*sp));
	sp->id = state_id(n);
	sp->creatorid = rt_htonl(PEER_CREATORID);
	rt_strlcpy(sp->ifname, "all", sizeof(sp->ifname));
	for (int k = 0; k < 2; k++) {
		sp->key[k].addr[0].v4.s_addr = rt_htonl(0xc6120300u | (uint32_t)(n & 0xff));
		sp->key[k].addr[1].v4.s_addr = rt_htonl(0xc6120401u);
		sp->key[k].port[0] = rt_htons((uint16_t)(20000 + (n & 0xff)));
		sp->key[k].port[1] = rt_htons(9);
	}
	sp->src.state = sp->dst.state = TCPS_ESTABLISHED;
	sp->src.seqlo = rt_htonl(1000);
	sp->src.seqhi = rt_htonl(70000);
	sp->src.max_win = rt_htons(65535);
	sp->dst.seqlo = rt_htonl(5000);
	sp->dst.seqhi = rt_htonl(74000);
	sp->dst.max_win = rt_htons(65535);
	sp->rt_addr.v4.s_addr = rt_htonl(rt_addr);
	sp->rule = rt_htonl(rule);
	sp->anchor = sp->nat_rule = rt_htonl(0xffffffffu);
	sp->expire = rt_htonl(86400);
	sp->af = AF_INET;
	sp->proto = IPPROTO_TCP;
	sp->direction = PF_OUT;
	sp->timeout = PFTM_TCP_ESTABLISHED;
}

void
frame_set_chksum(struct frame *f, const uint8_t *chksum)
{
	struct pfsync_header *ph =
	    (struct pfsync_header *)(f->buf + ETH_LEN + IP_LEN);

	memcpy(ph->pfcksum, chksum, sizeof(ph->pfcksum));
}

static void
dump_once(const unsigned char *p, size_t len, const char *why)
{
	static int dumped;

	if (dumped++)
		return;
	rt_puts("  first malformed frame (");
	rt_puts(why);
	rt_puts("), length ");
	rt_putn((long)len);
	rt_puts(":");
	for (size_t i = 0; i < len && i < 96; i++) {
		if (i % 16 == 0)
			rt_puts("\n   ");
		rt_puts(" ");
		rt_puthex(p[i]);
	}
	rt_puts("\n");
}

static size_t
record_size(int action)
{
	switch (action) {
	case PFSYNC_ACT_CLR:
		return (sizeof(struct pfsync_clr));
	case PFSYNC_ACT_INS_1301:
	case PFSYNC_ACT_UPD_1301:
		return (sizeof(struct pfsync_state_1301));
	case PFSYNC_ACT_INS_1400:
	case PFSYNC_ACT_UPD_1400:
		return (sizeof(struct pfsync_state_1400));
	case PFSYNC_ACT_INS_1500:
	case PFSYNC_ACT_UPD_1500:
		return (sizeof(struct pfsync_state_1500));
	case PFSYNC_ACT_INS_ACK:
		return (sizeof(struct pfsync_ins_ack));
	case PFSYNC_ACT_UPD_C:
		return (sizeof(struct pfsync_upd_c));
	case PFSYNC_ACT_UPD_REQ:
		return (sizeof(struct pfsync_upd_req));
	case PFSYNC_ACT_DEL_C:
		return (sizeof(struct pfsync_del_c));
	case PFSYNC_ACT_BUS:
		return (sizeof(struct pfsync_bus));
	case PFSYNC_ACT_TDB:
		return (sizeof(struct pfsync_tdb));
	default:
		return (0);
	}
}

void
capture_frame(const unsigned char *p, size_t len, void *arg)
{
	struct capture *c = arg;
	const struct ip *ip;
	const struct pfsync_header *ph;
	size_t off, end, hl;

	if (len < ETH_LEN + IP_LEN || p[12] != 0x08 || p[13] != 0x00)
		return;
	ip = (const struct ip *)(p + ETH_LEN);
	if (ip->ip_p != IPPROTO_PFSYNC)
		return;
	c->frames++;
	hl = (size_t)ip->ip_hl * 4;
	off = ETH_LEN + hl;
	if (off + sizeof(*ph) > len) {
		dump_once(p, len, "short");
		c->bad_frames++;
		return;
	}
	ph = (const struct pfsync_header *)(p + off);
	end = off + (size_t)rt_htons(ph->len);
	if (ph->version != PFSYNC_VERSION || end > len) {
		dump_once(p, len, "header");
		c->bad_frames++;
		return;
	}
	memcpy(c->pf_chksum, ph->pfcksum, sizeof(c->pf_chksum));
	off += sizeof(*ph);
	while (off + sizeof(struct pfsync_subheader) <= end) {
		const struct pfsync_subheader *sh = (const void *)(p + off);
		int action = sh->action, count = rt_htons(sh->count);
		size_t rs = record_size(action);

		off += sizeof(*sh);
		/* Stock ends every frame with EOF (count 1, no record). */
		if (action == PFSYNC_ACT_EOF) {
			c->actions[action]++;
			break;
		}
		if (action >= PFSYNC_ACT_MAX || (rs == 0 && count != 0) ||
		    off + rs * (size_t)count > end) {
			dump_once(p, len, "section");
			c->bad_frames++;
			return;
		}
		c->actions[action] += count;
		for (int i = 0; i < count; i++, off += rs) {
			const unsigned char *rec = p + off;

			if (action == PFSYNC_ACT_BUS) {
				const struct pfsync_bus *b = (const void *)rec;

				c->creatorid = rt_htonl(b->creatorid);
				if (b->status == PFSYNC_BUS_START)
					c->bus_start++;
				else if (b->status == PFSYNC_BUS_END)
					c->bus_end++;
			} else if (rs >= sizeof(struct pfsync_state_1301) &&
			    action != PFSYNC_ACT_TDB) {
				const struct pfsync_state_1301 *s = (const void *)rec;

				c->states++;
				if (rt_htonl(s->creatorid) == PEER_CREATORID)
					c->peer_states++;
				memcpy(&c->last_id, &s->id, sizeof(c->last_id));
			}
		}
	}
}

int
send_inserts(int bpf, uint64_t first, int n, int ttl)
{
	struct frame f;
	int frames = 0;

	for (int i = 0; i < n;) {
		frame_begin(&f, PEER_ADDR, ttl, PFSYNC_VERSION);
		frame_section(&f, PFSYNC_ACT_INS_1500);
		for (int k = 0; k < 4 && i < n; k++, i++)
			state_1500(frame_record(&f, sizeof(struct pfsync_state_1500)),
			    first + (uint64_t)i);
		frame_end(&f);
		if (bpf_send(bpf, f.buf, f.len) < 0)
			return (-1);
		frames++;
	}
	return (frames);
}
