/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Everything that touches pf: the hooks pf calls, the inbox that carries
 * their events to the engine, and the host ops that read, create, change and
 * remove pf states on the engine's behalf.
 *
 * Hooks run with a pf hash-row lock held, so they never enter the engine
 * (whose lock ranks above row locks).  A hook parks its event: the state's
 * sync_state holds the pending PFSYNC_RS_EV_* bits (PFSYNC_S_NONE when not
 * parked), sync_updates counts folded updates, and the state goes once into
 * the inbox FIFO with one pf reference.  The hook task delivers in arrival
 * order with no pf lock held.  The bytes of sync_list are the core's slot.
 */

#include "opt_inet.h"
#include "opt_inet6.h"

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/callout.h>
#include <sys/epoch.h>
#include <sys/lock.h>
#include <sys/malloc.h>
#include <sys/mbuf.h>
#include <sys/mutex.h>
#include <sys/rmlock.h>
#include <sys/socket.h>
#include <sys/sx.h>
#include <sys/sysctl.h>
#include <sys/taskqueue.h>
#include <sys/time.h>

#include <net/if.h>
#include <net/if_var.h>
#include <net/if_private.h>
#include <net/route.h>
#include <net/vnet.h>
#include <net/pfvar.h>
#include <net/if_pfsync.h>

#include <netinet/in.h>
#include <netinet/in_var.h>
#include <netinet/ip_var.h>
#include <netinet6/ip6_var.h>

#include "pfsync_rs.h"

#if __FreeBSD_version >= 1500000
typedef struct pf_state_peer_export pfsync_rs_wire_peer_t;
#define	PFSYNC_RS_RULE(st)		((st)->rule)
#define	PFSYNC_RS_UNLINK(st)		pf_remove_state(st)
#else
typedef struct pfsync_state_peer pfsync_rs_wire_peer_t;
#define	PFSYNC_RS_RULE(st)		((st)->rule.ptr)
#define	PFSYNC_RS_UNLINK(st)		pf_unlink_state(st)
#endif

_Static_assert(sizeof(pfsync_rs_wire_peer_t) == PFSYNC_RS_PEER_LEN,
    "wire peer is 32 bytes");
_Static_assert(sizeof(union pfsync_state_union) <= PFSYNC_RS_STATE_MAX_LEN,
    "state records fit the ABI's maximum");
_Static_assert(sizeof(((struct pf_kstate *)0)->id) == 8 &&
    sizeof(((struct pf_kstate *)0)->creatorid) == 4, "state id is 8+4 bytes");
_Static_assert(IFNAMSIZ == PFSYNC_RS_IFNAMSIZ, "IFNAMSIZ");
_Static_assert(PF_TAG_NAME_SIZE == PFSYNC_RS_TAGNAMSIZ, "PF_TAG_NAME_SIZE");
_Static_assert(PF_MD5_DIGEST_LENGTH == PFSYNC_RS_PF_CKSUM_LEN, "pf_chksum");
_Static_assert(AF_INET == PFSYNC_RS_AF_INET && AF_INET6 == PFSYNC_RS_AF_INET6,
    "address family numbers");
_Static_assert(PFSYNCF_OK == PFSYNC_RS_CFG_OK &&
    PFSYNCF_DEFER == PFSYNC_RS_CFG_DEFER, "PFSYNCF_* flags");
_Static_assert(PFSYNC_SI_IOCTL == PFSYNC_RS_SI_IOCTL &&
    PFSYNC_SI_CKSUM == PFSYNC_RS_SI_CKSUM &&
    PFSYNC_SI_ACK == PFSYNC_RS_SI_ACK, "PFSYNC_SI_* flags");

/* Size of one full-state record of `version`, 0 if this release lacks it. */
static size_t
pfsync_rs_record_len(uint32_t version)
{
	switch (version) {
	case PFSYNC_MSG_VERSION_1301:
		return (sizeof(struct pfsync_state_1301));
	case PFSYNC_MSG_VERSION_1400:
		return (sizeof(struct pfsync_state_1400));
#ifdef PFSYNC_RS_HAVE_V1500
	case PFSYNC_MSG_VERSION_1500:
		return (sizeof(struct pfsync_state_1500));
#endif
	default:
		return (0);
	}
}

#define	PFSYNC_RS_SLOT(st)	((uint8_t *)&(st)->sync_list)
_Static_assert(sizeof(((struct pf_kstate *)0)->sync_list) >= PFSYNC_RS_SLOT_LEN,
    "the core's slot fits in pf_kstate.sync_list");

static void
pfsync_rs_fill_sid(const struct pf_kstate *st, struct pfsync_rs_state_id *sid)
{
	memcpy(sid->id_be, &st->id, sizeof(sid->id_be));
	memcpy(sid->creatorid_be, &st->creatorid, sizeof(sid->creatorid_be));
}

static void
pfsync_rs_fill_info(struct pf_kstate *st, struct pfsync_rs_state_info *info)
{
	struct pf_krule *r;

	memset(info, 0, sizeof(*info));
	pfsync_rs_fill_sid(st, &info->sid);
	info->state_flags = st->state_flags;
	info->timeout = st->timeout;
	/* Keys are detached once pf unlinks the state. */
	if (st->key[PF_SK_WIRE] != NULL)
		info->wire_proto = st->key[PF_SK_WIRE]->proto;
	r = PFSYNC_RS_RULE(st);
	info->rule_nosync = (r != NULL && (r->rule_flag & PFRULE_NOSYNC)) ? 1 : 0;
}

/* State lock held (or the state unreachable by others). */
static void
pfsync_rs_fill_snapshot(struct pf_kstate *st,
    struct pfsync_rs_state_snapshot *out)
{
	pfsync_rs_wire_peer_t peer;

	memset(out, 0, sizeof(*out));
	pfsync_rs_fill_sid(st, &out->sid);
	out->state_flags = st->state_flags;
	out->timeout = st->timeout;
	if (st->key[PF_SK_WIRE] != NULL)
		out->wire_proto = st->key[PF_SK_WIRE]->proto;
	memset(&peer, 0, sizeof(peer));
	pf_state_peer_hton(&st->src, &peer);
	memcpy(out->src, &peer, sizeof(peer));
	memset(&peer, 0, sizeof(peer));
	pf_state_peer_hton(&st->dst, &peer);
	memcpy(out->dst, &peer, sizeof(peer));
	memcpy(out->slot, PFSYNC_RS_SLOT(st), PFSYNC_RS_SLOT_LEN);
}

/* pf_find_state_byid() by our id type; returns the state locked. */
static struct pf_kstate *
pfsync_rs_find(const struct pfsync_rs_state_id *sid)
{
	uint64_t id;
	uint32_t creatorid;

	memcpy(&id, sid->id_be, sizeof(id));
	memcpy(&creatorid, sid->creatorid_be, sizeof(creatorid));
	return (pf_find_state_byid(id, creatorid));
}

/*
 * The inbox.
 */

void
pfsync_rs_inbox_init(struct pfsync_rs_softc *sc)
{
	STAILQ_INIT(&sc->sc_inbox);
	sc->sc_inbox_spare = NULL;
}

/* Inbox lock and the state's row lock held.  0, or ENOMEM. */
static int
pfsync_rs_inbox_push(struct pfsync_rs_softc *sc, struct pf_kstate *st)
{
	struct pfsync_rs_state_info info;
	struct pfsync_rs_inbox_ent *e;
	struct pfsync_rs_inbox_chunk *c;

	c = STAILQ_LAST(&sc->sc_inbox, pfsync_rs_inbox_chunk, c_next);
	if (c == NULL || c->c_tail == PFSYNC_RS_INBOX_CHUNK) {
		c = sc->sc_inbox_spare;
		sc->sc_inbox_spare = NULL;
		if (c == NULL)
			c = malloc(sizeof(*c), M_PFSYNC_RS, M_NOWAIT);
		if (c == NULL)
			return (ENOMEM);
		c->c_head = c->c_tail = 0;
		STAILQ_INSERT_TAIL(&sc->sc_inbox, c, c_next);
	}
	pfsync_rs_fill_info(st, &info);
	e = &c->c_ent[c->c_tail++];
	e->e_st = st;
	e->e_wire_proto = info.wire_proto;
	e->e_rule_nosync = info.rule_nosync;
	return (0);
}

/* Inbox lock held.  0 when empty. */
static int
pfsync_rs_inbox_pop(struct pfsync_rs_softc *sc, struct pfsync_rs_inbox_ent *out)
{
	struct pfsync_rs_inbox_chunk *c;

	c = STAILQ_FIRST(&sc->sc_inbox);
	if (c == NULL || c->c_head == c->c_tail)
		return (0);
	*out = c->c_ent[c->c_head++];
	if (c->c_head == c->c_tail) {
		STAILQ_REMOVE_HEAD(&sc->sc_inbox, c_next);
		if (sc->sc_inbox_spare == NULL)
			sc->sc_inbox_spare = c;
		else
			free(c, M_PFSYNC_RS);
	}
	return (1);
}

/* Teardown, after the last drain. */
void
pfsync_rs_inbox_fini(struct pfsync_rs_softc *sc)
{
	struct pfsync_rs_inbox_chunk *c;

	while ((c = STAILQ_FIRST(&sc->sc_inbox)) != NULL) {
		STAILQ_REMOVE_HEAD(&sc->sc_inbox, c_next);
		free(c, M_PFSYNC_RS);
	}
	free(sc->sc_inbox_spare, M_PFSYNC_RS);
	sc->sc_inbox_spare = NULL;
}

/*
 * Hooks.
 */

static void
pfsync_rs_park(struct pfsync_rs_softc *sc, struct pf_kstate *st, uint8_t ev)
{
	int kick = 0;

	/*
	 * While pfsync0 is down the engine ignores state events: do not park
	 * them.  A state parked before the interface went down is still
	 * delivered (and ignored) so that its reference is released.
	 */
	if ((sc->sc_ifp->if_drv_flags & IFF_DRV_RUNNING) == 0 &&
	    st->sync_state == PFSYNC_S_NONE)
		return;
	mtx_lock(&sc->sc_inbox_mtx);
	if (sc->sc_dying) {
		mtx_unlock(&sc->sc_inbox_mtx);
		return;
	}
	if (st->sync_state == PFSYNC_S_NONE) {
		if (pfsync_rs_inbox_push(sc, st) != 0) {
			sc->sc_inbox_dropped++;
			mtx_unlock(&sc->sc_inbox_mtx);
			return;
		}
		pf_ref_state(st);
		st->sync_state = ev;
		st->sync_updates = 0;
		kick = 1;
	} else
		st->sync_state |= ev;
	if ((ev & PFSYNC_RS_EV_UPDATED) && st->sync_updates < UINT8_MAX)
		st->sync_updates++;
	mtx_unlock(&sc->sc_inbox_mtx);
	if (kick)
		taskqueue_enqueue(pfsync_rs_tq, &sc->sc_hook_task);
}

static void
pfsync_rs_hook_insert(struct pf_kstate *st)
{
	struct pfsync_rs_softc *sc = V_pfsync_rs_softc;
	struct pfsync_rs_state_info info;

	if (sc == NULL)
		return;
	/* A new state: nobody else can reach its slot yet but by row lock. */
	pfsync_rs_slot_init(PFSYNC_RS_SLOT(st));
	pfsync_rs_fill_info(st, &info);
	switch (pfsync_rs_state_policy(&info)) {
	case PFSYNC_RS_POLICY_SYNC:
		pfsync_rs_park(sc, st, PFSYNC_RS_EV_INSERTED);
		break;
	case PFSYNC_RS_POLICY_NOSYNC:
		st->state_flags |= PFSTATE_NOSYNC;
		break;
	default:
		break;
	}
}

static void
pfsync_rs_hook_update(struct pf_kstate *st)
{
	struct pfsync_rs_softc *sc = V_pfsync_rs_softc;

	/* A NOSYNC state only matters to the engine when it goes away. */
	if (sc == NULL || (st->state_flags & PFSTATE_NOSYNC))
		return;
	pfsync_rs_park(sc, st, PFSYNC_RS_EV_UPDATED);
}

static void
pfsync_rs_hook_delete(struct pf_kstate *st)
{
	struct pfsync_rs_softc *sc = V_pfsync_rs_softc;

	if (sc == NULL)
		return;
	/* Whoever unlinks with NOSYNC set (CLR, our own deletes) wants no DEL_C. */
	pfsync_rs_park(sc, st, PFSYNC_RS_EV_DELETED |
	    ((st->state_flags & PFSTATE_NOSYNC) ? PFSYNC_RS_EV_NOSYNC : 0));
}

static void
pfsync_rs_hook_clear(uint32_t creatorid, const char *ifname)
{
	struct pfsync_rs_softc *sc;
	struct epoch_tracker et;
	char name[IFNAMSIZ];

	/*
	 * pf_clear_states() calls this from an ioctl after its walk, with no
	 * state lock held, so the engine can be entered directly.  Unlike the
	 * other hooks it holds no row lock either: the epoch section is what
	 * teardown's NET_EPOCH_WAIT waits for (pfsync_rs_hooks_quiesce).
	 */
	memset(name, 0, sizeof(name));
	if (ifname != NULL)
		strlcpy(name, ifname, sizeof(name));
	NET_EPOCH_ENTER(et);
	sc = V_pfsync_rs_softc;
	if (sc != NULL) {
		pfsync_rs_engine_enter(sc);
		if (sc->sc_engine != NULL)
			pfsync_rs_on_states_cleared(sc->sc_engine,
			    (const uint8_t *)&creatorid, name,
			    pfsync_rs_now_ns());
		pfsync_rs_engine_leave(sc);
	}
	NET_EPOCH_EXIT(et);
}

/*
 * Returning 1 hands the mbuf over, but pf_test() keeps using it until it
 * sees PF_DEFER, so the packet must not be let go before then: take it only
 * when the engine will keep it (pfsync_rs_defer_policy is the engine's own
 * rule), never to refuse it from the task an instant later.
 */
static int
pfsync_rs_hook_defer(struct pf_kstate *st, struct mbuf *m)
{
	struct pfsync_rs_softc *sc = V_pfsync_rs_softc;
	struct pfsync_rs_state_info info;
	struct pfsync_rs_deferral *d;

	if (sc == NULL || (m->m_flags & (M_BCAST | M_MCAST)) != 0)
		return (0);
	pfsync_rs_fill_info(st, &info);
	if (pfsync_rs_defer_policy(&info, atomic_load_int(&sc->sc_cfg.flags),
	    (sc->sc_ifp->if_drv_flags & IFF_DRV_RUNNING) != 0,
	    atomic_load_ptr(&sc->sc_sync_if) != NULL) == 0)
		return (0);

	mtx_lock(&sc->sc_inbox_mtx);
	d = TAILQ_FIRST(&sc->sc_defer_free);
	if (d == NULL || sc->sc_dying) {
		/* Every slot busy: let pf send the packet now. */
		mtx_unlock(&sc->sc_inbox_mtx);
		return (0);
	}
	TAILQ_REMOVE(&sc->sc_defer_free, d, d_entry);
	sc->sc_defer_used++;
	pf_ref_state(st);
	d->d_st = st;
	d->d_info = info;
	d->d_m = m;
	d->d_delivered = 0;
	st->state_flags |= PFSTATE_ACK;
	m->m_flags |= M_SKIP_FIREWALL;
	TAILQ_INSERT_TAIL(&sc->sc_defer_new, d, d_entry);
	mtx_unlock(&sc->sc_inbox_mtx);
	taskqueue_enqueue(pfsync_rs_tq, &sc->sc_hook_task);
	return (1);
}

static int pfsync_rs_hook_import(union pfsync_state_union *, int, int);
static void pfsync_rs_defer_refused(struct pfsync_rs_softc *,
    struct pfsync_rs_deferral *);

void
pfsync_rs_hooks_install(void)
{
	PF_RULES_WLOCK();
	V_pfsync_state_import_ptr = pfsync_rs_hook_import;
	V_pfsync_insert_state_ptr = pfsync_rs_hook_insert;
	V_pfsync_update_state_ptr = pfsync_rs_hook_update;
	V_pfsync_delete_state_ptr = pfsync_rs_hook_delete;
	V_pfsync_clear_states_ptr = pfsync_rs_hook_clear;
	V_pfsync_defer_ptr = pfsync_rs_hook_defer;
	PF_RULES_WUNLOCK();
}

/*
 * Wait until no hook still uses a softc whose V_pfsync_rs_softc was just
 * cleared.  The net epoch covers pf_test() and the clear hook, but not
 * every caller of the state hooks: on 14.x pf_purge_thread reaches
 * pf_unlink_state() (delete hook) outside it.  Every insert, update and
 * delete hook runs with its state's id-hash row locked, so taking each
 * row once orders us after all of them.
 */
void
pfsync_rs_hooks_quiesce(void)
{
	u_long row;

	NET_EPOCH_WAIT();
	if (V_pf_idhash == NULL)
		return;
	for (row = 0; row <= V_pf_hashmask; row++) {
		PF_HASHROW_LOCK(&V_pf_idhash[row]);
		PF_HASHROW_UNLOCK(&V_pf_idhash[row]);
	}
}

void
pfsync_rs_hooks_remove(void)
{
	PF_RULES_WLOCK();
	V_pfsync_state_import_ptr = NULL;
	V_pfsync_insert_state_ptr = NULL;
	V_pfsync_update_state_ptr = NULL;
	V_pfsync_delete_state_ptr = NULL;
	V_pfsync_clear_states_ptr = NULL;
	V_pfsync_defer_ptr = NULL;
	PF_RULES_WUNLOCK();
}

static void
pfsync_rs_defer_late_fired(void *arg)
{
	struct pfsync_rs_softc *sc = arg;
	struct pfsync_rs_deferral *d;

	CURVNET_SET(sc->sc_vnet);
	for (;;) {
		mtx_lock(&sc->sc_inbox_mtx);
		d = TAILQ_FIRST(&sc->sc_defer_late);
		if (d != NULL)
			TAILQ_REMOVE(&sc->sc_defer_late, d, d_entry);
		mtx_unlock(&sc->sc_inbox_mtx);
		if (d == NULL)
			break;
		pfsync_rs_host_deferred_release(sc, (uintptr_t)d, 1);
	}
	pfsync_rs_tx_kick(sc);
	CURVNET_RESTORE();
}

/*
 * The engine refused a packet the hook had taken: the configuration changed
 * in between (sync interface gone, pfsync0 down).  pf_test() may still be
 * using the mbuf on another CPU, so it leaves only after the defer delay,
 * as if it had timed out.
 */
static void
pfsync_rs_defer_refused(struct pfsync_rs_softc *sc,
    struct pfsync_rs_deferral *d)
{
	int ticks;

	ticks = (int)((uint64_t)V_pfsync_rs_defer_delay_ms * hz / 1000) + 1;
	mtx_lock(&sc->sc_inbox_mtx);
	TAILQ_INSERT_TAIL(&sc->sc_defer_late, d, d_entry);
	if (!callout_pending(&sc->sc_defer_late_co))
		callout_reset(&sc->sc_defer_late_co, ticks,
		    pfsync_rs_defer_late_fired, sc);
	mtx_unlock(&sc->sc_inbox_mtx);
}

/*
 * Inbox delivery.  Engine lock held; the inbox lock is taken per element so
 * hooks keep parking while we deliver.  No pf lock is held, so the engine
 * hands over each frame as soon as it fills (pfsync_core.h); a burst would
 * then outrun the tx queue, so when `can_tx` (the hook task, which holds no
 * other lock) the drain transmits in between with the engine lock dropped.
 * Callers that hold the rules lock (input) pass 0: they deliver a handful.
 */
static int
pfsync_rs_txq_half_full(struct pfsync_rs_softc *sc)
{
	int n;

	mtx_lock(&sc->sc_txq_mtx);
	n = mbufq_len(&sc->sc_txq) + mbufq_len(&sc->sc_txq_data);
	mtx_unlock(&sc->sc_txq_mtx);
	return (n >= PFSYNC_RS_TXQ_LEN / 2);
}

void
pfsync_rs_inbox_drain(struct pfsync_rs_softc *sc, int can_tx)
{
	struct pfsync_rs_state_info info;
	struct pfsync_rs_inbox_ent e;
	struct pfsync_rs_deferral *d;
	struct pf_kstate *st;
	uint8_t ev, updates;
	uint64_t now;

	mtx_assert(&sc->sc_engine_mtx, MA_OWNED);
	for (;;) {
		mtx_lock(&sc->sc_inbox_mtx);
		if (!pfsync_rs_inbox_pop(sc, &e)) {
			mtx_unlock(&sc->sc_inbox_mtx);
			break;
		}
		st = e.e_st;
		ev = st->sync_state;
		updates = st->sync_updates;
		st->sync_state = PFSYNC_S_NONE;
		st->sync_updates = 0;
		mtx_unlock(&sc->sc_inbox_mtx);

		if (sc->sc_engine != NULL) {
			now = pfsync_rs_now_ns();
			/*
			 * Only the id is read from the state here (it never
			 * changes and our reference keeps the memory); the rest
			 * was taken by the hooks under the row lock.
			 */
			memset(&info, 0, sizeof(info));
			pfsync_rs_fill_sid(st, &info.sid);
			info.wire_proto = e.e_wire_proto;
			info.rule_nosync = e.e_rule_nosync;
			if (ev & PFSYNC_RS_EV_NOSYNC)
				info.state_flags = PFSTATE_NOSYNC;
			info.pending_updates = updates;
			if (ev & PFSYNC_RS_EV_INSERTED)
				pfsync_rs_on_state_inserted(sc->sc_engine, &info,
				    PFSYNC_RS_SLOT(st), now);
			if ((ev & PFSYNC_RS_EV_UPDATED) &&
			    !(ev & PFSYNC_RS_EV_DELETED))
				pfsync_rs_on_state_updated(sc->sc_engine, &info,
				    PFSYNC_RS_SLOT(st), now);
			if (ev & PFSYNC_RS_EV_DELETED)
				pfsync_rs_on_state_deleted(sc->sc_engine, &info,
				    PFSYNC_RS_SLOT(st), now);
		}
		pf_release_state(st);
		if (can_tx && pfsync_rs_txq_half_full(sc)) {
			mtx_unlock(&sc->sc_engine_mtx);
			pfsync_rs_tx_task(sc, 0);
			mtx_lock(&sc->sc_engine_mtx);
		}
	}

	for (;;) {
		mtx_lock(&sc->sc_inbox_mtx);
		d = TAILQ_FIRST(&sc->sc_defer_new);
		if (d != NULL) {
			TAILQ_REMOVE(&sc->sc_defer_new, d, d_entry);
			d->d_delivered = 1;
		}
		mtx_unlock(&sc->sc_inbox_mtx);
		if (d == NULL)
			break;
		if (sc->sc_engine == NULL ||
		    pfsync_rs_on_defer_requested(sc->sc_engine, &d->d_info,
		    PFSYNC_RS_SLOT(d->d_st), (uint64_t)(uintptr_t)d,
		    pfsync_rs_now_ns()) == 0)
			pfsync_rs_defer_refused(sc, d);
	}
}

void
pfsync_rs_hook_task(void *arg, int pending __unused)
{
	struct pfsync_rs_softc *sc = arg;

	CURVNET_SET(sc->sc_vnet);
	pfsync_rs_engine_enter(sc);
	pfsync_rs_inbox_drain(sc, 1);
	pfsync_rs_engine_leave(sc);
	CURVNET_RESTORE();
}

/*
 * Records lost for lack of memory, kept apart from the stock counters: the
 * engine's (bucket arena exhausted) and the inbox's (no chunk for a hook).
 */
SYSCTL_DECL(_net_pfsync_rs);
static int
pfsync_rs_sysctl_drops(SYSCTL_HANDLER_ARGS)
{
	struct pfsync_rs_softc *sc = V_pfsync_rs_softc;
	uint64_t queue = 0, inbox = 0;
	char buf[64];

	if (sc != NULL) {
		pfsync_rs_engine_enter(sc);
		if (sc->sc_engine != NULL)
			queue = pfsync_rs_queue_drops(sc->sc_engine);
		pfsync_rs_engine_leave(sc);
		mtx_lock(&sc->sc_inbox_mtx);
		inbox = sc->sc_inbox_dropped;
		mtx_unlock(&sc->sc_inbox_mtx);
	}
	snprintf(buf, sizeof(buf), "queue %ju inbox %ju", (uintmax_t)queue,
	    (uintmax_t)inbox);
	return (sysctl_handle_string(oidp, buf, sizeof(buf), req));
}
SYSCTL_PROC(_net_pfsync_rs, OID_AUTO, drops,
    CTLTYPE_STRING | CTLFLAG_RD | CTLFLAG_VNET | CTLFLAG_MPSAFE, NULL, 0,
    pfsync_rs_sysctl_drops, "A",
    "Records lost for lack of memory: engine queue, hook inbox");

/*
 * The engine's counters stock pfsync has no place for (bulk progress,
 * deferral outcomes, merges refused, unknown flag bits...), "name value"
 * lines, for `sysctl net.pfsync.rs.counters`.
 */
#define	PFSYNC_RS_COUNTERS_LEN	2048
static int
pfsync_rs_sysctl_counters(SYSCTL_HANDLER_ARGS)
{
	struct pfsync_rs_softc *sc = V_pfsync_rs_softc;
	char *buf;
	int error;

	buf = malloc(PFSYNC_RS_COUNTERS_LEN, M_TEMP, M_WAITOK | M_ZERO);
	if (sc != NULL) {
		pfsync_rs_engine_enter(sc);
		if (sc->sc_engine != NULL)
			(void)pfsync_rs_counters_format(sc->sc_engine, buf,
			    PFSYNC_RS_COUNTERS_LEN);
		pfsync_rs_engine_leave(sc);
	}
	error = sysctl_handle_string(oidp, buf, PFSYNC_RS_COUNTERS_LEN, req);
	free(buf, M_TEMP);
	return (error);
}
SYSCTL_PROC(_net_pfsync_rs, OID_AUTO, counters,
    CTLTYPE_STRING | CTLFLAG_RD | CTLFLAG_VNET | CTLFLAG_MPSAFE, NULL, 0,
    pfsync_rs_sysctl_counters, "A",
    "Counters of pfsync-rs beyond net.pfsync.stats, one per line");

void
pfsync_rs_defer_init(struct pfsync_rs_softc *sc)
{
	int i;

	TAILQ_INIT(&sc->sc_defer_new);
	TAILQ_INIT(&sc->sc_defer_free);
	TAILQ_INIT(&sc->sc_defer_late);
	callout_init(&sc->sc_defer_late_co, 1);
	for (i = 0; i < PFSYNC_RS_DEFER_SLOTS; i++) {
		sc->sc_defer_slots[i].d_sc = sc;
		TAILQ_INSERT_TAIL(&sc->sc_defer_free, &sc->sc_defer_slots[i],
		    d_entry);
	}
}

/*
 * Give back deferrals the engine never saw or refused (teardown, engine
 * gone).  sc_dying is set, so no new ones arrive.
 */
void
pfsync_rs_defer_flush(struct pfsync_rs_softc *sc)
{
	struct pfsync_rs_deferral *d;

	callout_drain(&sc->sc_defer_late_co);
	for (;;) {
		mtx_lock(&sc->sc_inbox_mtx);
		d = TAILQ_FIRST(&sc->sc_defer_new);
		if (d != NULL)
			TAILQ_REMOVE(&sc->sc_defer_new, d, d_entry);
		else if ((d = TAILQ_FIRST(&sc->sc_defer_late)) != NULL)
			TAILQ_REMOVE(&sc->sc_defer_late, d, d_entry);
		mtx_unlock(&sc->sc_inbox_mtx);
		if (d == NULL)
			break;
		pfsync_rs_host_deferred_release(sc, (uintptr_t)d, 0);
	}
}

void
pfsync_rs_host_deferred_release(void *ctx, uint64_t token, int transmit)
{
	struct pfsync_rs_softc *sc = ctx;
	struct pfsync_rs_deferral *d;
	struct pf_kstate *st;
	struct mbuf *m;
	int queued = 0;

	d = (struct pfsync_rs_deferral *)(uintptr_t)token;
	if (d < &sc->sc_defer_slots[0] ||
	    d >= &sc->sc_defer_slots[PFSYNC_RS_DEFER_SLOTS] || d->d_m == NULL)
		return;		/* not a live token of ours */
	st = d->d_st;
	m = d->d_m;
	/*
	 * pf reads and writes state_flags under the state lock; the core never
	 * calls an op with a row lock held, so taking it here cannot recurse.
	 * The reference is dropped after the unlock: the last one frees the
	 * state, and PF_STATE_UNLOCK finds the row from the state.
	 */
	PF_STATE_LOCK(st);
	st->state_flags &= ~PFSTATE_ACK;
	PF_STATE_UNLOCK(st);
	if (transmit && sc->sc_sync_if != NULL) {
		mtx_lock(&sc->sc_txq_mtx);
		queued = mbufq_enqueue(&sc->sc_txq_data, m) == 0;
		mtx_unlock(&sc->sc_txq_mtx);
	}
	if (!queued)
		m_freem(m);
	pf_release_state(st);

	mtx_lock(&sc->sc_inbox_mtx);
	d->d_st = NULL;
	d->d_m = NULL;
	TAILQ_INSERT_TAIL(&sc->sc_defer_free, d, d_entry);
	sc->sc_defer_used--;
	mtx_unlock(&sc->sc_inbox_mtx);
}

/*
 * Host ops on states, by id.
 */

int
pfsync_rs_host_state_lookup(void *ctx __unused,
    const struct pfsync_rs_state_id *sid, struct pfsync_rs_state_snapshot *out)
{
	struct pf_kstate *st;

	st = pfsync_rs_find(sid);
	if (st == NULL)
		return (ENOENT);
	pfsync_rs_fill_snapshot(st, out);
	PF_STATE_UNLOCK(st);
	return (0);
}

int
pfsync_rs_host_state_export(void *ctx __unused,
    const struct pfsync_rs_state_id *sid, uint32_t msg_version, uint8_t *out,
    size_t out_len)
{
	union pfsync_state_union sp;
	struct pf_kstate *st;
	size_t len;

	len = pfsync_rs_record_len(msg_version);
	if (len == 0)
		return (EINVAL);
	if (out_len < len)
		return (ENOSPC);
	st = pfsync_rs_find(sid);
	if (st == NULL)
		return (ENOENT);
	memset(&sp, 0, sizeof(sp));
	pfsync_state_export(&sp, st, msg_version);
	PF_STATE_UNLOCK(st);
	memcpy(out, &sp, len);
	return (0);
}

int
pfsync_rs_host_state_store_slot(void *ctx __unused,
    const struct pfsync_rs_state_id *sid, const uint8_t *slot)
{
	struct pf_kstate *st;

	st = pfsync_rs_find(sid);
	if (st == NULL)
		return (ENOENT);
	memcpy(PFSYNC_RS_SLOT(st), slot, PFSYNC_RS_SLOT_LEN);
	PF_STATE_UNLOCK(st);
	return (0);
}

static int
pfsync_rs_same_id(const struct pf_kstate *st,
    const struct pfsync_rs_state_id *sid)
{
	return (memcmp(&st->id, sid->id_be, sizeof(st->id)) == 0 &&
	    memcmp(&st->creatorid, sid->creatorid_be,
	    sizeof(st->creatorid)) == 0);
}

int
pfsync_rs_host_state_next(void *ctx __unused, struct pfsync_rs_cursor *cur,
    struct pfsync_rs_state_snapshot *out)
{
	struct pf_idhash *ih;
	struct pf_kstate *st, *resume;
	uint64_t seen;

	/*
	 * Resume in cur->row just after cur->last.  If that state has gone,
	 * fall back to skipping cur->position states: states removed from the
	 * row meanwhile may then make one state come out twice, as stock's
	 * walk (which resumes by id, else from the row start) can.
	 */
	for (; cur->row <= V_pf_hashmask; cur->row++, cur->position = 0) {
		ih = &V_pf_idhash[cur->row];
		PF_HASHROW_LOCK(ih);
		resume = NULL;
		if (cur->position > 0)
			LIST_FOREACH(resume, &ih->states, entry)
				if (pfsync_rs_same_id(resume, &cur->last))
					break;
		seen = 0;
		st = resume != NULL ? LIST_NEXT(resume, entry) :
		    LIST_FIRST(&ih->states);
		for (; st != NULL; st = LIST_NEXT(st, entry)) {
			if (resume == NULL && seen++ < cur->position)
				continue;
			cur->position++;
			if (st->timeout >= PFTM_MAX ||
			    (st->state_flags & PFSTATE_NOSYNC))
				continue;
			pfsync_rs_fill_snapshot(st, out);
			PF_HASHROW_UNLOCK(ih);
			cur->last = out->sid;
			return (0);
		}
		PF_HASHROW_UNLOCK(ih);
	}
	return (ENOENT);
}

static int
pfsync_rs_alloc_scrub(const pfsync_rs_wire_peer_t *s, struct pf_state_peer *d)
{
	if (s->scrub.scrub_flag && d->scrub == NULL) {
		d->scrub = uma_zalloc(V_pf_state_scrub_z, M_NOWAIT | M_ZERO);
		if (d->scrub == NULL)
			return (ENOMEM);
	}
	return (0);
}

int
pfsync_rs_host_state_merge(void *ctx __unused,
    const struct pfsync_rs_state_id *sid, const uint8_t *in_src,
    const uint8_t *in_dst, uint8_t in_timeout, uint32_t touched,
    struct pfsync_rs_merge_out *out)
{
	pfsync_rs_wire_peer_t before[2], after[2];
	struct pf_kstate *st;
	uint8_t timeout, proto;
	int stale, refresh = 0;

	st = pfsync_rs_find(sid);
	if (st == NULL)
		return (ENOENT);
	proto = st->key[PF_SK_WIRE] != NULL ? st->key[PF_SK_WIRE]->proto : 0;
	memset(before, 0, sizeof(before));
	pf_state_peer_hton(&st->src, &before[0]);
	pf_state_peer_hton(&st->dst, &before[1]);
	memcpy(after, before, sizeof(after));
	timeout = st->timeout;

	stale = pfsync_rs_merge_peers(proto, (uint8_t *)&after[0],
	    (uint8_t *)&after[1], &timeout, in_src, in_dst, in_timeout,
	    &refresh);
	if (stale >= 0) {
		/*
		 * Write back only the sides the merge changed: the round trip
		 * through the wire format keeps only PFSS_TIMESTAMP of a
		 * peer's scrub flags.
		 */
		if (memcmp(&before[0], &after[0], sizeof(after[0])) != 0 &&
		    pfsync_rs_alloc_scrub(&after[0], &st->src) == 0)
			pf_state_peer_ntoh(&after[0], &st->src);
		if (memcmp(&before[1], &after[1], sizeof(after[1])) != 0 &&
		    pfsync_rs_alloc_scrub(&after[1], &st->dst) == 0)
			pf_state_peer_ntoh(&after[1], &st->dst);
		if (refresh && timeout < PFTM_MAX) {
			st->timeout = timeout;
#if __FreeBSD_version >= 1500000
			st->expire = pf_get_uptime();
#else
			st->expire = time_uptime;
#endif
		}
	}
	st->pfsync_time = time_uptime;
	pfsync_rs_slot_set_touched(PFSYNC_RS_SLOT(st), touched);

	memset(out, 0, sizeof(*out));
	out->stale_sides = stale > 0 ? (uint8_t)stale : 0;
	out->wire_proto = proto;
	out->state_flags = st->state_flags;
	memcpy(out->slot, PFSYNC_RS_SLOT(st), PFSYNC_RS_SLOT_LEN);
	PF_STATE_UNLOCK(st);
	return (0);
}

int
pfsync_rs_host_state_delete(void *ctx __unused,
    const struct pfsync_rs_state_id *sid)
{
	struct pf_kstate *st;

	st = pfsync_rs_find(sid);
	if (st == NULL)
		return (ENOENT);
	st->state_flags |= PFSTATE_NOSYNC;
	(void)PFSYNC_RS_UNLINK(st);	/* unlocks the row */
	return (0);
}

uint64_t
pfsync_rs_host_states_clear(void *ctx __unused, const uint8_t *creatorid_be,
    const char *ifname)
{
	struct pf_idhash *ih;
	struct pf_kstate *st;
	uint32_t creatorid;
	uint64_t n = 0;
	u_long row;

	memcpy(&creatorid, creatorid_be, sizeof(creatorid));
	for (row = 0; row <= V_pf_hashmask; row++) {
		ih = &V_pf_idhash[row];
relock:
		PF_HASHROW_LOCK(ih);
		LIST_FOREACH(st, &ih->states, entry) {
			if (st->creatorid != creatorid)
				continue;
			if (ifname[0] != '\0' &&
			    strncmp(ifname, st->kif->pfik_name, IFNAMSIZ) != 0)
				continue;
			st->state_flags |= PFSTATE_NOSYNC;
			(void)PFSYNC_RS_UNLINK(st);	/* unlocks the row */
			n++;
			goto relock;
		}
		PF_HASHROW_UNLOCK(ih);
	}
	return (n);
}

static struct pf_krule *
pfsync_rs_rule_by_number(const struct pfsync_rs_import *rec, uint32_t flags)
{
	struct pf_krule *r;
	uint32_t n = 0;

	if (rec->rule == UINT32_MAX || rec->anchor != UINT32_MAX ||
	    (flags & (PFSYNC_SI_IOCTL | PFSYNC_SI_CKSUM)) == 0 ||
	    rec->rule >= pf_main_ruleset.rules[PF_RULESET_FILTER].active.rcount)
		return (&V_pf_default_rule);
	TAILQ_FOREACH(r, pf_main_ruleset.rules[PF_RULESET_FILTER].active.ptr,
	    entries)
		if (n++ == rec->rule)
			return (r);
	return (&V_pf_default_rule);
}

static int
pfsync_rs_addr_is_zero(const uint8_t *a, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (a[i] != 0)
			return (0);
	return (1);
}

/*
 * FreeBSD 13 sent a route-to address but neither the route-to interface nor
 * the kind of route.  When the rule the state was created by is known (the
 * ruleset checksums match), that rule's pool says both, but only when it has
 * exactly one entry: with more, the peer's choice cannot be told.  Returns 0
 * with the route (or no route) filled in, -1 when the state must be skipped.
 * Unlike stock 15.1, a matched rule that routes nothing gives a state without
 * a route instead of a skipped state (docs/engine.md, "Against stock").
 */
static int
pfsync_rs_route_1301(const struct pfsync_rs_import *rec, struct pf_krule *r,
    uint8_t *rt, struct pfi_kkif **rt_kif, sa_family_t *rt_af)
{
	struct pf_kpool *pool;
	struct pf_kpooladdr *first;

	*rt = 0;
	*rt_kif = NULL;
	*rt_af = 0;
	if (r == &V_pf_default_rule || r->rt == 0)
		return (pfsync_rs_addr_is_zero(rec->rt_addr,
		    sizeof(rec->rt_addr)) ? 0 : -1);
#if __FreeBSD_version >= 1500000
	pool = &r->route;
	if (TAILQ_EMPTY(&pool->list))
		pool = &r->rdr;
#else
	pool = &r->rpool;
#endif
	first = TAILQ_FIRST(&pool->list);
	if (first == NULL || TAILQ_NEXT(first, entries) != NULL)
		return (-1);
	*rt = r->rt;
	*rt_kif = first->kif;
	*rt_af = r->af;
	return (0);
}

/*
 * What a 1301 record lacks and stock 15.1 takes from the matched rule, as
 * pf_rule_to_actions() would have set it on the sender.
 */
static void
pfsync_rs_actions_1301(struct pf_kstate *st, const struct pf_krule *r)
{
	st->act.qid = r->qid;
	st->act.pqid = r->pqid;
	st->act.rtableid = r->rtableid;
	if (r->scrub_flags & PFSTATE_SETTOS)
		st->act.set_tos = r->set_tos;
	st->act.min_ttl = r->min_ttl;
	st->act.max_mss = r->max_mss;
	st->state_flags |= r->scrub_flags & (PFSTATE_NODF | PFSTATE_RANDOMID |
	    PFSTATE_SETTOS | PFSTATE_SCRUB_TCP | PFSTATE_SETPRIO);
	if (r->dnpipe != 0 || r->dnrpipe != 0) {
		if (r->free_flags & PFRULE_DN_IS_PIPE)
			st->state_flags |= PFSTATE_DN_IS_PIPE;
		else
			st->state_flags &= ~PFSTATE_DN_IS_PIPE;
	}
	st->act.dnpipe = r->dnpipe;
	st->act.dnrpipe = r->dnrpipe;
}

/*
 * Create a pf state from a validated record.  PF_RULES_RLOCK held.  Stock
 * semantics: an unknown interface skips the state on the network path and
 * fails the ioctl; a 1301 record gets its route-to data back from the rule
 * it matched (pfsync_rs_route_1301).
 */
static int
pfsync_rs_import_locked(const struct pfsync_rs_import *rec, uint32_t flags,
    const uint8_t *slot)
{
	pfsync_rs_wire_peer_t wsrc, wdst;
	struct pf_kstate *st = NULL;
	struct pf_state_key *skw = NULL, *sks = NULL;
	struct pfi_kkif *kif, *orig_kif, *rt_kif = NULL;
	struct pf_krule *r;
	sa_family_t rt_af;
	uint32_t timeout;
	uint64_t id;
	uint8_t rt;
	uint32_t creatorid;
	int same_keys, error, k;

	PF_RULES_RASSERT();
	if (memchr(rec->ifname, 0, sizeof(rec->ifname)) == NULL ||
	    memchr(rec->orig_ifname, 0, sizeof(rec->orig_ifname)) == NULL ||
	    memchr(rec->rt_ifname, 0, sizeof(rec->rt_ifname)) == NULL ||
	    memchr(rec->tagname, 0, sizeof(rec->tagname)) == NULL)
		return (EINVAL);
	memcpy(&id, rec->sid.id_be, sizeof(id));
	memcpy(&creatorid, rec->sid.creatorid_be, sizeof(creatorid));
	if (creatorid == 0)
		return (EINVAL);

	kif = orig_kif = pfi_kkif_find(rec->ifname);
	if (kif == NULL)
		return ((flags & PFSYNC_SI_IOCTL) ? EINVAL : 0);
	if (rec->orig_ifname[0] != '\0') {
		orig_kif = pfi_kkif_find(rec->orig_ifname);
		if (orig_kif == NULL) {
			if (kif != V_pfi_all)
				return ((flags & PFSYNC_SI_IOCTL) ? EINVAL : 0);
			orig_kif = kif;
		}
	}
	r = pfsync_rs_rule_by_number(rec, flags);
	rt = rec->rt;
	rt_af = rec->rt != 0 ? rec->rt_af : 0;
	if (rec->msg_version == PFSYNC_MSG_VERSION_1301) {
		if (pfsync_rs_route_1301(rec, r, &rt, &rt_kif, &rt_af) != 0)
			return ((flags & PFSYNC_SI_IOCTL) ? EINVAL : 0);
	} else if (rec->rt != 0) {
		rt_kif = pfi_kkif_find(rec->rt_ifname);
		if (rt_kif == NULL)
			return ((flags & PFSYNC_SI_IOCTL) ? EINVAL : 0);
	}
	if (r->max_states != 0 &&
	    counter_u64_fetch(r->states_cur) >= r->max_states)
		return (ENOMEM);
	if (!(rec->rtableid == -1 ||
	    (rec->rtableid >= 0 && (uint32_t)rec->rtableid < rt_numfibs)))
		return (EINVAL);

	error = ENOMEM;
	st = pf_alloc_state(M_NOWAIT);
	if (st == NULL)
		goto fail;
	skw = uma_zalloc(V_pf_state_key_z, M_NOWAIT);
	if (skw == NULL)
		goto fail;
	same_keys = rec->wire_af == rec->stack_af &&
	    rec->wire_proto == rec->stack_proto &&
	    memcmp(rec->key_addr[PF_SK_WIRE], rec->key_addr[PF_SK_STACK],
	    sizeof(rec->key_addr[0])) == 0 &&
	    memcmp(rec->key_port_be[PF_SK_WIRE], rec->key_port_be[PF_SK_STACK],
	    sizeof(rec->key_port_be[0])) == 0;
	if (same_keys)
		sks = skw;
	else if ((sks = uma_zalloc(V_pf_state_key_z, M_NOWAIT)) == NULL)
		goto fail;

	memcpy(&wsrc, rec->src, sizeof(wsrc));
	memcpy(&wdst, rec->dst, sizeof(wdst));
	if (pfsync_rs_alloc_scrub(&wsrc, &st->src) != 0 ||
	    pfsync_rs_alloc_scrub(&wdst, &st->dst) != 0)
		goto fail;
	if (rec->stack_proto == IPPROTO_SCTP && st->src.scrub == NULL) {
		error = EINVAL;
		goto fail;
	}

	for (k = 0; k < 2; k++) {
		memcpy(&skw->addr[k], rec->key_addr[PF_SK_WIRE][k],
		    sizeof(skw->addr[k]));
		memcpy(&skw->port[k], rec->key_port_be[PF_SK_WIRE][k],
		    sizeof(skw->port[k]));
	}
	skw->af = rec->wire_af;
	skw->proto = rec->wire_proto;
	if (sks != skw) {
		for (k = 0; k < 2; k++) {
			memcpy(&sks->addr[k], rec->key_addr[PF_SK_STACK][k],
			    sizeof(sks->addr[k]));
			memcpy(&sks->port[k], rec->key_port_be[PF_SK_STACK][k],
			    sizeof(sks->port[k]));
		}
		sks->af = rec->stack_af;
		sks->proto = rec->stack_proto;
	}

	st->state_flags = rec->state_flags;
	st->direction = rec->direction;
	st->timeout = rec->timeout;
	st->act.log = rec->log;
	st->act.qid = rec->qid;
	st->act.pqid = rec->pqid;
	st->act.dnpipe = rec->dnpipe;
	st->act.dnrpipe = rec->dnrpipe;
	st->act.rtableid = rec->rtableid;
	st->act.min_ttl = rec->min_ttl;
	st->act.set_tos = rec->set_tos;
	st->act.max_mss = rec->max_mss;
	st->act.set_prio[0] = rec->set_prio[0];
	st->act.set_prio[1] = rec->set_prio[1];
	if (rec->msg_version == PFSYNC_MSG_VERSION_1301) {
		if (r == &V_pf_default_rule)
			st->state_flags &= ~PFSTATE_SETMASK;
		else
			pfsync_rs_actions_1301(st, r);
	}

	timeout = r->timeout[st->timeout];
	if (timeout == 0)
		timeout = V_pf_default_rule.timeout[st->timeout];
#if __FreeBSD_version >= 1500000
	st->act.rt = rt;
	st->act.rt_kif = rt_kif;
	st->act.rt_af = rt_af;
	if (rt != 0)
		memcpy(&st->act.rt_addr, rec->rt_addr, sizeof(st->act.rt_addr));
	if (rec->tagname[0] != '\0')
		st->tag = pf_tagname2tag(rec->tagname);
	st->creation = rec->creation_age_s < time_uptime ?
	    (uint64_t)(time_uptime - rec->creation_age_s) * 1000 : 0;
	st->expire = pf_get_uptime();
	if (rec->expire_s != 0 && timeout > rec->expire_s &&
	    st->expire > (uint64_t)(timeout - rec->expire_s) * 1000)
		st->expire -= (uint64_t)(timeout - rec->expire_s) * 1000;
#else
	(void)rt_af;	/* 14.x keeps no route family: the address says it */
	st->rt = rt;
	st->rt_kif = rt_kif;
	if (rt != 0)
		memcpy(&st->rt_addr, rec->rt_addr, sizeof(st->rt_addr));
	st->creation = rec->creation_age_s < time_uptime ?
	    time_uptime - rec->creation_age_s : 0;
	st->expire = time_uptime;
	if (rec->expire_s != 0 && timeout > rec->expire_s &&
	    st->expire > timeout - rec->expire_s)
		st->expire -= timeout - rec->expire_s;
#endif

	st->id = id;
	st->creatorid = creatorid;
	pf_state_peer_ntoh(&wsrc, &st->src);
	pf_state_peer_ntoh(&wdst, &st->dst);
#if __FreeBSD_version >= 1500000
	st->rule = r;
	st->nat_rule = NULL;
	st->anchor = NULL;
#else
	st->rule.ptr = r;
	st->nat_rule.ptr = NULL;
	st->anchor.ptr = NULL;
#endif
	st->pfsync_time = time_uptime;
	st->sync_state = PFSYNC_S_NONE;
	/* Keep the insert hook quiet: the sender already knows this state. */
	if (!(flags & PFSYNC_SI_IOCTL))
		st->state_flags |= PFSTATE_NOSYNC;

	error = pf_state_insert(kif, orig_kif, skw, sks, st);
	if (error != 0) {
		/* pf_state_insert() has freed the keys. */
		st->timeout = PFTM_UNLINKED;
		pf_free_state(st);
		return (error);
	}
	counter_u64_add(r->states_cur, 1);
	counter_u64_add(r->states_tot, 1);
	if (slot != NULL)
		memcpy(PFSYNC_RS_SLOT(st), slot, PFSYNC_RS_SLOT_LEN);
	if (!(flags & PFSYNC_SI_IOCTL))
		st->state_flags &= ~PFSTATE_NOSYNC;
	st->state_flags &= ~PFSTATE_ACK;
	PF_STATE_UNLOCK(st);
	return (0);

fail:
	if (sks == skw)
		sks = NULL;
	if (skw != NULL)
		uma_zfree(V_pf_state_key_z, skw);
	if (sks != NULL)
		uma_zfree(V_pf_state_key_z, sks);
	if (st != NULL) {
		st->timeout = PFTM_UNLINKED;
		pf_free_state(st);
	}
	return (error);
}

int
pfsync_rs_host_state_import(void *ctx, const struct pfsync_rs_import *rec,
    uint32_t flags, const uint8_t *slot)
{
	struct pfsync_rs_softc *sc = ctx;

	/*
	 * Importing needs the rules lock, which ranks above the engine lock:
	 * only the input path, which took it before entering the engine, may
	 * import.  Elsewhere taking it here could deadlock against input.
	 */
	if (!sc->sc_in_input)
		return (EDEADLK);
	return (pfsync_rs_import_locked(rec, flags, slot));
}

/* DIOCADDSTATE: pf holds the rules lock; Rust validates before pf is touched. */
static int
pfsync_rs_hook_import(union pfsync_state_union *sp, int flags, int msg_version)
{
	struct pfsync_rs_import rec;
	size_t len;
	int error;

	len = pfsync_rs_record_len(msg_version);
	if (len == 0)
		return (EINVAL);
	error = pfsync_rs_import_decode((const uint8_t *)sp, len, msg_version,
	    &rec);
	if (error != 0)
		return (error);
	return (pfsync_rs_import_locked(&rec, flags, NULL));
}

