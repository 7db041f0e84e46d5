/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pfsync0: the cloner, the ifnet, its ioctls, and turning a configuration
 * into kernel objects (sync interface reference, peer address, multicast
 * membership) before the engine hears about it.
 */

#include "opt_inet.h"
#include "opt_inet6.h"

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/callout.h>
#include <sys/counter.h>
#include <sys/epoch.h>
#include <sys/lock.h>
#include <sys/malloc.h>
#include <sys/mbuf.h>
#include <sys/mutex.h>
#include <sys/nv.h>
#include <sys/priv.h>
#include <sys/proc.h>
#include <sys/socket.h>
#include <sys/sockio.h>
#include <sys/sx.h>
#include <sys/taskqueue.h>

#include <net/bpf.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_var.h>
#include <net/if_clone.h>
#include <net/if_private.h>
#include <net/if_types.h>
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

#include "pfsync_rs.h"

/* sizeof(union { struct ip; struct ip6_hdr; }) + pfsync header + subheader. */
#define	PFSYNC_RS_MINPKT	(sizeof(struct ip6_hdr) + \
	sizeof(struct pfsync_header) + sizeof(struct pfsync_subheader))

VNET_DEFINE_STATIC(struct if_clone *, pfsync_rs_cloner);
#define	V_pfsync_rs_cloner	VNET(pfsync_rs_cloner)

static const char pfsync_rs_name[] = "pfsync";

static int
pfsync_rs_output(struct ifnet *ifp __unused, struct mbuf *m,
    const struct sockaddr *dst __unused, struct route *ro __unused)
{
	/* Nothing is ever routed out of pfsync0. */
	m_freem(m);
	return (0);
}

/* Fill the sysctl-backed knobs and the interface facts of a configuration. */
static void
pfsync_rs_cfg_complete(struct pfsync_rs_softc *sc, struct ifnet *sifp,
    struct pfsync_rs_config *cfg)
{
	cfg->syncdev_mtu = sifp != NULL ? sifp->if_mtu : 0;
	cfg->syncdev_baudrate = sifp != NULL ? sifp->if_baudrate : 0;
	cfg->syncdev_multicast =
	    (sifp != NULL && (sifp->if_flags & IFF_MULTICAST)) ? 1 : 0;
	cfg->ifmtu = sc->sc_ifp->if_mtu;
	cfg->defer_delay_ms = V_pfsync_rs_defer_delay_ms;
	cfg->carp_demotion = V_pfsync_rs_carp_adj;
	cfg->bulk_pace_us = V_pfsync_rs_bulk_pace_us;
	memcpy(cfg->hostid_be, &V_pf_status.hostid, sizeof(cfg->hostid_be));
	memcpy(cfg->pf_cksum, V_pf_status.pf_chksum, sizeof(cfg->pf_cksum));
}

/* The destination stock would use: the default group for a zero peer. */
static int
pfsync_rs_cfg_peer(const struct pfsync_rs_config *cfg, struct ifnet *sifp,
    struct sockaddr_storage *peer)
{
	memset(peer, 0, sizeof(*peer));
	switch (cfg->syncpeer_af) {
#ifdef INET
	case PFSYNC_RS_AF_UNSPEC:
	case PFSYNC_RS_AF_INET: {
		struct sockaddr_in *sin = (struct sockaddr_in *)peer;

		sin->sin_family = AF_INET;
		sin->sin_len = sizeof(*sin);
		memcpy(&sin->sin_addr, cfg->syncpeer, sizeof(sin->sin_addr));
		if (sin->sin_addr.s_addr == INADDR_ANY)
			sin->sin_addr.s_addr = htonl(INADDR_PFSYNC_GROUP);
		return (0);
	}
#endif
#ifdef INET6
	case PFSYNC_RS_AF_INET6: {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)peer;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_len = sizeof(*sin6);
		memcpy(&sin6->sin6_addr, cfg->syncpeer,
		    sizeof(sin6->sin6_addr));
		if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr))
			sin6->sin6_addr = *pfsync_rs_default_group6();
		return (0);
	}
#endif
	default:
		(void)sifp;
		return (EAFNOSUPPORT);
	}
}

static int
pfsync_rs_peer_is_multicast(const struct sockaddr_storage *peer)
{
	switch (peer->ss_family) {
	case AF_INET:
		return (IN_MULTICAST(ntohl(
		    ((const struct sockaddr_in *)peer)->sin_addr.s_addr)));
	case AF_INET6:
		return (IN6_IS_ADDR_MULTICAST(
		    &((const struct sockaddr_in6 *)peer)->sin6_addr));
	default:
		return (0);
	}
}

/*
 * Apply a SET, all or nothing: validate (core), resolve the interface, join
 * the new groups beside the old ones, then, under the engine lock, install
 * the new interface and peer and let the engine accept or refuse the
 * configuration (it changes nothing when it refuses; it requests a bulk
 * update when it accepts a new sync interface).  Refused: the shim's old
 * values come back and the new groups are left.  Accepted: the old groups
 * are left.  Either way ifconfig gets the error.
 */
static int
pfsync_rs_apply(struct pfsync_rs_softc *sc, struct pfsync_rs_config *cfg)
{
	struct sockaddr_storage peer, old_peer;
	struct pfsync_rs_config old_cfg;
	struct ip_moptions imo;
	struct ip6_moptions im6o;
	struct ifnet *sifp = NULL, *old;
	int error;

	if (memchr(cfg->syncdev, 0, sizeof(cfg->syncdev)) == NULL)
		return (EINVAL);
	if (cfg->syncdev[0] != '\0' &&
	    (sifp = ifunit_ref(cfg->syncdev)) == NULL)
		return (EINVAL);
	pfsync_rs_cfg_complete(sc, sifp, cfg);
	error = pfsync_rs_config_check(cfg, __FreeBSD_version);
	if (error == 0)
		error = pfsync_rs_cfg_peer(cfg, sifp, &peer);
	if (error != 0) {
		if (sifp != NULL)
			if_rele(sifp);
		return (error);
	}

	pfsync_rs_mopts_init(&imo, &im6o);
	sx_xlock(&sc->sc_set_sx);
	if (sifp != NULL && pfsync_rs_peer_is_multicast(&peer)) {
		error = pfsync_rs_multicast_setup(sifp, &peer, &imo, &im6o);
		if (error != 0)
			goto out;
	}

	sx_xlock(&sc->sc_cfg_sx);
	pfsync_rs_engine_enter(sc);
	old = sc->sc_sync_if;
	old_peer = sc->sc_peer;
	old_cfg = sc->sc_cfg;
	/* Installed first: a bulk request the engine starts goes to them. */
	sc->sc_sync_if = sifp;
	sc->sc_peer = peer;
	sc->sc_cfg = *cfg;
	if (sc->sc_engine != NULL)
		error = pfsync_rs_on_config_changed(sc->sc_engine, cfg,
		    pfsync_rs_now_ns());
	if (error != 0) {
		sc->sc_sync_if = old;
		sc->sc_peer = old_peer;
		sc->sc_cfg = old_cfg;
	} else {
		pfsync_rs_mopts_swap(sc, &imo, &im6o);
		sifp = old;
	}
	pfsync_rs_engine_leave(sc);
	sx_xunlock(&sc->sc_cfg_sx);
out:
	/* The old groups after a success, the new ones after a failure. */
	pfsync_rs_mopts_leave(&imo, &im6o);
	sx_xunlock(&sc->sc_set_sx);
	if (sifp != NULL)
		if_rele(sifp);
	return (error);
}

static int
pfsync_rs_ioctl_get_nv(struct pfsync_rs_softc *sc, struct ifreq *ifr)
{
	char syncdev[IFNAMSIZ];
	struct sockaddr_storage peer;
	uint32_t maxupd, flags, version;
	nvlist_t *nvl;
	void *packed;
	size_t len;
	int error;

	sx_slock(&sc->sc_cfg_sx);
	memset(syncdev, 0, sizeof(syncdev));
	if (sc->sc_sync_if != NULL)
		strlcpy(syncdev, sc->sc_sync_if->if_xname, sizeof(syncdev));
	peer = sc->sc_peer;
	maxupd = sc->sc_cfg.maxupdates;
	pfsync_rs_engine_enter(sc);
	flags = sc->sc_engine != NULL ?
	    pfsync_rs_status_flags(sc->sc_engine) : sc->sc_cfg.flags;
	version = sc->sc_engine != NULL ?
	    pfsync_rs_effective_version(sc->sc_engine) : sc->sc_cfg.version;
	pfsync_rs_engine_leave(sc);
	sx_sunlock(&sc->sc_cfg_sx);

	nvl = pfsync_rs_config_to_nv(syncdev, &peer, maxupd, flags, version);
	if (nvl == NULL)
		return (ENOMEM);
	packed = nvlist_pack(nvl, &len);
	nvlist_destroy(nvl);
	if (packed == NULL)
		return (ENOMEM);
	if (len > ifr->ifr_cap_nv.buf_length) {
		ifr->ifr_cap_nv.length = len;
		ifr->ifr_cap_nv.buffer = NULL;
		free(packed, M_NVLIST);
		return (EFBIG);
	}
	ifr->ifr_cap_nv.length = len;
	error = copyout(packed, ifr->ifr_cap_nv.buffer, len);
	free(packed, M_NVLIST);
	return (error);
}

static int
pfsync_rs_ioctl_set_nv(struct pfsync_rs_softc *sc, struct ifreq *ifr)
{
	struct pfsync_rs_config cfg;
	nvlist_t *nvl;
	void *data;
	int error;

	if ((error = priv_check(curthread, PRIV_NETINET_PF)) != 0)
		return (error);
	if (ifr->ifr_cap_nv.length > IFR_CAP_NV_MAXBUFSIZE ||
	    ifr->ifr_cap_nv.length == 0)
		return (EINVAL);
	data = malloc(ifr->ifr_cap_nv.length, M_PFSYNC_RS, M_WAITOK);
	error = copyin(ifr->ifr_cap_nv.buffer, data, ifr->ifr_cap_nv.length);
	if (error != 0) {
		free(data, M_PFSYNC_RS);
		return (error);
	}
	nvl = nvlist_unpack(data, ifr->ifr_cap_nv.length, 0);
	free(data, M_PFSYNC_RS);
	if (nvl == NULL)
		return (EINVAL);
	error = pfsync_rs_nv_to_config(nvl, &cfg);
	nvlist_destroy(nvl);
	if (error != 0)
		return (error);
	return (pfsync_rs_apply(sc, &cfg));
}

static int
pfsync_rs_ioctl(struct ifnet *ifp, u_long cmd, caddr_t data)
{
	struct pfsync_rs_softc *sc = ifp->if_softc;
	struct ifreq *ifr = (struct ifreq *)data;
	struct pfsync_rs_config cfg;
	struct pfsyncreq req;
	char syncdev[IFNAMSIZ];
	uint32_t flags;
	int error, running;

	switch (cmd) {
	case SIOCSIFFLAGS:
		running = (ifp->if_flags & IFF_UP) != 0;
		if (running)
			ifp->if_drv_flags |= IFF_DRV_RUNNING;
		else
			ifp->if_drv_flags &= ~IFF_DRV_RUNNING;
		/* Stock installs the pf hooks on up and removes them on down. */
		if (running)
			pfsync_rs_hooks_install();
		else
			pfsync_rs_hooks_remove();
		pfsync_rs_engine_enter(sc);
		if (sc->sc_engine != NULL)
			pfsync_rs_on_running_changed(sc->sc_engine, running,
			    pfsync_rs_now_ns());
		pfsync_rs_engine_leave(sc);
		return (0);

	case SIOCSIFMTU:
		sx_xlock(&sc->sc_cfg_sx);
		if (sc->sc_sync_if == NULL ||
		    ifr->ifr_mtu <= (int)PFSYNC_RS_MINPKT ||
		    ifr->ifr_mtu > (int)sc->sc_sync_if->if_mtu) {
			sx_xunlock(&sc->sc_cfg_sx);
			return (EINVAL);
		}
		ifp->if_mtu = ifr->ifr_mtu;
		pfsync_rs_engine_enter(sc);
		sc->sc_cfg.ifmtu = ifp->if_mtu;
		if (sc->sc_engine != NULL)
			(void)pfsync_rs_on_config_changed(sc->sc_engine,
			    &sc->sc_cfg, pfsync_rs_now_ns());
		pfsync_rs_engine_leave(sc);
		sx_xunlock(&sc->sc_cfg_sx);
		return (0);

	case SIOCGETPFSYNC:
		sx_slock(&sc->sc_cfg_sx);
		memset(syncdev, 0, sizeof(syncdev));
		if (sc->sc_sync_if != NULL)
			strlcpy(syncdev, sc->sc_sync_if->if_xname,
			    sizeof(syncdev));
		pfsync_rs_engine_enter(sc);
		flags = sc->sc_engine != NULL ?
		    pfsync_rs_status_flags(sc->sc_engine) : sc->sc_cfg.flags;
		pfsync_rs_engine_leave(sc);
		pfsync_rs_config_to_req(syncdev, &sc->sc_peer,
		    sc->sc_cfg.maxupdates, flags, &req);
		sx_sunlock(&sc->sc_cfg_sx);
		return (copyout(&req, ifr_data_get_ptr(ifr), sizeof(req)));

	case SIOCSETPFSYNC:
		if ((error = priv_check(curthread, PRIV_NETINET_PF)) != 0)
			return (error);
		error = copyin(ifr_data_get_ptr(ifr), &req, sizeof(req));
		if (error != 0)
			return (error);
		if (memchr(req.pfsyncr_syncdev, 0,
		    sizeof(req.pfsyncr_syncdev)) == NULL)
			return (EINVAL);
		pfsync_rs_req_to_config(&req, &cfg);
		return (pfsync_rs_apply(sc, &cfg));

	case SIOCGETPFSYNCNV:
		return (pfsync_rs_ioctl_get_nv(sc, ifr));

	case SIOCSETPFSYNCNV:
		return (pfsync_rs_ioctl_set_nv(sc, ifr));

	default:
		return (ENOTTY);
	}
}

static void
pfsync_rs_softc_free(struct pfsync_rs_softc *sc)
{
	int i;

	callout_drain(&sc->sc_timer);
	for (i = 0; i < PFSYNC_RS_RX_EARLY_N; i++)
		counter_u64_free(sc->sc_rx_early[i]);
	pfsync_rs_inbox_fini(sc);
	mtx_destroy(&sc->sc_engine_mtx);
	mtx_destroy(&sc->sc_inbox_mtx);
	mtx_destroy(&sc->sc_txq_mtx);
	sx_destroy(&sc->sc_cfg_sx);
	sx_destroy(&sc->sc_set_sx);
	free(sc, M_PFSYNC_RS);
}

static int
pfsync_rs_clone_create(struct if_clone *ifc __unused, int unit,
    caddr_t param __unused)
{
	struct pfsync_rs_softc *sc;
	struct ifnet *ifp;
	int error, i;

	if (unit != 0)
		return (EINVAL);

	sc = malloc(sizeof(*sc), M_PFSYNC_RS, M_WAITOK | M_ZERO);
	for (i = 0; i < PFSYNC_RS_RX_EARLY_N; i++)
		sc->sc_rx_early[i] = counter_u64_alloc(M_WAITOK);
	mtx_init(&sc->sc_engine_mtx, "pfsync engine", NULL, MTX_DEF);
	mtx_init(&sc->sc_inbox_mtx, "pfsync inbox", NULL, MTX_DEF);
	mtx_init(&sc->sc_txq_mtx, "pfsync txq", NULL, MTX_DEF);
	sx_init(&sc->sc_set_sx, "pfsync set");
	sx_init(&sc->sc_cfg_sx, "pfsync config");
	callout_init_mtx(&sc->sc_timer, &sc->sc_engine_mtx, 0);
	pfsync_rs_inbox_init(sc);
	pfsync_rs_defer_init(sc);
	TASK_INIT(&sc->sc_hook_task, 0, pfsync_rs_hook_task, sc);
	TASK_INIT(&sc->sc_tx_task, 0, pfsync_rs_tx_task, sc);
	mbufq_init(&sc->sc_txq, PFSYNC_RS_TXQ_LEN);
	mbufq_init(&sc->sc_txq_data, ifqmaxlen);
#ifdef INET
	ip_mfilter_init(&sc->sc_imo.imo_head);
#endif
#ifdef INET6
	ip6_mfilter_init(&sc->sc_im6o.im6o_head);
#endif
	sc->sc_vnet = curvnet;
	sc->sc_cfg.maxupdates = 128;

	ifp = sc->sc_ifp = if_alloc(IFT_PFSYNC);
	if_initname(ifp, pfsync_rs_name, unit);
	ifp->if_softc = sc;
	ifp->if_ioctl = pfsync_rs_ioctl;
	ifp->if_output = pfsync_rs_output;
	ifp->if_hdrlen = sizeof(struct pfsync_header);
	ifp->if_mtu = ETHERMTU;
	pfsync_rs_cfg_complete(sc, NULL, &sc->sc_cfg);

	error = pfsync_rs_engine_attach(sc);
	if (error != 0) {
		if_free(ifp);
		pfsync_rs_softc_free(sc);
		return (error);
	}

	if_attach(ifp);
	bpfattach(ifp, DLT_PFSYNC, PFSYNC_HDRLEN);
	V_pfsync_rs_softc = sc;
	return (0);
}

static void
pfsync_rs_clone_destroy(struct ifnet *ifp)
{
	struct pfsync_rs_softc *sc = ifp->if_softc;
	struct mbuf *m;

	/* No new hook events; wait out hooks that already hold the pointer. */
	mtx_lock(&sc->sc_inbox_mtx);
	sc->sc_dying = 1;
	mtx_unlock(&sc->sc_inbox_mtx);
	V_pfsync_rs_softc = NULL;
	pfsync_rs_hooks_quiesce();
	taskqueue_drain(pfsync_rs_tq, &sc->sc_hook_task);

	/* Deliver what is parked (releasing its references), then destroy. */
	pfsync_rs_engine_enter(sc);
	pfsync_rs_inbox_drain(sc, 0);
	mtx_unlock(&sc->sc_engine_mtx);
	pfsync_rs_engine_detach(sc);
	pfsync_rs_defer_flush(sc);

	taskqueue_drain(pfsync_rs_tq, &sc->sc_tx_task);
	mtx_lock(&sc->sc_txq_mtx);
	while ((m = mbufq_dequeue(&sc->sc_txq)) != NULL)
		m_freem(m);
	while ((m = mbufq_dequeue(&sc->sc_txq_data)) != NULL)
		m_freem(m);
	mtx_unlock(&sc->sc_txq_mtx);

	bpfdetach(ifp);
	if_detach(ifp);
	if_free(ifp);

	sx_xlock(&sc->sc_cfg_sx);
	pfsync_rs_multicast_cleanup(sc);
	if (sc->sc_sync_if != NULL)
		if_rele(sc->sc_sync_if);
	sc->sc_sync_if = NULL;
	sx_xunlock(&sc->sc_cfg_sx);
	pfsync_rs_softc_free(sc);
}

int
pfsync_rs_clone_attach(void)
{
	V_pfsync_rs_cloner = if_clone_simple(pfsync_rs_name,
	    pfsync_rs_clone_create, pfsync_rs_clone_destroy, 1);
	return (V_pfsync_rs_cloner == NULL ? ENOMEM : 0);
}

void
pfsync_rs_clone_detach(void)
{
	if (V_pfsync_rs_cloner != NULL)
		if_clone_detach(V_pfsync_rs_cloner);
	V_pfsync_rs_cloner = NULL;
}

/*
 * pf tells us an interface is going away.  If it is the sync interface,
 * forget it without leaving the groups (the memberships die with it).
 */
void
pfsync_rs_detach_ifnet(struct ifnet *ifp)
{
	struct pfsync_rs_softc *sc = V_pfsync_rs_softc;
	struct pfsync_rs_config cfg;

	if (sc == NULL)
		return;
	sx_xlock(&sc->sc_cfg_sx);
	if (sc->sc_sync_if != ifp) {
		sx_xunlock(&sc->sc_cfg_sx);
		return;
	}
#ifdef INET
	ip_mfilter_init(&sc->sc_imo.imo_head);
	sc->sc_imo.imo_multicast_ifp = NULL;
#endif
#ifdef INET6
	ip6_mfilter_init(&sc->sc_im6o.im6o_head);
	sc->sc_im6o.im6o_multicast_ifp = NULL;
#endif
	pfsync_rs_engine_enter(sc);
	sc->sc_sync_if = NULL;
	cfg = sc->sc_cfg;
	cfg.syncdev[0] = '\0';
	pfsync_rs_cfg_complete(sc, NULL, &cfg);
	sc->sc_cfg = cfg;
	if (sc->sc_engine != NULL)
		(void)pfsync_rs_on_config_changed(sc->sc_engine, &sc->sc_cfg,
		    pfsync_rs_now_ns());
	pfsync_rs_engine_leave(sc);
	sx_xunlock(&sc->sc_cfg_sx);
	if_rele(ifp);
}
