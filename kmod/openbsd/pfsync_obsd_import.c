/* SPDX-License-Identifier: ISC */
/*
 * pfsync(4) for OpenBSD: the core's validated state record
 * (struct pfsync_rs_import) as OpenBSD's struct pfsync_state, which
 * pf_state_import() takes.  Pure: no lock, no allocation, no kernel call,
 * so stage 25 also runs it on Linux (tests/openbsd_shim/).
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

static sa_family_t
pfsync_obsd_af(uint8_t core_af)
{
	switch (core_af) {
	case PFSYNC_RS_AF_INET:
		return (AF_INET);
	case PFSYNC_RS_AF_INET6:
		return (AF_INET6);
	}
	return (AF_UNSPEC);
}

/*
 * The core's validated record as OpenBSD's struct pfsync_state, for
 * pf_state_import().  The import struct carries no routing domain and one
 * rtableid: both keys get rdomain 0 and that table.
 */
void
pfsync_obsd_import_record(const struct pfsync_rs_import *rec,
    struct pfsync_state *sp)
{
	int k, side;

	memset(sp, 0, sizeof(*sp));
	memcpy(&sp->id, rec->sid.id_be, sizeof(sp->id));
	memcpy(&sp->creatorid, rec->sid.creatorid_be, sizeof(sp->creatorid));
	memcpy(sp->ifname, rec->ifname, sizeof(sp->ifname));
	sp->ifname[sizeof(sp->ifname) - 1] = '\0';
	for (k = 0; k < 2; k++) {
		for (side = 0; side < 2; side++) {
			memcpy(&sp->key[k].addr[side], rec->key_addr[k][side],
			    sizeof(sp->key[k].addr[side]));
			memcpy(&sp->key[k].port[side], rec->key_port_be[k][side],
			    sizeof(sp->key[k].port[side]));
		}
		sp->key[k].af = pfsync_obsd_af(k == PF_SK_WIRE ?
		    rec->wire_af : rec->stack_af);
	}
	memcpy(&sp->src, rec->src, sizeof(sp->src));
	memcpy(&sp->dst, rec->dst, sizeof(sp->dst));
	memcpy(&sp->rt_addr, rec->rt_addr, sizeof(sp->rt_addr));
	sp->rule = htonl(rec->rule);
	sp->anchor = htonl(rec->anchor);
	sp->nat_rule = htonl(UINT32_MAX);
	sp->creation = htonl(rec->creation_age_s);
	sp->expire = htonl(rec->expire_s);
	sp->rtableid[PF_SK_WIRE] = htonl((uint32_t)rec->rtableid);
	sp->rtableid[PF_SK_STACK] = htonl((uint32_t)rec->rtableid);
	sp->max_mss = htons(rec->max_mss);
	sp->af = pfsync_obsd_af(rec->wire_af);
	sp->proto = rec->wire_proto;
	sp->direction = rec->direction;
	sp->log = rec->log;
	sp->rt = rec->rt;
	sp->timeout = rec->timeout;
	sp->min_ttl = rec->min_ttl;
	sp->set_tos = rec->set_tos;
	sp->state_flags = htons(rec->state_flags);
	sp->set_prio[0] = rec->set_prio[0];
	sp->set_prio[1] = rec->set_prio[1];
}
