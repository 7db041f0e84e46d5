/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Entering and leaving the Rust engine, and its single timer.
 *
 * Every call into the engine is bracketed by pfsync_rs_engine_enter() and
 * pfsync_rs_engine_leave().  Leaving re-arms the one callout at the deadline
 * the engine asks for (quinn-style poll_timeout) and kicks the tx task if
 * the engine queued frames.  The callout is bound to the engine mutex, so its
 * handler runs with the lock held and cannot race a teardown that stopped it.
 */

#include "opt_inet.h"
#include "opt_inet6.h"

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/callout.h>
#include <sys/lock.h>
#include <sys/malloc.h>
#include <sys/mbuf.h>
#include <sys/mutex.h>
#include <sys/priority.h>
#include <sys/socket.h>
#include <sys/sx.h>
#include <sys/syslog.h>
#include <sys/taskqueue.h>
#include <sys/time.h>

#include <net/if.h>
#include <net/if_var.h>
#include <net/if_private.h>
#include <net/vnet.h>
#include <net/pfvar.h>
#include <net/if_pfsync.h>

#include <netinet/in.h>
#include <netinet/in_var.h>
#include <netinet/ip_carp.h>
#include <netinet/ip_var.h>
#include <netinet6/ip6_var.h>

#include "pfsync_rs.h"

static void
pfsync_rs_host_carp_demote(void *ctx __unused, int32_t adj, const char *reason)
{
	/* carp(4) may be absent; its hook pointer is NULL then. */
	if (carp_demote_adj_p != NULL)
		(*carp_demote_adj_p)(adj, __DECONST(char *, reason));
}

/*
 * Read unlocked, as stock's pfsync_sendout does: a torn checksum during a
 * ruleset commit only makes the peer fall back to the default rule for the
 * states of that one frame, and the next frame reads it again.
 */
static void
pfsync_rs_host_pf_status(void *ctx, uint8_t *hostid_be, uint8_t *pf_cksum)
{
	struct pfsync_rs_softc *sc = ctx;

	CURVNET_SET(sc->sc_vnet);
	memcpy(hostid_be, &V_pf_status.hostid, sizeof(V_pf_status.hostid));
	memcpy(pf_cksum, V_pf_status.pf_chksum, PFSYNC_RS_PF_CKSUM_LEN);
	CURVNET_RESTORE();
}

const struct pfsync_rs_host_ops pfsync_rs_host_ops = {
	.state_lookup = pfsync_rs_host_state_lookup,
	.state_import = pfsync_rs_host_state_import,
	.state_merge = pfsync_rs_host_state_merge,
	.state_store_slot = pfsync_rs_host_state_store_slot,
	.state_delete = pfsync_rs_host_state_delete,
	.states_clear = pfsync_rs_host_states_clear,
	.state_next = pfsync_rs_host_state_next,
	.state_export = pfsync_rs_host_state_export,
	.send = pfsync_rs_host_send,
	.carp_demote = pfsync_rs_host_carp_demote,
	.deferred_release = pfsync_rs_host_deferred_release,
	.pf_status = pfsync_rs_host_pf_status,
};

/*
 * The hook and tx tasks run on a taskqueue of their own.  On the shared
 * taskqueue_thread, clone destroy's taskqueue_drain() waits for whatever
 * else is queued there, and so deadlocks whenever the destroying thread is
 * that queue's thread or something queued there waits for it (a VNET
 * teardown reached from a task); and the tx task, sleeping on sc_cfg_sx
 * during a reconfiguration, stalled every other user of the queue.  Our
 * tasks depend on no shared thread now.  The queue lives
 * as long as the module: created before the module event and the VNET
 * inits of this file's linker set (SI_ORDER_FIRST), freed after every
 * VNET's pfsync0 is gone (sysuninits run in reverse order, after
 * MOD_UNLOAD and after the SI_ORDER_FOURTH VNET uninit).
 */
struct taskqueue *pfsync_rs_tq;

static void
pfsync_rs_taskq_init(const void *unused __unused)
{
	pfsync_rs_tq = taskqueue_create("pfsync", M_WAITOK,
	    taskqueue_thread_enqueue, &pfsync_rs_tq);
	taskqueue_start_threads(&pfsync_rs_tq, 1, PI_NET, "pfsync taskq");
}
SYSINIT(pfsync_rs_taskq_init, SI_SUB_PROTO_FIREWALL, SI_ORDER_FIRST,
    pfsync_rs_taskq_init, NULL);

static void
pfsync_rs_taskq_fini(const void *unused __unused)
{
	if (pfsync_rs_tq != NULL)
		taskqueue_free(pfsync_rs_tq);
	pfsync_rs_tq = NULL;
}
SYSUNINIT(pfsync_rs_taskq_fini, SI_SUB_PROTO_FIREWALL, SI_ORDER_FIRST,
    pfsync_rs_taskq_fini, NULL);

static void
pfsync_rs_timer_fired(void *arg)
{
	struct pfsync_rs_softc *sc = arg;

	mtx_assert(&sc->sc_engine_mtx, MA_OWNED);
	if (callout_pending(&sc->sc_timer) || !callout_active(&sc->sc_timer))
		return;		/* re-armed or stopped while we waited */
	callout_deactivate(&sc->sc_timer);

	CURVNET_SET(sc->sc_vnet);
	if (sc->sc_engine != NULL)
		pfsync_rs_on_timeout(sc->sc_engine, pfsync_rs_now_ns());
	CURVNET_RESTORE();
	/*
	 * The callout framework drops the mutex for us, so finish the "leave"
	 * work (timer and tx kick) here without unlocking.
	 */
	pfsync_rs_engine_leave_locked_work(sc);
}

void
pfsync_rs_engine_enter(struct pfsync_rs_softc *sc)
{
	mtx_lock(&sc->sc_engine_mtx);
}

/* Re-arm the timer and kick transmission; engine lock held. */
void
pfsync_rs_engine_leave_locked_work(struct pfsync_rs_softc *sc)
{
	uint64_t deadline, now;
	int pending;

	mtx_assert(&sc->sc_engine_mtx, MA_OWNED);
	if (sc->sc_engine != NULL && !sc->sc_dying) {
		deadline = pfsync_rs_poll_timeout(sc->sc_engine);
		if (deadline == PFSYNC_RS_NO_DEADLINE) {
			callout_stop(&sc->sc_timer);
		} else {
			now = pfsync_rs_now_ns();
			if (deadline < now)
				deadline = now;
			callout_reset_sbt(&sc->sc_timer, nstosbt(deadline),
			    0, pfsync_rs_timer_fired, sc, C_ABSOLUTE);
		}
	}

	mtx_lock(&sc->sc_txq_mtx);
	pending = mbufq_len(&sc->sc_txq) + mbufq_len(&sc->sc_txq_data);
	mtx_unlock(&sc->sc_txq_mtx);
	if (pending > 0)
		taskqueue_enqueue(pfsync_rs_tq, &sc->sc_tx_task);
}

void
pfsync_rs_engine_leave(struct pfsync_rs_softc *sc)
{
	pfsync_rs_engine_leave_locked_work(sc);
	mtx_unlock(&sc->sc_engine_mtx);
}

int
pfsync_rs_engine_attach(struct pfsync_rs_softc *sc)
{
	struct pfsync_rs_engine *eng;

	struct timespec wall;
	uint64_t epoch;

	/* Signed frames need an epoch that grows across reboots: wall time. */
	getnanotime(&wall);
	epoch = (uint64_t)wall.tv_sec * 1000000000 + (uint64_t)wall.tv_nsec;
	eng = pfsync_rs_engine_create(PFSYNC_RS_ABI_VERSION, __FreeBSD_version,
	    &pfsync_rs_host_ops, sc, (const uint8_t *)&V_pf_status.hostid, epoch,
	    pfsync_rs_now_ns());
	if (eng == NULL)
		return (ENOMEM);
	pfsync_rs_engine_enter(sc);
	sc->sc_engine = eng;
	(void)pfsync_rs_on_config_changed(eng, &sc->sc_cfg,
		    pfsync_rs_now_ns());
	if (V_pfsync_rs_anti_entropy != 0 &&
	    pfsync_rs_anti_entropy_set(eng, 1, V_pfsync_rs_ae_period_ms,
	    pfsync_rs_now_ns()) != 0)
		log(LOG_WARNING,
		    "pfsync: anti-entropy not enabled (no memory)\n");
	pfsync_rs_engine_leave(sc);
	return (0);
}

/*
 * Tear the engine down: stop the timer for good, let the engine give back
 * every state reference and deferred packet, then free it.  The caller has
 * already removed the pf hooks and drained the hook task.
 */
void
pfsync_rs_engine_detach(struct pfsync_rs_softc *sc)
{
	struct pfsync_rs_engine *eng;

	pfsync_rs_engine_enter(sc);
	sc->sc_dying = 1;
	callout_stop(&sc->sc_timer);
	eng = sc->sc_engine;
	if (eng != NULL)
		pfsync_rs_engine_destroy(eng);
	sc->sc_engine = NULL;
	mtx_unlock(&sc->sc_engine_mtx);
	callout_drain(&sc->sc_timer);
}
