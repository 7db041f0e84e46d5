/* SPDX-License-Identifier: ISC */
/*
 * pfsync(4) for OpenBSD, part 3: what pf calls (the _KERNEL part of
 * net/if_pfsync.h, except input and sysctl in pfsync_obsd_net.c).
 *
 * pf calls these with its own locks held, so none of them enters the
 * engine: a state event is parked on the state under sc_park_mtx (the state
 * is referenced while parked) and sc_park_task delivers the parked states,
 * in the order they were first parked, with no pf lock held.  Several
 * events of one state before the task runs fold into one delivery
 * (insert, then updates, then deferral, then delete).
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/mbuf.h>
#include <sys/socket.h>
#include <sys/task.h>
#include <sys/mutex.h>
#include <sys/rwlock.h>
#include <sys/smr.h>

#include <net/if.h>
#include <net/if_var.h>
#include <netinet/in.h>
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

#include "pfsync_obsd.h"

/* States delivered per task run before yielding the engine lock. */
#define	PFSYNC_OBSD_PARK_BATCH	256

void
pfsync_obsd_slot_load(const struct pf_state *st,
    uint8_t slot[PFSYNC_RS_SLOT_LEN])
{
	memcpy(slot, &st->sync_defer, sizeof(st->sync_defer));
	memcpy(slot + sizeof(st->sync_defer), &st->pfsync_time,
	    sizeof(st->pfsync_time));
}

void
pfsync_obsd_slot_store(struct pf_state *st,
    const uint8_t slot[PFSYNC_RS_SLOT_LEN])
{
	memcpy(&st->sync_defer, slot, sizeof(st->sync_defer));
	memcpy(&st->pfsync_time, slot + sizeof(st->sync_defer),
	    sizeof(st->pfsync_time));
}

/* Reads keys and rule: the caller holds pf_state_lock or a pf lock. */
void
pfsync_obsd_state_info(const struct pf_state *st,
    struct pfsync_rs_state_info *info)
{
	const struct pf_rule *r = st->rule.ptr;

	memset(info, 0, sizeof(*info));
	memcpy(info->sid.id_be, &st->id, sizeof(info->sid.id_be));
	memcpy(info->sid.creatorid_be, &st->creatorid,
	    sizeof(info->sid.creatorid_be));
	info->state_flags = st->state_flags;
	if (st->timeout < PFTM_MAX && st->key[PF_SK_WIRE] != NULL)
		info->wire_proto = st->key[PF_SK_WIRE]->proto;
	info->rule_nosync = (r != NULL && ISSET(r->rule_flag, PFRULE_NOSYNC));
	info->timeout = st->timeout;
}

/* With sc_park_mtx held. */
static void
pfsync_obsd_park_locked(struct pfsync_obsd_softc *sc, struct pf_state *st,
    uint8_t ev)
{
	if (!PFSYNC_OBSD_IS_PARKED(st)) {
		TAILQ_INSERT_TAIL(&sc->sc_parked, pf_state_ref(st), sync_list);
		st->sync_state = PFSYNC_OBSD_PARKED;
		st->sync_updates = 0;
	}
	st->sync_state |= ev;
	if (ev == PFSYNC_OBSD_EV_UPDATED && st->sync_updates < 0xff)
		st->sync_updates++;
}

/* Hook side, in an SMR read section: the policy first (pure), then park. */
static void
pfsync_obsd_hook(struct pf_state *st, uint8_t ev)
{
	struct pfsync_obsd_softc *sc;
	struct pfsync_rs_state_info info;

	if (ev != PFSYNC_OBSD_EV_DELETED) {
		pfsync_obsd_state_info(st, &info);
		switch (pfsync_rs_state_policy(&info)) {
		case PFSYNC_RS_POLICY_NOSYNC:
			/* pf calls its hooks without the state's mutex. */
			mtx_enter(&st->mtx);
			SET(st->state_flags, PFSTATE_NOSYNC);
			mtx_leave(&st->mtx);
			return;
		case PFSYNC_RS_POLICY_IGNORE:
			return;
		}
	}
	smr_read_enter();
	sc = SMR_PTR_GET(&pfsync_obsd_sc);
	if (sc != NULL) {
		mtx_enter(&sc->sc_park_mtx);
		pfsync_obsd_park_locked(sc, st, ev);
		mtx_leave(&sc->sc_park_mtx);
		task_add(systqmp, &sc->sc_park_task);
	}
	smr_read_leave();
}

void
pfsync_init_state(struct pf_state *st, const struct pf_state_key *skw,
    const struct pf_state_key *sks, int flags)
{
	uint8_t slot[PFSYNC_RS_SLOT_LEN];

	(void)sks;
	st->sync_state = PFSYNC_S_NONE;
	st->sync_updates = 0;
	pfsync_rs_slot_init(slot);
	pfsync_obsd_slot_store(st, slot);
	/* pfsync's own traffic is never synchronised. */
	if (skw != NULL && skw->proto == IPPROTO_PFSYNC)
		SET(st->state_flags, PFSTATE_NOSYNC);
	/*
	 * A state the peer sent (host_state_import): the insert hook that
	 * pf_state_insert() fires next stays quiet, since the sender has it,
	 * and the core sends the acknowledgement the peer may wait for, so
	 * the peer's ACK flag is not kept.
	 */
	if (ISSET(flags, PFSYNC_SI_PFSYNC)) {
		CLR(st->state_flags, PFSTATE_ACK);
		st->sync_state = PFSYNC_S_PFSYNC;
	}
}

void
pfsync_insert_state(struct pf_state *st)
{
	if (st->sync_state == PFSYNC_S_PFSYNC) {
		st->sync_state = PFSYNC_S_NONE;
		return;
	}
	pfsync_obsd_hook(st, PFSYNC_OBSD_EV_INSERTED);
}

void
pfsync_update_state(struct pf_state *st)
{
	pfsync_obsd_hook(st, PFSYNC_OBSD_EV_UPDATED);
}

void
pfsync_delete_state(struct pf_state *st)
{
	pfsync_obsd_hook(st, PFSYNC_OBSD_EV_DELETED);
}

void
pfsync_clear_states(u_int32_t creatorid, const char *ifname)
{
	struct pfsync_obsd_softc *sc;
	unsigned int i;

	smr_read_enter();
	sc = SMR_PTR_GET(&pfsync_obsd_sc);
	if (sc == NULL) {
		smr_read_leave();
		return;
	}
	mtx_enter(&sc->sc_park_mtx);
	if (sc->sc_nclears < PFSYNC_OBSD_CLEARS) {
		i = sc->sc_nclears++;
		memcpy(sc->sc_clears[i].creatorid_be, &creatorid,
		    sizeof(sc->sc_clears[i].creatorid_be));
		memset(sc->sc_clears[i].ifname, 0,
		    sizeof(sc->sc_clears[i].ifname));
		if (ifname != NULL)
			strlcpy(sc->sc_clears[i].ifname, ifname,
			    sizeof(sc->sc_clears[i].ifname));
	} else {
		/* Too many at once: the widest one, every interface. */
		i = PFSYNC_OBSD_CLEARS - 1;
		memset(sc->sc_clears[i].ifname, 0,
		    sizeof(sc->sc_clears[i].ifname));
	}
	mtx_leave(&sc->sc_park_mtx);
	task_add(systqmp, &sc->sc_park_task);
	smr_read_leave();
}

/*
 * IPsec replay counters: the core has no TDB queue, so nothing is sent
 * (a received TDB message is validated and counted, not applied).
 */
void
pfsync_update_tdb(struct tdb *tdb, int output)
{
	(void)tdb;
	(void)output;
}

void
pfsync_delete_tdb(struct tdb *tdb)
{
	(void)tdb;
}

int
pfsync_is_up(void)
{
	struct pfsync_obsd_softc *sc;
	int up;

	smr_read_enter();
	sc = SMR_PTR_GET(&pfsync_obsd_sc);
	up = sc != NULL && ISSET(sc->sc_if.if_flags, IFF_RUNNING);
	smr_read_leave();
	return (up);
}

int
pfsync_state_in_use(struct pf_state *st)
{
	return (PFSYNC_OBSD_IS_PARKED(st));
}

/*
 * pf asks to hold the first packet of a new state.  Taken only when the
 * core would keep it (pfsync_rs_defer_policy) and a slot is free; pf gets
 * 0 and sends the packet itself otherwise.  As stock, never for broadcast
 * or multicast packets; unlike stock, never for route-to states either
 * (a released packet goes out through ip_output, which would not route it
 * as pf_route does), so pf sends those at once.
 */
int
pfsync_defer(struct pf_state *st, struct mbuf *m)
{
	struct pfsync_obsd_softc *sc;
	struct pfsync_obsd_deferral *d = NULL;
	struct pfsync_rs_state_info info;
	unsigned int i;

	if (m == NULL || ISSET(m->m_flags, M_BCAST | M_MCAST) ||
	    ISSET(st->state_flags, PFSTATE_NOSYNC) || st->rt == PF_ROUTETO)
		return (0);
	pfsync_obsd_state_info(st, &info);
	smr_read_enter();
	sc = SMR_PTR_GET(&pfsync_obsd_sc);
	if (sc == NULL || !pfsync_rs_defer_policy(&info,
	    sc->sc_defer ? PFSYNC_RS_CFG_DEFER : 0,
	    ISSET(sc->sc_if.if_flags, IFF_RUNNING) ? 1 : 0,
	    sc->sc_sync_ifidx != 0)) {
		smr_read_leave();
		return (0);
	}

	mtx_enter(&sc->sc_park_mtx);
	for (i = 0; i < PFSYNC_OBSD_DEFER_SLOTS; i++) {
		if (sc->sc_deferrals[i].d_token == 0) {
			d = &sc->sc_deferrals[i];
			break;
		}
	}
	if (d == NULL) {
		mtx_leave(&sc->sc_park_mtx);
		smr_read_leave();
		return (0);
	}
	/* ACK before the task can see the deferral and clear it again. */
	mtx_enter(&st->mtx);
	SET(st->state_flags, PFSTATE_ACK);
	mtx_leave(&st->mtx);
	/* pf has seen this packet: it must not be filtered again. */
	m->m_pkthdr.pf.flags |= PF_TAG_GENERATED;
	d->d_token = sc->sc_defer_next++;
	d->d_m = m;
	d->d_st = pf_state_ref(st);
	pfsync_obsd_park_locked(sc, st, PFSYNC_OBSD_EV_DEFER);
	mtx_leave(&sc->sc_park_mtx);
	task_add(systqmp, &sc->sc_park_task);
	smr_read_leave();
	return (1);
}

/* With sc_park_mtx held: the deferral slot of a state, if any. */
static struct pfsync_obsd_deferral *
pfsync_obsd_deferral_of(struct pfsync_obsd_softc *sc, const struct pf_state *st)
{
	unsigned int i;

	for (i = 0; i < PFSYNC_OBSD_DEFER_SLOTS; i++) {
		if (sc->sc_deferrals[i].d_token != 0 &&
		    sc->sc_deferrals[i].d_st == st)
			return (&sc->sc_deferrals[i]);
	}
	return (NULL);
}

/*
 * The host op `deferred_release`, engine lock held: the packet goes on
 * its way (sc_relq, sent after the lock is dropped) or is dropped.
 */
void
pfsync_obsd_deferral_release(struct pfsync_obsd_softc *sc, uint64_t token,
    int transmit)
{
	struct pfsync_obsd_deferral *d = NULL;
	struct mbuf *m;
	struct pf_state *st;
	unsigned int i;

	mtx_enter(&sc->sc_park_mtx);
	for (i = 0; i < PFSYNC_OBSD_DEFER_SLOTS; i++) {
		if (token != 0 && sc->sc_deferrals[i].d_token == token) {
			d = &sc->sc_deferrals[i];
			break;
		}
	}
	if (d == NULL) {
		mtx_leave(&sc->sc_park_mtx);
		return;
	}
	m = d->d_m;
	st = d->d_st;
	d->d_m = NULL;
	d->d_st = NULL;
	d->d_token = 0;
	mtx_leave(&sc->sc_park_mtx);

	mtx_enter(&st->mtx);
	CLR(st->state_flags, PFSTATE_ACK);
	mtx_leave(&st->mtx);
	if (transmit) {
		mtx_enter(&sc->sc_txq_mtx);
		ml_enqueue(&sc->sc_relq, m);
		mtx_leave(&sc->sc_txq_mtx);
	} else
		m_freem(m);
	pf_state_unref(st);
}

/* Engine lock held: one parked state's events, in pf's order. */
static void
pfsync_obsd_deliver(struct pfsync_obsd_softc *sc, struct pf_state *st,
    uint8_t ev, uint8_t updates)
{
	struct pfsync_rs_state_info info;
	struct pfsync_obsd_deferral *d;
	uint8_t slot[PFSYNC_RS_SLOT_LEN];
	uint64_t now = pfsync_obsd_now_ns(), token = 0;

	PF_STATE_ENTER_READ();
	pfsync_obsd_state_info(st, &info);
	PF_STATE_EXIT_READ();
	info.pending_updates = updates;
	pfsync_obsd_slot_load(st, slot);

	if (ISSET(ev, PFSYNC_OBSD_EV_INSERTED))
		pfsync_rs_on_state_inserted(sc->sc_engine, &info, slot, now);
	if (ISSET(ev, PFSYNC_OBSD_EV_UPDATED))
		pfsync_rs_on_state_updated(sc->sc_engine, &info, slot, now);
	if (ISSET(ev, PFSYNC_OBSD_EV_DEFER)) {
		mtx_enter(&sc->sc_park_mtx);
		d = pfsync_obsd_deferral_of(sc, st);
		if (d != NULL)
			token = d->d_token;
		mtx_leave(&sc->sc_park_mtx);
		if (token != 0 && !pfsync_rs_on_defer_requested(sc->sc_engine,
		    &info, slot, token, now))
			pfsync_obsd_deferral_release(sc, token, 1);
	}
	if (ISSET(ev, PFSYNC_OBSD_EV_DELETED)) {
		info.wire_proto = 0;
		pfsync_rs_on_state_deleted(sc->sc_engine, &info, slot, now);
	}
	pfsync_obsd_slot_store(st, slot);
}

void
pfsync_obsd_park_task(void *arg)
{
	struct pfsync_obsd_softc *sc = arg;
	struct pf_state *st;
	uint8_t clears[PFSYNC_OBSD_CLEARS][4];
	char clear_if[PFSYNC_OBSD_CLEARS][PFSYNC_RS_IFNAMSIZ];
	unsigned int i, nclears, n;
	uint8_t ev, updates;
	int more = 0;

	NET_LOCK_SHARED();
	pfsync_obsd_engine_enter(sc);
	if (sc->sc_engine == NULL || sc->sc_dying)
		goto out;

	mtx_enter(&sc->sc_park_mtx);
	nclears = sc->sc_nclears;
	for (i = 0; i < nclears; i++) {
		memcpy(clears[i], sc->sc_clears[i].creatorid_be, 4);
		memcpy(clear_if[i], sc->sc_clears[i].ifname,
		    PFSYNC_RS_IFNAMSIZ);
	}
	sc->sc_nclears = 0;
	mtx_leave(&sc->sc_park_mtx);
	for (i = 0; i < nclears; i++)
		pfsync_rs_on_states_cleared(sc->sc_engine, clears[i],
		    clear_if[i], pfsync_obsd_now_ns());

	for (n = 0; n < PFSYNC_OBSD_PARK_BATCH; n++) {
		mtx_enter(&sc->sc_park_mtx);
		st = TAILQ_FIRST(&sc->sc_parked);
		if (st == NULL) {
			mtx_leave(&sc->sc_park_mtx);
			break;
		}
		TAILQ_REMOVE(&sc->sc_parked, st, sync_list);
		ev = st->sync_state & PFSYNC_OBSD_EV_MASK;
		updates = st->sync_updates;
		st->sync_state = PFSYNC_S_NONE;
		st->sync_updates = 0;
		more = !TAILQ_EMPTY(&sc->sc_parked);
		mtx_leave(&sc->sc_park_mtx);

		pfsync_obsd_deliver(sc, st, ev, updates);
		pf_state_unref(st);
	}
	if (more)
		task_add(systqmp, &sc->sc_park_task);
out:
	pfsync_obsd_engine_leave(sc);
	NET_UNLOCK_SHARED();
}

/*
 * pfsync0 is going away and the task has stopped: forget what is parked
 * and drop every packet still held (the engine, destroyed already, gave
 * back its own through deferred_release).
 */
void
pfsync_obsd_drop_parked(struct pfsync_obsd_softc *sc)
{
	struct pfsync_obsd_deferral *d;
	struct pf_state *st;
	unsigned int i;

	mtx_enter(&sc->sc_park_mtx);
	while ((st = TAILQ_FIRST(&sc->sc_parked)) != NULL) {
		TAILQ_REMOVE(&sc->sc_parked, st, sync_list);
		st->sync_state = PFSYNC_S_NONE;
		st->sync_updates = 0;
		mtx_leave(&sc->sc_park_mtx);
		pf_state_unref(st);
		mtx_enter(&sc->sc_park_mtx);
	}
	for (i = 0; i < PFSYNC_OBSD_DEFER_SLOTS; i++) {
		d = &sc->sc_deferrals[i];
		if (d->d_token == 0)
			continue;
		st = d->d_st;
		m_freem(d->d_m);
		d->d_m = NULL;
		d->d_st = NULL;
		d->d_token = 0;
		mtx_leave(&sc->sc_park_mtx);
		pf_state_unref(st);
		mtx_enter(&sc->sc_park_mtx);
	}
	sc->sc_nclears = 0;
	mtx_leave(&sc->sc_park_mtx);
}
