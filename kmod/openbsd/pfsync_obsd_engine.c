/* SPDX-License-Identifier: ISC */
/*
 * pfsync(4) for OpenBSD, part 2: the engine lock, the one timer, and the
 * configuration handed to the core.  Every call into the engine goes
 * between pfsync_obsd_engine_enter() and _leave(); frames the engine hands
 * to `send` wait in sc_txq for sc_tx_task, so ip_output never runs under
 * the engine lock.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/mbuf.h>
#include <sys/socket.h>
#include <sys/timeout.h>
#include <sys/task.h>
#include <sys/mutex.h>
#include <sys/rwlock.h>

#include <net/if.h>
#include <net/if_var.h>
#include <netinet/in.h>
#include <netinet/ip.h>

#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <netinet/ip_icmp.h>
#include <netinet/icmp6.h>
#include <netinet/ip_ipsp.h>
#include <net/pfvar.h>
#include <net/pfvar_priv.h>
#include <net/if_pfsync.h>

#include "pfsync_obsd.h"

void
pfsync_obsd_engine_enter(struct pfsync_obsd_softc *sc)
{
	rw_enter_write(&sc->sc_engine_lock);
}

/* Frames and released packets the call queued go out from sc_tx_task. */
void
pfsync_obsd_engine_leave(struct pfsync_obsd_softc *sc)
{
	int queued;

	int dying;

	pfsync_obsd_timer_arm(sc);
	dying = sc->sc_dying;
	rw_exit_write(&sc->sc_engine_lock);
	if (dying)
		return;
	mtx_enter(&sc->sc_txq_mtx);
	queued = !ml_empty(&sc->sc_txq) || !ml_empty(&sc->sc_relq);
	mtx_leave(&sc->sc_txq_mtx);
	if (queued)
		task_add(systqmp, &sc->sc_tx_task);
}

/* With the engine lock held: the core's next deadline, as one timeout. */
void
pfsync_obsd_timer_arm(struct pfsync_obsd_softc *sc)
{
	uint64_t deadline, now;

	if (sc->sc_engine == NULL || sc->sc_dying)
		return;
	deadline = pfsync_rs_poll_timeout(sc->sc_engine);
	if (deadline == PFSYNC_RS_NO_DEADLINE) {
		timeout_del(&sc->sc_tmo);
		return;
	}
	now = pfsync_obsd_now_ns();
	timeout_add_nsec(&sc->sc_tmo, deadline > now ? deadline - now : 0);
}

/* Process context (timeout_set_proc): the engine lock may sleep. */
void
pfsync_obsd_timeout(void *arg)
{
	struct pfsync_obsd_softc *sc = arg;

	NET_LOCK_SHARED();
	pfsync_obsd_engine_enter(sc);
	if (sc->sc_engine != NULL && !sc->sc_dying)
		pfsync_rs_on_timeout(sc->sc_engine, pfsync_obsd_now_ns());
	pfsync_obsd_engine_leave(sc);
	NET_UNLOCK_SHARED();
}

/*
 * With the engine lock held: what ifconfig set, in the core's terms.  A
 * peer address other than the pfsync group makes the transport unicast.
 */
void
pfsync_obsd_config_push(struct pfsync_obsd_softc *sc)
{
	struct pfsync_rs_config cfg;
	struct ifnet *sifp;

	memset(&cfg, 0, sizeof(cfg));
	sifp = if_get(sc->sc_sync_ifidx);
	if (sifp != NULL) {
		strlcpy(cfg.syncdev, sifp->if_xname, sizeof(cfg.syncdev));
		cfg.syncdev_mtu = sifp->if_mtu;
		cfg.syncdev_multicast =
		    ISSET(sifp->if_flags, IFF_MULTICAST) ? 1 : 0;
	}
	if_put(sifp);
	if (sc->sc_sync_peer.s_addr != INADDR_PFSYNC_GROUP) {
		cfg.syncpeer_af = PFSYNC_RS_AF_INET;
		memcpy(cfg.syncpeer, &sc->sc_sync_peer,
		    sizeof(sc->sc_sync_peer));
	}
	cfg.maxupdates = (uint32_t)sc->sc_maxupdates;
	cfg.flags = sc->sc_defer ? PFSYNC_RS_CFG_DEFER : 0;
	cfg.ifmtu = sc->sc_if.if_mtu;
	/* OpenBSD has no defer_delay or carp_demotion_factor knobs. */
	cfg.defer_delay_ms = 20;
	cfg.carp_demotion = 32;
	PF_LOCK();
	memcpy(cfg.hostid_be, &pf_status.hostid, sizeof(cfg.hostid_be));
	memcpy(cfg.pf_cksum, pf_status.pf_chksum, sizeof(cfg.pf_cksum));
	PF_UNLOCK();
	if (sc->sc_engine != NULL)
		(void)pfsync_rs_on_config_changed(sc->sc_engine, &cfg,
		    pfsync_obsd_now_ns());
}
