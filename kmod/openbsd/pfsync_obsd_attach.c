/* SPDX-License-Identifier: ISC */
/*
 * pfsync(4) for OpenBSD, part 1: the pseudo-device.  pfsyncattach() is what
 * the kernel's ioconf calls for `pseudo-device pfsync`; it registers the
 * cloner, and `ifconfig pfsync0 create` (or the first ifconfig touching it)
 * makes the one pfsync0 interface with its engine.  Its ioctls behave as
 * stock 7.x's: SIOCSETPFSYNC / SIOCGETPFSYNC with struct pfsyncreq,
 * SIOCSIFFLAGS for up/down (the multicast group is joined at up),
 * SIOCSIFMTU bounded by the sync interface's MTU.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/proc.h>
#include <sys/mbuf.h>
#include <sys/socket.h>
#include <sys/sockio.h>
#include <sys/ioctl.h>
#include <sys/malloc.h>
#include <sys/time.h>
#include <sys/timeout.h>
#include <sys/task.h>
#include <sys/mutex.h>
#include <sys/rwlock.h>
#include <sys/smr.h>
#include <sys/refcnt.h>
#include <sys/syslog.h>

#include <net/if.h>
#include <net/if_var.h>
#include <net/if_types.h>
#include <net/bpf.h>
#include <netinet/in.h>
#include <netinet/in_var.h>
#include <netinet/ip.h>
#include <netinet/ip_var.h>

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

struct pfsync_obsd_softc *pfsync_obsd_sc;

static int	pfsync_obsd_clone_create(struct if_clone *, int);
static int	pfsync_obsd_clone_destroy(struct ifnet *);
static int	pfsync_obsd_ioctl(struct ifnet *, u_long, caddr_t);
static int	pfsync_obsd_output(struct ifnet *, struct mbuf *,
		    struct sockaddr *, struct rtentry *);
static void	pfsync_obsd_start(struct ifqueue *);
static void	pfsync_obsd_down(struct pfsync_obsd_softc *);
static void	pfsync_obsd_syncdev_detach(void *);

static struct if_clone pfsync_obsd_cloner =
    IF_CLONE_INITIALIZER("pfsync", pfsync_obsd_clone_create,
	pfsync_obsd_clone_destroy);

_Static_assert(sizeof(((struct pfsyncreq *)0)->pfsyncr_syncdev) ==
    PFSYNC_RS_IFNAMSIZ, "IFNAMSIZ as the core expects");
_Static_assert(sizeof(struct pfsync_state_peer) == PFSYNC_RS_PEER_LEN,
    "OpenBSD's wire peer is the core's");
_Static_assert(sizeof(((struct pf_status *)0)->pf_chksum) ==
    PFSYNC_RS_PF_CKSUM_LEN, "pf ruleset checksum length");
_Static_assert(sizeof(((struct pf_state *)0)->sync_defer) +
    sizeof(((struct pf_state *)0)->pfsync_time) == PFSYNC_RS_SLOT_LEN,
    "the sync slot fits the two pfsync-owned fields");

void
pfsyncattach(int npfsync)
{
	(void)npfsync;
	if (pfsync_rs_core_init() != 0) {
		printf("pfsync: core initialisation failed\n");
		return;
	}
	if_clone_attach(&pfsync_obsd_cloner);
}

uint64_t
pfsync_obsd_now_ns(void)
{
	return (nsecuptime());
}

static int
pfsync_obsd_clone_create(struct if_clone *ifc, int unit)
{
	struct pfsync_obsd_softc *sc;
	struct ifnet *ifp;
	struct timespec wall;
	uint8_t hostid[4];
	uint64_t epoch;

	if (unit != 0)
		return (EINVAL);

	sc = malloc(sizeof(*sc), M_DEVBUF, M_WAITOK | M_ZERO);
	sc->sc_rxbuf = malloc(PFSYNC_OBSD_MAX_FRAME, M_DEVBUF, M_WAITOK);
	rw_init(&sc->sc_engine_lock, "pfsyncrs");
	refcnt_init(&sc->sc_refs);
	mtx_init(&sc->sc_park_mtx, IPL_SOFTNET);
	mtx_init(&sc->sc_txq_mtx, IPL_SOFTNET);
	TAILQ_INIT(&sc->sc_parked);
	ml_init(&sc->sc_txq);
	ml_init(&sc->sc_relq);
	task_set(&sc->sc_park_task, pfsync_obsd_park_task, sc);
	task_set(&sc->sc_tx_task, pfsync_obsd_tx_task, sc);
	task_set(&sc->sc_dtask, pfsync_obsd_syncdev_detach, sc);
	timeout_set_proc(&sc->sc_tmo, pfsync_obsd_timeout, sc);
	sc->sc_maxupdates = 128;
	/* As stock: the pfsync group until ifconfig names a peer. */
	sc->sc_sync_peer.s_addr = INADDR_PFSYNC_GROUP;
	sc->sc_defer_next = 1;
	pfsync_obsd_host_ops(&sc->sc_ops);

	PF_LOCK();
	memcpy(hostid, &pf_status.hostid, sizeof(hostid));
	PF_UNLOCK();
	/* Signed frames need an epoch above any earlier boot's: wall time. */
	nanotime(&wall);
	epoch = (uint64_t)wall.tv_sec * 1000000000ULL + (uint64_t)wall.tv_nsec;
	sc->sc_engine = pfsync_rs_engine_create(PFSYNC_RS_ABI_VERSION,
	    PFSYNC_RS_RELEASE_OPENBSD, &sc->sc_ops, sc, hostid, epoch,
	    pfsync_obsd_now_ns());
	if (sc->sc_engine == NULL) {
		free(sc->sc_rxbuf, M_DEVBUF, PFSYNC_OBSD_MAX_FRAME);
		free(sc, M_DEVBUF, sizeof(*sc));
		return (ENOMEM);
	}

	ifp = &sc->sc_if;
	snprintf(ifp->if_xname, sizeof(ifp->if_xname), "%s%d",
	    ifc->ifc_name, unit);
	ifp->if_softc = sc;
	ifp->if_ioctl = pfsync_obsd_ioctl;
	ifp->if_output = pfsync_obsd_output;
	ifp->if_qstart = pfsync_obsd_start;
	ifp->if_type = IFT_PFSYNC;
	ifp->if_hdrlen = sizeof(struct pfsync_header);
	ifp->if_mtu = 1500;	/* ETHERMTU, as stock */
	ifp->if_xflags = IFXF_CLONED | IFXF_MPSAFE;
	if_counters_alloc(ifp);
	if_attach(ifp);
	if_alloc_sadl(ifp);
	/* CARP demotion (carp_group_demote_adj) acts on pfsync0's groups. */
	if_addgroup(ifp, "carp");
#if NBPFILTER > 0
	bpfattach(&ifp->if_bpf, ifp, DLT_PFSYNC, PFSYNC_HDRLEN);
#endif

	NET_LOCK();
	SMR_PTR_SET_LOCKED(&pfsync_obsd_sc, sc);
	pfsync_obsd_engine_enter(sc);
	pfsync_obsd_config_push(sc);
	pfsync_obsd_engine_leave(sc);
	NET_UNLOCK();
	return (0);
}

static int
pfsync_obsd_clone_destroy(struct ifnet *ifp)
{
	struct pfsync_obsd_softc *sc = ifp->if_softc;

	NET_LOCK();
	if (ISSET(ifp->if_flags, IFF_RUNNING))
		pfsync_obsd_down(sc);
	SMR_PTR_SET_LOCKED(&pfsync_obsd_sc, NULL);
	NET_UNLOCK();
	/* No input path has sc now; wait out hooks and sysctl readers. */
	smr_barrier();
	refcnt_finalize(&sc->sc_refs, "pfsyncdt");

	/*
	 * Nothing parks anything now.  Stop the timer and the tasks (dying:
	 * none re-arms or re-queues another), destroy the engine (it gives
	 * back the packets it holds), then forget what is still parked and
	 * drop what was never handed to the engine.
	 */
	rw_enter_write(&sc->sc_engine_lock);
	sc->sc_dying = 1;
	rw_exit_write(&sc->sc_engine_lock);
	timeout_del_barrier(&sc->sc_tmo);
	task_del(systqmp, &sc->sc_park_task);
	task_del(systqmp, &sc->sc_tx_task);
	taskq_barrier(systqmp);

	rw_enter_write(&sc->sc_engine_lock);
	pfsync_rs_engine_destroy(sc->sc_engine);
	sc->sc_engine = NULL;
	rw_exit_write(&sc->sc_engine_lock);
	pfsync_obsd_drop_parked(sc);
	mtx_enter(&sc->sc_txq_mtx);
	ml_purge(&sc->sc_txq);
	ml_purge(&sc->sc_relq);
	mtx_leave(&sc->sc_txq_mtx);

#if NBPFILTER > 0
	bpfdetach(ifp);
#endif
	if_detach(ifp);
	free(sc->sc_rxbuf, M_DEVBUF, PFSYNC_OBSD_MAX_FRAME);
	free(sc, M_DEVBUF, sizeof(*sc));
	return (0);
}

/* pfsync0 carries nothing itself: what is written to it is dropped. */
static int
pfsync_obsd_output(struct ifnet *ifp, struct mbuf *m, struct sockaddr *dst,
    struct rtentry *rt)
{
	m_freem(m);
	return (EAFNOSUPPORT);
}

static void
pfsync_obsd_start(struct ifqueue *ifq)
{
	ifq_purge(ifq);
}

/*
 * Up, as stock: needs a sync interface (ENXIO) and a usable peer
 * (EDESTADDRREQ); a multicast peer is joined on the sync interface, which
 * must do multicast (ENODEV).  NET_LOCK held by ifioctl.
 */
static int
pfsync_obsd_up(struct pfsync_obsd_softc *sc)
{
	struct ifnet *ifp = &sc->sc_if, *sifp;
	struct in_multi *mship = NULL;
	int error = 0;

	if (sc->sc_sync_peer.s_addr == INADDR_ANY ||
	    sc->sc_sync_peer.s_addr == INADDR_BROADCAST)
		return (EDESTADDRREQ);
	sifp = if_get(sc->sc_sync_ifidx);
	if (sifp == NULL)
		return (ENXIO);
	if (IN_MULTICAST(sc->sc_sync_peer.s_addr)) {
		if (!ISSET(sifp->if_flags, IFF_MULTICAST)) {
			error = ENODEV;
			goto put;
		}
		mship = in_addmulti(&sc->sc_sync_peer, sifp);
		if (mship == NULL) {
			error = ECONNABORTED;
			goto put;
		}
	}
	sc->sc_mship = mship;
	if_detachhook_add(sifp, &sc->sc_dtask);
	SET(ifp->if_flags, IFF_RUNNING);
	pfsync_obsd_engine_enter(sc);
	pfsync_obsd_config_push(sc);
	pfsync_rs_on_running_changed(sc->sc_engine, 1, pfsync_obsd_now_ns());
	pfsync_obsd_engine_leave(sc);
put:
	if_put(sifp);
	return (error);
}

static void
pfsync_obsd_down(struct pfsync_obsd_softc *sc)
{
	struct in_multi *mship = sc->sc_mship;
	struct ifnet *sifp;

	CLR(sc->sc_if.if_flags, IFF_RUNNING);
	sifp = if_get(sc->sc_sync_ifidx);
	if (sifp != NULL)
		if_detachhook_del(sifp, &sc->sc_dtask);
	if_put(sifp);
	sc->sc_mship = NULL;
	if (mship != NULL)
		in_delmulti(mship);
	pfsync_obsd_engine_enter(sc);
	pfsync_rs_on_running_changed(sc->sc_engine, 0, pfsync_obsd_now_ns());
	pfsync_obsd_engine_leave(sc);
}

/*
 * The sync interface is going away (if_detach runs its hooks under
 * NET_LOCK): as stock, pfsync0 goes down and forgets it.
 */
static void
pfsync_obsd_syncdev_detach(void *arg)
{
	struct pfsync_obsd_softc *sc = arg;
	struct ifnet *ifp = &sc->sc_if;

	if (ISSET(ifp->if_flags, IFF_RUNNING)) {
		pfsync_obsd_down(sc);
		if_down(ifp);
	}
	sc->sc_sync_ifidx = 0;
	pfsync_obsd_engine_enter(sc);
	pfsync_obsd_config_push(sc);
	pfsync_obsd_engine_leave(sc);
}

/*
 * SIOCSETPFSYNC, as stock: an unknown sync interface is ENXIO, a peer of
 * 0.0.0.0 means the pfsync group, and the interface or the peer may only
 * change while pfsync0 is down (EBUSY).  maxupd and defer apply at once.
 */
static int
pfsync_obsd_set(struct pfsync_obsd_softc *sc, struct pfsyncreq *req)
{
	struct ifnet *sifp;
	struct pfsync_rs_config probe;
	unsigned int ifidx = 0, mtu = 0;
	int error;

	if (req->pfsyncr_maxupdates < 0 || req->pfsyncr_maxupdates > 255)
		return (EINVAL);
	if (memchr(req->pfsyncr_syncdev, '\0',
	    sizeof(req->pfsyncr_syncdev)) == NULL)
		return (EINVAL);
	if (req->pfsyncr_syncdev[0] != '\0') {
		sifp = if_unit(req->pfsyncr_syncdev);
		if (sifp == NULL)
			return (ENXIO);
		ifidx = sifp->if_index;
		mtu = sifp->if_mtu;
		if_put(sifp);
	}
	if (req->pfsyncr_syncpeer.s_addr == INADDR_ANY)
		req->pfsyncr_syncpeer.s_addr = INADDR_PFSYNC_GROUP;
	if (ISSET(sc->sc_if.if_flags, IFF_RUNNING) &&
	    (ifidx != sc->sc_sync_ifidx ||
	    req->pfsyncr_syncpeer.s_addr != sc->sc_sync_peer.s_addr))
		return (EBUSY);

	memset(&probe, 0, sizeof(probe));
	probe.maxupdates = (uint32_t)req->pfsyncr_maxupdates;
	probe.ifmtu = sc->sc_if.if_mtu;
	probe.syncdev_mtu = mtu;
	error = pfsync_rs_config_check(&probe, PFSYNC_RS_RELEASE_OPENBSD);
	if (error != 0)
		return (error);

	sc->sc_sync_ifidx = ifidx;
	sc->sc_sync_peer = req->pfsyncr_syncpeer;
	sc->sc_maxupdates = req->pfsyncr_maxupdates;
	sc->sc_defer = req->pfsyncr_defer != 0;
	pfsync_obsd_engine_enter(sc);
	pfsync_obsd_config_push(sc);
	pfsync_obsd_engine_leave(sc);
	return (0);
}

static void
pfsync_obsd_get(struct pfsync_obsd_softc *sc, struct pfsyncreq *req)
{
	struct ifnet *sifp;

	memset(req, 0, sizeof(*req));
	sifp = if_get(sc->sc_sync_ifidx);
	if (sifp != NULL)
		strlcpy(req->pfsyncr_syncdev, sifp->if_xname,
		    sizeof(req->pfsyncr_syncdev));
	if_put(sifp);
	req->pfsyncr_syncpeer = sc->sc_sync_peer;
	req->pfsyncr_maxupdates = sc->sc_maxupdates;
	req->pfsyncr_defer = sc->sc_defer;
}

/* As stock: larger than the smallest frame, no larger than syncdev's MTU. */
static int
pfsync_obsd_set_mtu(struct pfsync_obsd_softc *sc, unsigned int mtu)
{
	struct ifnet *sifp;
	int error = 0;

	sifp = if_get(sc->sc_sync_ifidx);
	if (sifp == NULL)
		return (EINVAL);
	if (mtu <= sizeof(struct ip) + PFSYNC_HDRLEN +
	    sizeof(struct pfsync_subheader) || mtu > sifp->if_mtu)
		error = EINVAL;
	if_put(sifp);
	if (error != 0)
		return (error);
	sc->sc_if.if_mtu = mtu;
	pfsync_obsd_engine_enter(sc);
	pfsync_obsd_config_push(sc);
	pfsync_obsd_engine_leave(sc);
	return (0);
}

static int
pfsync_obsd_ioctl(struct ifnet *ifp, u_long cmd, caddr_t data)
{
	struct pfsync_obsd_softc *sc = ifp->if_softc;
	struct ifreq *ifr = (struct ifreq *)data;
	struct pfsyncreq req;
	int error = 0;

	switch (cmd) {
	case SIOCSIFADDR:
		error = EOPNOTSUPP;
		break;
	case SIOCSIFFLAGS:
		if (ISSET(ifp->if_flags, IFF_UP) &&
		    !ISSET(ifp->if_flags, IFF_RUNNING))
			error = pfsync_obsd_up(sc);
		else if (!ISSET(ifp->if_flags, IFF_UP) &&
		    ISSET(ifp->if_flags, IFF_RUNNING))
			pfsync_obsd_down(sc);
		break;
	case SIOCSIFMTU:
		error = pfsync_obsd_set_mtu(sc, ifr->ifr_mtu);
		break;
	case SIOCGETPFSYNC:
		pfsync_obsd_get(sc, &req);
		error = copyout(&req, ifr->ifr_data, sizeof(req));
		break;
	case SIOCSETPFSYNC:
		if ((error = suser(curproc)) != 0)
			break;
		if ((error = copyin(ifr->ifr_data, &req, sizeof(req))) != 0)
			break;
		error = pfsync_obsd_set(sc, &req);
		break;
	default:
		error = ENOTTY;
	}
	return (error);
}
