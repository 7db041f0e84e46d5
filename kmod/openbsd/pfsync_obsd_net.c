/* SPDX-License-Identifier: ISC */
/*
 * pfsync(4) for OpenBSD, part 5: IP protocol 240 in and out, and the
 * net.inet.pfsync sysctl.  pfsync_input4() is what in_proto.c's protosw
 * entry for IPPROTO_PFSYNC calls; it hands the bytes after the IP header to
 * the core, which checks and counts everything.  Outgoing frames come from
 * the core through `send` (queued under the engine lock) and leave through
 * ip_output() from a task, under NET_LOCK and with the engine lock free.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/mbuf.h>
#include <sys/socket.h>
#include <sys/sysctl.h>
#include <sys/mutex.h>
#include <sys/rwlock.h>
#include <sys/smr.h>
#include <sys/refcnt.h>

#include <net/if.h>
#include <net/if_var.h>
#include <net/bpf.h>
#include <netinet/in.h>
#include <netinet/in_var.h>
#include <netinet/ip.h>
#include <netinet/ip_var.h>
#include <netinet/ip6.h>
#include <netinet6/in6_var.h>
#include <netinet6/ip6_var.h>

#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <netinet/ip_icmp.h>
#include <netinet/icmp6.h>
#include <netinet/ip_ipsp.h>
#include <net/pfvar.h>
#include <net/pfvar_priv.h>
#include <net/if_pfsync.h>

#include "bpfilter.h"
#include "pfsync_obsd.h"

/* struct pfsyncstats: the 16 counters the core keeps, in the same order. */
_Static_assert(sizeof(struct pfsyncstats) == 16 * sizeof(uint64_t),
    "OpenBSD's pfsyncstats is the core's 16 scalar counters");

/* The core writes FreeBSD 14's layout: 16 counters, then 2 x 15 per action. */
#define	PFSYNC_OBSD_CORE_STATS_LEN	(16 * 8 + 2 * 15 * 8)

/* Called with NET_LOCK held (shared), which keeps pfsync0 alive. */
int
pfsync_input4(struct mbuf **mp, int *offp, int proto, int af,
    struct netstack *ns)
{
	struct pfsync_obsd_softc *sc = SMR_PTR_GET(&pfsync_obsd_sc);
	struct mbuf *m = *mp;
	struct pfsync_rs_rx_meta meta;
	struct ip *ip;
	size_t len;
	int off = *offp;

	*mp = NULL;
	if (sc == NULL || m->m_pkthdr.len < off) {
		m_freem(m);
		return (IPPROTO_DONE);
	}
	ip = mtod(m, struct ip *);
	memset(&meta, 0, sizeof(meta));
	meta.af = PFSYNC_RS_AF_INET;
	meta.ttl = ip->ip_ttl;
	meta.rcvif_is_syncdev = sc->sc_sync_ifidx != 0 &&
	    m->m_pkthdr.ph_ifidx == sc->sc_sync_ifidx;
	meta.pf_running = pf_status.running != 0;
	meta.if_running = ISSET(sc->sc_if.if_flags, IFF_RUNNING) ? 1 : 0;
	meta.ip_total_len = (uint32_t)m->m_pkthdr.len;
	memcpy(meta.src_addr, &ip->ip_src, sizeof(ip->ip_src));

	len = (size_t)(m->m_pkthdr.len - off);
	if (len > PFSYNC_OBSD_MAX_FRAME) {
		meta.truncated = 1;
		len = 0;
	}
	m_adj(m, off);
#if NBPFILTER > 0
	if (sc->sc_if.if_bpf != NULL)
		bpf_mtap(sc->sc_if.if_bpf, m, BPF_DIRECTION_IN);
#endif

	pfsync_obsd_engine_enter(sc);
	if (sc->sc_engine != NULL) {
		if (len > 0)
			m_copydata(m, 0, len, sc->sc_rxbuf);
		pfsync_rs_on_frame_received(sc->sc_engine, sc->sc_rxbuf, len,
		    &meta, pfsync_obsd_now_ns());
	}
	pfsync_obsd_engine_leave(sc);
	m_freem(m);
	return (IPPROTO_DONE);
}

/*
 * The host op `send`: one frame from the core, behind an IPv4 header to
 * the peer (or the pfsync group), queued for sc_tx_task.  Seen
 * on pfsync0's bpf either way; without a sync interface it goes no further.
 */
int
pfsync_obsd_frame_queue(struct pfsync_obsd_softc *sc, const uint8_t *frame,
    size_t len)
{
	struct mbuf *m;
	struct ip *ip;
	size_t total = sizeof(*ip) + len;

	if (len > PFSYNC_OBSD_MAX_FRAME - sizeof(*ip))
		return (EMSGSIZE);
	m = m_gethdr(M_DONTWAIT, MT_DATA);
	if (m == NULL)
		return (ENOBUFS);
	if (total > MHLEN) {
		if (MCLGETL(m, M_DONTWAIT, total) == NULL) {
			m_freem(m);
			return (ENOBUFS);
		}
	}
	m->m_len = m->m_pkthdr.len = (int)total;
	ip = mtod(m, struct ip *);
	memset(ip, 0, sizeof(*ip));
	ip->ip_v = IPVERSION;
	ip->ip_hl = sizeof(*ip) >> 2;
	ip->ip_tos = IPTOS_LOWDELAY;
	ip->ip_len = htons((uint16_t)total);
	ip->ip_id = htons(ip_randomid());
	ip->ip_off = htons(IP_DF);
	ip->ip_ttl = PFSYNC_DFLTTL;
	ip->ip_p = IPPROTO_PFSYNC;
	ip->ip_src.s_addr = INADDR_ANY;
	ip->ip_dst = sc->sc_sync_peer;
	memcpy(ip + 1, frame, len);

#if NBPFILTER > 0
	if (sc->sc_if.if_bpf != NULL) {
		m->m_data += sizeof(*ip);
		m->m_len -= sizeof(*ip);
		m->m_pkthdr.len -= sizeof(*ip);
		bpf_mtap(sc->sc_if.if_bpf, m, BPF_DIRECTION_OUT);
		m->m_data -= sizeof(*ip);
		m->m_len += sizeof(*ip);
		m->m_pkthdr.len += sizeof(*ip);
	}
#endif
	if (sc->sc_sync_ifidx == 0) {
		m_freem(m);
		return (0);
	}
	m->m_pkthdr.ph_rtableid = sc->sc_if.if_rdomain;
	mtx_enter(&sc->sc_txq_mtx);
	if (ml_len(&sc->sc_txq) >= PFSYNC_OBSD_TXQ_LEN) {
		mtx_leave(&sc->sc_txq_mtx);
		m_freem(m);
		return (ENOBUFS);
	}
	ml_enqueue(&sc->sc_txq, m);
	mtx_leave(&sc->sc_txq_mtx);
	return (0);
}

/* Task: send what the engine queued, under NET_LOCK, no engine lock. */
void
pfsync_obsd_tx_task(void *arg)
{
	struct pfsync_obsd_softc *sc = arg;
	struct mbuf_list frames, released;
	struct ip_moptions imo;
	struct mbuf *m;
	uint32_t failed = 0;

	NET_LOCK();
	mtx_enter(&sc->sc_txq_mtx);
	frames = sc->sc_txq;
	released = sc->sc_relq;
	ml_init(&sc->sc_txq);
	ml_init(&sc->sc_relq);
	mtx_leave(&sc->sc_txq_mtx);

	memset(&imo, 0, sizeof(imo));
	imo.imo_ifidx = sc->sc_sync_ifidx;
	imo.imo_ttl = PFSYNC_DFLTTL;
	imo.imo_loop = 0;
	while ((m = ml_dequeue(&frames)) != NULL) {
		if (ip_output(m, NULL, NULL, IP_RAWOUTPUT, &imo, NULL, 0) != 0)
			failed++;
	}

	/* Deferred packets go out as pf passed them (pfsync_defer). */
	while ((m = ml_dequeue(&released)) != NULL) {
		if (mtod(m, struct ip *)->ip_v == IPVERSION)
			(void)ip_output(m, NULL, NULL, 0, NULL, NULL, 0);
		else
			(void)ip6_output(m, NULL, NULL, 0, NULL, NULL);
	}
	NET_UNLOCK();

	if (failed != 0) {
		rw_enter_write(&sc->sc_engine_lock);
		if (sc->sc_engine != NULL)
			pfsync_rs_on_transmit_failed(sc->sc_engine, failed);
		rw_exit_write(&sc->sc_engine_lock);
	}
}

int
pfsync_sysctl(int *name, u_int namelen, void *oldp, size_t *oldlenp,
    void *newp, size_t newlen)
{
	struct pfsync_obsd_softc *sc;
	struct pfsyncstats stats;
	uint64_t counters[PFSYNC_OBSD_CORE_STATS_LEN / 8];

	if (namelen != 1)
		return (ENOTDIR);
	switch (name[0]) {
	case PFSYNCCTL_STATS:
		memset(&stats, 0, sizeof(stats));
		smr_read_enter();
		sc = SMR_PTR_GET(&pfsync_obsd_sc);
		if (sc != NULL)
			refcnt_take(&sc->sc_refs);
		smr_read_leave();
		if (sc != NULL) {
			rw_enter_read(&sc->sc_engine_lock);
			if (sc->sc_engine != NULL &&
			    pfsync_rs_stats_export(sc->sc_engine, counters,
			    sizeof(counters)) == 0)
				memcpy(&stats, counters, sizeof(stats));
			rw_exit_read(&sc->sc_engine_lock);
			refcnt_rele_wake(&sc->sc_refs);
		}
		return (sysctl_rdstruct(oldp, oldlenp, newp, &stats,
		    sizeof(stats)));
	}
	return (ENOPROTOOPT);
}
