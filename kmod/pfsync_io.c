/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Packets: receiving IP protocol 240, framing what the engine sends,
 * multicast membership on the sync interface, and the BPF tap on pfsync0.
 */

#include "opt_inet.h"
#include "opt_inet6.h"

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/callout.h>
#include <sys/counter.h>
#include <sys/lock.h>
#include <sys/malloc.h>
#include <sys/mbuf.h>
#include <sys/mutex.h>
#include <sys/rmlock.h>
#include <sys/socket.h>
#include <sys/sx.h>
#include <sys/taskqueue.h>

#include <net/bpf.h>
#include <net/if.h>
#include <net/if_var.h>
#include <net/if_private.h>
#include <net/vnet.h>
#include <net/pfvar.h>
#include <net/if_pfsync.h>

#include <netinet/in.h>
#include <netinet/in_var.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/ip_var.h>
#include <netinet6/in6_var.h>
#include <netinet6/ip6_var.h>
#include <netinet6/scope6_var.h>

#include "pfsync_rs.h"

/* ff12::f0, the link-local pfsync group (stock keeps it in if_pfsync.c). */
static const struct in6_addr pfsync_rs_group6 = {{{
	0xff, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0 }}};

/*
 * Receive.  Both families share one path.  Stock's cheap refusals come
 * first, in its order and with its counters (no sync interface, pf or
 * pfsync0 down: ipackets only; wrong interface: badif; TTL or hop limit not
 * 255: badttl), so a flood of protocol-240 packets from elsewhere costs no
 * copy, no rules lock and no engine lock.  What passes is copied into one
 * contiguous buffer and every further check and counter is the engine's.
 */
static void
pfsync_rs_rx_refuse(struct pfsync_rs_softc *sc, int why)
{
	counter_u64_add(sc->sc_rx_early[PFSYNC_RS_RX_EARLY_IPACKETS], 1);
	if (why != PFSYNC_RS_RX_EARLY_IPACKETS)
		counter_u64_add(sc->sc_rx_early[why], 1);
}

/* Add the early refusals to the engine's counters (net.pfsync.stats). */
void
pfsync_rs_input_stats(struct pfsync_rs_softc *sc, struct pfsyncstats *st)
{
	st->pfsyncs_ipackets +=
	    counter_u64_fetch(sc->sc_rx_early[PFSYNC_RS_RX_EARLY_IPACKETS]);
	st->pfsyncs_badif +=
	    counter_u64_fetch(sc->sc_rx_early[PFSYNC_RS_RX_EARLY_BADIF]);
	st->pfsyncs_badttl +=
	    counter_u64_fetch(sc->sc_rx_early[PFSYNC_RS_RX_EARLY_BADTTL]);
}

void
pfsync_rs_input_stats_clear(struct pfsync_rs_softc *sc)
{
	int i;

	for (i = 0; i < PFSYNC_RS_RX_EARLY_N; i++)
		counter_u64_zero(sc->sc_rx_early[i]);
}

static void
pfsync_rs_input_common(struct mbuf *m, int af, int iphlen, int ttl,
    const void *src, size_t srclen)
{
	struct pfsync_rs_softc *sc = V_pfsync_rs_softc;
	struct pfsync_rs_rx_meta meta;
	struct ifnet *sifp;
	uint8_t *buf = NULL;
	const uint8_t *frame = NULL;
	int len;
	PF_RULES_RLOCK_TRACKER;

	if (sc == NULL)
		goto done;
	/* A pointer compare only: the engine checks again under its lock. */
	sifp = atomic_load_ptr(&sc->sc_sync_if);
	if (sifp == NULL || !V_pf_status.running ||
	    (sc->sc_ifp->if_drv_flags & IFF_DRV_RUNNING) == 0) {
		pfsync_rs_rx_refuse(sc, PFSYNC_RS_RX_EARLY_IPACKETS);
		goto done;
	}
	if (sifp != m->m_pkthdr.rcvif) {
		pfsync_rs_rx_refuse(sc, PFSYNC_RS_RX_EARLY_BADIF);
		goto done;
	}
	if_inc_counter(sc->sc_ifp, IFCOUNTER_IPACKETS, 1);
	if_inc_counter(sc->sc_ifp, IFCOUNTER_IBYTES, m->m_pkthdr.len);
	if (ttl != PFSYNC_DFLTTL) {
		pfsync_rs_rx_refuse(sc, PFSYNC_RS_RX_EARLY_BADTTL);
		goto done;
	}

	memset(&meta, 0, sizeof(meta));
	meta.af = af;
	meta.ttl = ttl;
	meta.pf_running = V_pf_status.running ? 1 : 0;
	meta.if_running =
	    (sc->sc_ifp->if_drv_flags & IFF_DRV_RUNNING) ? 1 : 0;
	meta.ip_total_len = m->m_pkthdr.len;
	memcpy(meta.src_addr, src, srclen);

	/*
	 * One contiguous view of the payload: the mbuf's own data when it is a
	 * single mbuf (the common case), else a copy.
	 */
	len = m->m_pkthdr.len - iphlen;
	if (len > 0 && m->m_next == NULL && m->m_len == m->m_pkthdr.len)
		frame = mtod(m, uint8_t *) + iphlen;
	else if (len > 0 && len <= PFSYNC_RS_MAX_FRAME) {
		buf = malloc(len, M_PFSYNC_RS, M_NOWAIT);
		if (buf != NULL)
			m_copydata(m, iphlen, len, (caddr_t)buf);
		frame = buf;
	}
	if (frame == NULL) {
		meta.truncated = 1;
		len = 0;
	}

	/* Imports need the interface tree and rules stable. */
	PF_RULES_RLOCK();
	pfsync_rs_engine_enter(sc);
	meta.rcvif_is_syncdev = sc->sc_sync_if != NULL &&
	    sc->sc_sync_if == m->m_pkthdr.rcvif;
	if (sc->sc_engine != NULL) {
		sc->sc_in_input = 1;
		pfsync_rs_on_frame_received(sc->sc_engine, frame, len, &meta,
		    pfsync_rs_now_ns());
		sc->sc_in_input = 0;
	}
	pfsync_rs_inbox_drain(sc, 0);
	pfsync_rs_engine_leave(sc);
	PF_RULES_RUNLOCK();

done:
	free(buf, M_PFSYNC_RS);
	m_freem(m);
}

#ifdef INET
static int
pfsync_rs_input(struct mbuf **mp, int *offp __unused, int proto __unused)
{
	struct mbuf *m = *mp;
	struct ip *ip;

	*mp = NULL;
	if (m->m_len < (int)sizeof(struct ip) &&
	    (m = m_pullup(m, sizeof(struct ip))) == NULL)
		return (IPPROTO_DONE);
	ip = mtod(m, struct ip *);
	pfsync_rs_input_common(m, AF_INET, ip->ip_hl << 2, ip->ip_ttl,
	    &ip->ip_src, sizeof(ip->ip_src));
	return (IPPROTO_DONE);
}
#endif

#ifdef INET6
static int
pfsync_rs_input6(struct mbuf **mp, int *offp, int proto __unused)
{
	struct mbuf *m = *mp;
	struct ip6_hdr *ip6;

	*mp = NULL;
	if (m->m_len < (int)sizeof(struct ip6_hdr) &&
	    (m = m_pullup(m, sizeof(struct ip6_hdr))) == NULL)
		return (IPPROTO_DONE);
	ip6 = mtod(m, struct ip6_hdr *);
	pfsync_rs_input_common(m, AF_INET6, *offp, ip6->ip6_hlim,
	    &ip6->ip6_src, sizeof(ip6->ip6_src));
	return (IPPROTO_DONE);
}
#endif

int
pfsync_rs_proto_register(void)
{
	int error = 0;

#ifdef INET
	error = ipproto_register(IPPROTO_PFSYNC, pfsync_rs_input, NULL);
	if (error != 0)
		return (error);
#endif
#ifdef INET6
	error = ip6proto_register(IPPROTO_PFSYNC, pfsync_rs_input6, NULL);
	if (error != 0) {
#ifdef INET
		ipproto_unregister(IPPROTO_PFSYNC);
#endif
		return (error);
	}
#endif
	return (error);
}

void
pfsync_rs_proto_unregister(void)
{
#ifdef INET
	ipproto_unregister(IPPROTO_PFSYNC);
#endif
#ifdef INET6
	ip6proto_unregister(IPPROTO_PFSYNC);
#endif
}

/*
 * Send.  Called by the engine (engine lock held): frame the bytes, show them
 * to BPF listeners on pfsync0 without the IP header, queue for the tx task.
 */
void
pfsync_rs_bpf_tap(struct pfsync_rs_softc *sc, struct mbuf *m, int iphlen)
{
	if (!bpf_peers_present(sc->sc_ifp->if_bpf))
		return;
	m->m_data += iphlen;
	m->m_len -= iphlen;
	m->m_pkthdr.len -= iphlen;
	bpf_mtap(sc->sc_ifp->if_bpf, m);
	m->m_data -= iphlen;
	m->m_len += iphlen;
	m->m_pkthdr.len += iphlen;
}

int
pfsync_rs_host_send(void *ctx, const uint8_t *frame, size_t len)
{
	struct pfsync_rs_softc *sc = ctx;
	struct mbuf *m;
	int iphlen, family, queued;

	family = sc->sc_peer.ss_family;
	switch (family) {
#ifdef INET
	case AF_INET:
		iphlen = sizeof(struct ip);
		break;
#endif
#ifdef INET6
	case AF_INET6:
		iphlen = sizeof(struct ip6_hdr);
		break;
#endif
	default:
		/* No peer yet: only BPF listeners can see the frame. */
		iphlen = 0;
		break;
	}
	if (len > IP_MAXPACKET - (size_t)iphlen)
		return (EMSGSIZE);

	m = m_get3(max_linkhdr + iphlen + len, M_NOWAIT, MT_DATA, M_PKTHDR);
	if (m == NULL) {
		if_inc_counter(sc->sc_ifp, IFCOUNTER_OERRORS, 1);
		return (ENOBUFS);
	}
	m->m_data += max_linkhdr;
	m->m_len = m->m_pkthdr.len = iphlen + len;
	memcpy(mtod(m, uint8_t *) + iphlen, frame, len);

	switch (iphlen != 0 ? family : AF_UNSPEC) {
#ifdef INET
	case AF_INET: {
		struct ip *ip = mtod(m, struct ip *);

		memset(ip, 0, sizeof(*ip));
		ip->ip_v = IPVERSION;
		ip->ip_hl = sizeof(*ip) >> 2;
		ip->ip_tos = IPTOS_LOWDELAY;
		ip->ip_len = htons(iphlen + len);
		ip->ip_off = htons(IP_DF);
		ip->ip_ttl = PFSYNC_DFLTTL;
		ip->ip_p = IPPROTO_PFSYNC;
		ip->ip_src.s_addr = INADDR_ANY;
		ip->ip_dst = ((struct sockaddr_in *)&sc->sc_peer)->sin_addr;
#if __FreeBSD_version >= 1500000
		ip_fillid(ip, V_ip_random_id);
#else
		ip_fillid(ip);
#endif
		break;
	}
#endif
#ifdef INET6
	case AF_INET6: {
		struct ip6_hdr *ip6 = mtod(m, struct ip6_hdr *);
		struct in6_addr dst6, src6;
		struct epoch_tracker et;

		memset(ip6, 0, sizeof(*ip6));
		ip6->ip6_vfc = IPV6_VERSION;
		ip6->ip6_plen = htons(len);
		ip6->ip6_hlim = PFSYNC_DFLTTL;
		ip6->ip6_nxt = IPPROTO_PFSYNC;
		dst6 = ((struct sockaddr_in6 *)&sc->sc_peer)->sin6_addr;
		ip6->ip6_dst = dst6;
		if (sc->sc_sync_if != NULL) {
			memset(&src6, 0, sizeof(src6));
			NET_EPOCH_ENTER(et);
			(void)in6_selectsrc_addr(if_getfib(sc->sc_sync_if),
			    &dst6, 0, sc->sc_sync_if, &src6, NULL);
			NET_EPOCH_EXIT(et);
			ip6->ip6_src = src6;
		}
		break;
	}
#endif
	default:
		break;
	}

	pfsync_rs_bpf_tap(sc, m, iphlen);
	if (sc->sc_sync_if == NULL || iphlen == 0) {
		m_freem(m);
		return (0);
	}

	mtx_lock(&sc->sc_txq_mtx);
	queued = mbufq_enqueue(&sc->sc_txq, m) == 0;
	mtx_unlock(&sc->sc_txq_mtx);
	if (!queued) {
		m_freem(m);
		if_inc_counter(sc->sc_ifp, IFCOUNTER_OQDROPS, 1);
		return (ENOBUFS);
	}
	if_inc_counter(sc->sc_ifp, IFCOUNTER_OPACKETS, 1);
	if_inc_counter(sc->sc_ifp, IFCOUNTER_OBYTES, iphlen + len);
	return (0);
}

/* Schedule the tx task (from contexts that queued without the engine). */
void
pfsync_rs_tx_kick(struct pfsync_rs_softc *sc)
{
	taskqueue_enqueue(pfsync_rs_tq, &sc->sc_tx_task);
}

/*
 * Transmit what the engine queued, outside every engine and pf lock (pf
 * filters our own output).  sc_cfg_sx keeps the multicast options stable.
 * The engine counted each frame as sent when it was queued; refusals by
 * ip_output are reported back so they move to oerrors.
 */
void
pfsync_rs_tx_task(void *arg, int pending __unused)
{
	struct pfsync_rs_softc *sc = arg;
	struct epoch_tracker et;
	struct mbuf *frames, *data, *m, *n;
	uint32_t failed = 0;
	int error;

	mtx_lock(&sc->sc_txq_mtx);
	frames = mbufq_flush(&sc->sc_txq);
	data = mbufq_flush(&sc->sc_txq_data);
	mtx_unlock(&sc->sc_txq_mtx);

	CURVNET_SET(sc->sc_vnet);
	sx_slock(&sc->sc_cfg_sx);
	NET_EPOCH_ENTER(et);
	for (m = frames; m != NULL; m = n) {
		n = m->m_nextpkt;
		m->m_nextpkt = NULL;
		switch (mtod(m, struct ip *)->ip_v) {
#ifdef INET
		case IPVERSION:
			error = ip_output(m, NULL, NULL, IP_RAWOUTPUT,
			    &sc->sc_imo, NULL);
			break;
#endif
#ifdef INET6
		case IPV6_VERSION >> 4:
			error = ip6_output(m, NULL, NULL, 0, &sc->sc_im6o,
			    NULL, NULL);
			break;
#endif
		default:
			m_freem(m);
			error = EAFNOSUPPORT;
			break;
		}
		if (error != 0) {
			if_inc_counter(sc->sc_ifp, IFCOUNTER_OERRORS, 1);
			failed++;
		}
	}
	/* Released deferred packets: ordinary traffic, already filtered. */
	for (m = data; m != NULL; m = n) {
		n = m->m_nextpkt;
		m->m_nextpkt = NULL;
		switch (mtod(m, struct ip *)->ip_v) {
#ifdef INET
		case IPVERSION:
			(void)ip_output(m, NULL, NULL, 0, NULL, NULL);
			break;
#endif
#ifdef INET6
		case IPV6_VERSION >> 4:
			(void)ip6_output(m, NULL, NULL, 0, NULL, NULL, NULL);
			break;
#endif
		default:
			m_freem(m);
			break;
		}
	}
	NET_EPOCH_EXIT(et);
	sx_sunlock(&sc->sc_cfg_sx);
	if (failed > 0) {
		pfsync_rs_engine_enter(sc);
		if (sc->sc_engine != NULL)
			pfsync_rs_on_transmit_failed(sc->sc_engine, failed);
		pfsync_rs_engine_leave(sc);
	}
	CURVNET_RESTORE();
}

/*
 * Multicast membership for the sync interface.  A SET joins into a caller's
 * fresh moptions with no lock but sc_set_sx held (joining sleeps), and only
 * then swaps them with the softc's under sc_cfg_sx, so a join that fails
 * leaves the old membership, and the tx task, untouched.
 */
void
pfsync_rs_mopts_init(struct ip_moptions *imo, struct ip6_moptions *im6o)
{
	memset(imo, 0, sizeof(*imo));
	memset(im6o, 0, sizeof(*im6o));
#ifdef INET
	ip_mfilter_init(&imo->imo_head);
	imo->imo_multicast_vif = -1;
#endif
#ifdef INET6
	ip6_mfilter_init(&im6o->im6o_head);
#endif
}

int
pfsync_rs_multicast_setup(struct ifnet *ifp, struct sockaddr_storage *peer,
    struct ip_moptions *imo, struct ip6_moptions *im6o)
{
	int error;

	if (!(ifp->if_flags & IFF_MULTICAST))
		return (EADDRNOTAVAIL);
	switch (peer->ss_family) {
#ifdef INET
	case AF_INET: {
		struct in_mfilter *imf;

		imf = ip_mfilter_alloc(M_WAITOK, 0, 0);
		error = in_joingroup(ifp,
		    &((const struct sockaddr_in *)peer)->sin_addr, NULL,
		    &imf->imf_inm);
		if (error != 0) {
			ip_mfilter_free(imf);
			return (error);
		}
		ip_mfilter_insert(&imo->imo_head, imf);
		imo->imo_multicast_ifp = ifp;
		imo->imo_multicast_ttl = PFSYNC_DFLTTL;
		imo->imo_multicast_loop = 0;
		return (0);
	}
#endif
#ifdef INET6
	case AF_INET6: {
		struct in6_mfilter *im6f;
		struct in6_addr group;

		group = ((const struct sockaddr_in6 *)peer)->sin6_addr;
		error = in6_setscope(&group, ifp, NULL);
		if (error != 0)
			return (error);
		im6f = ip6_mfilter_alloc(M_WAITOK, 0, 0);
		error = in6_joingroup(ifp, &group, NULL, &im6f->im6f_in6m, 0);
		if (error != 0) {
			ip6_mfilter_free(im6f);
			return (error);
		}
		ip6_mfilter_insert(&im6o->im6o_head, im6f);
		im6o->im6o_multicast_ifp = ifp;
		im6o->im6o_multicast_hlim = PFSYNC_DFLTTL;
		im6o->im6o_multicast_loop = 0;
		/* Frames go to the scoped group. */
		((struct sockaddr_in6 *)peer)->sin6_addr = group;
		return (0);
	}
#endif
	default:
		return (EAFNOSUPPORT);
	}
}

/* Leave every group of `imo`/`im6o` (sleeps; no engine lock). */
void
pfsync_rs_mopts_leave(struct ip_moptions *imo, struct ip6_moptions *im6o)
{
#ifdef INET
	struct in_mfilter *imf;

	while ((imf = ip_mfilter_first(&imo->imo_head)) != NULL) {
		ip_mfilter_remove(&imo->imo_head, imf);
		in_leavegroup(imf->imf_inm, NULL);
		ip_mfilter_free(imf);
	}
	imo->imo_multicast_ifp = NULL;
#endif
#ifdef INET6
	struct in6_mfilter *im6f;

	while ((im6f = ip6_mfilter_first(&im6o->im6o_head)) != NULL) {
		ip6_mfilter_remove(&im6o->im6o_head, im6f);
		in6_leavegroup(im6f->im6f_in6m, NULL);
		ip6_mfilter_free(im6f);
	}
	im6o->im6o_multicast_ifp = NULL;
#endif
}

/*
 * Exchange the softc's memberships with `imo`/`im6o` (sc_cfg_sx held
 * exclusive).  Filters move one by one: a list head copied by value would
 * point into the caller's stack.
 */
void
pfsync_rs_mopts_swap(struct pfsync_rs_softc *sc, struct ip_moptions *imo,
    struct ip6_moptions *im6o)
{
#ifdef INET
	struct ip_mfilter_head held;
	struct in_mfilter *imf;
	struct ifnet *ifp;

	sx_assert(&sc->sc_cfg_sx, SA_XLOCKED);
	ip_mfilter_init(&held);
	while ((imf = ip_mfilter_first(&sc->sc_imo.imo_head)) != NULL) {
		ip_mfilter_remove(&sc->sc_imo.imo_head, imf);
		ip_mfilter_insert(&held, imf);
	}
	while ((imf = ip_mfilter_first(&imo->imo_head)) != NULL) {
		ip_mfilter_remove(&imo->imo_head, imf);
		ip_mfilter_insert(&sc->sc_imo.imo_head, imf);
	}
	while ((imf = ip_mfilter_first(&held)) != NULL) {
		ip_mfilter_remove(&held, imf);
		ip_mfilter_insert(&imo->imo_head, imf);
	}
	ifp = sc->sc_imo.imo_multicast_ifp;
	sc->sc_imo.imo_multicast_ifp = imo->imo_multicast_ifp;
	imo->imo_multicast_ifp = ifp;
	sc->sc_imo.imo_multicast_ttl = PFSYNC_DFLTTL;
	sc->sc_imo.imo_multicast_loop = 0;
	sc->sc_imo.imo_multicast_vif = -1;
#endif
#ifdef INET6
	struct ip6_mfilter_head held6;
	struct in6_mfilter *im6f;
	struct ifnet *ifp6;

	ip6_mfilter_init(&held6);
	while ((im6f = ip6_mfilter_first(&sc->sc_im6o.im6o_head)) != NULL) {
		ip6_mfilter_remove(&sc->sc_im6o.im6o_head, im6f);
		ip6_mfilter_insert(&held6, im6f);
	}
	while ((im6f = ip6_mfilter_first(&im6o->im6o_head)) != NULL) {
		ip6_mfilter_remove(&im6o->im6o_head, im6f);
		ip6_mfilter_insert(&sc->sc_im6o.im6o_head, im6f);
	}
	while ((im6f = ip6_mfilter_first(&held6)) != NULL) {
		ip6_mfilter_remove(&held6, im6f);
		ip6_mfilter_insert(&im6o->im6o_head, im6f);
	}
	ifp6 = sc->sc_im6o.im6o_multicast_ifp;
	sc->sc_im6o.im6o_multicast_ifp = im6o->im6o_multicast_ifp;
	im6o->im6o_multicast_ifp = ifp6;
	sc->sc_im6o.im6o_multicast_hlim = PFSYNC_DFLTTL;
	sc->sc_im6o.im6o_multicast_loop = 0;
#endif
}

void
pfsync_rs_multicast_cleanup(struct pfsync_rs_softc *sc)
{
	pfsync_rs_mopts_leave(&sc->sc_imo, &sc->sc_im6o);
}

/* The default groups, for pfsync_if.c. */
const struct in6_addr *
pfsync_rs_default_group6(void)
{
	return (&pfsync_rs_group6);
}
