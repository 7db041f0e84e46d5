/* SPDX-License-Identifier: ISC */
/*
 * Private header of the OpenBSD shim: the pfsync(4) pseudo-device of an
 * OpenBSD kernel, with the protocol in the Rust core (bindings/pfsync_core.h).
 * OpenBSD has no loadable modules, so this replaces sys/net/if_pfsync.c: pf
 * calls the functions net/if_pfsync.h declares for the kernel directly.
 *
 * Lock order (outermost first):
 *
 *   NET_LOCK  >  sc_engine_lock (rwlock)  >  pf_lock  >  pf_state_lock
 *       >  a state's mtx  >  sc_park_mtx, sc_txq_mtx
 *
 * pf calls its pfsync hooks with pf_lock and/or pf_state_lock held, so the
 * hooks only take the leaf sc_park_mtx: they park the event on the state
 * (linked through pf_state.sync_list, pending bits in sync_state) and a task
 * hands it to the engine later, with no pf lock held.  The engine lock is a
 * rwlock because the core's host operations take pf_lock, a sleeping lock.
 *
 * pf_state fields that belong to pfsync (marked [S] in net/pfvar_priv.h):
 *   sync_list     link of the park queue
 *   sync_state    PFSYNC_S_NONE, or the pending event bits below
 *   sync_updates  update hooks folded into the pending delivery
 *   sync_defer, pfsync_time   the core's 12-byte sync slot (8 + 4 bytes)
 */

#ifndef PFSYNC_OBSD_H
#define PFSYNC_OBSD_H

#include "pfsync_core.h"

/*
 * pf_state.sync_state of a parked state: PFSYNC_OBSD_PARKED plus pending
 * event bits.  Anything else (PFSYNC_S_NONE from pfsync_init_state, or the
 * 0 of a zeroed state) means not parked.
 */
#define	PFSYNC_OBSD_PARKED	0x20
#define	PFSYNC_OBSD_PARKED_MASK	0xe0
#define	PFSYNC_OBSD_IS_PARKED(st) \
	(((st)->sync_state & PFSYNC_OBSD_PARKED_MASK) == PFSYNC_OBSD_PARKED)
#define	PFSYNC_OBSD_EV_INSERTED	0x01
#define	PFSYNC_OBSD_EV_UPDATED	0x02
#define	PFSYNC_OBSD_EV_DELETED	0x04
#define	PFSYNC_OBSD_EV_DEFER	0x08
#define	PFSYNC_OBSD_EV_MASK	0x0f

/* Deferred packets held at once (stock OpenBSD: 128). */
#define	PFSYNC_OBSD_DEFER_SLOTS	128

/* Clear requests parked at once; more collapse into "all of ours". */
#define	PFSYNC_OBSD_CLEARS	4

/* Frames the engine may queue for transmission per engine call. */
#define	PFSYNC_OBSD_TXQ_LEN	256

/* Largest pfsync payload the input path copies for the core. */
#define	PFSYNC_OBSD_MAX_FRAME	65535

/* A packet held for "defer" until the peer acknowledges its state. */
struct pfsync_obsd_deferral {
	struct mbuf		*d_m;
	struct pf_state		*d_st;		/* referenced while held */
	uint64_t		 d_token;	/* 0 = free slot */
};

struct pfsync_obsd_softc {
	struct ifnet		 sc_if;
	struct pfsync_rs_engine	*sc_engine;
	struct pfsync_rs_host_ops sc_ops;

	/* Configuration as ifconfig set it (SIOCSETPFSYNC). */
	unsigned int		 sc_sync_ifidx;		/* 0 = none */
	struct in_addr		 sc_sync_peer;
	int			 sc_maxupdates;
	int			 sc_defer;
	struct in_multi		*sc_mship;	/* a multicast peer's group */
	struct task		 sc_dtask;	/* the syncdev is detaching */

	struct rwlock		 sc_engine_lock;

	/* Hooks -> engine. */
	struct mutex		 sc_park_mtx;
	TAILQ_HEAD(, pf_state)	 sc_parked;
	struct task		 sc_park_task;
	/* pfsync_clear_states() requests not yet given to the engine. */
	struct {
		uint8_t		 creatorid_be[4];
		char		 ifname[PFSYNC_RS_IFNAMSIZ];
	}			 sc_clears[PFSYNC_OBSD_CLEARS];
	unsigned int		 sc_nclears;

	/*
	 * Engine -> network: filled under the engine lock, sent by
	 * sc_tx_task under NET_LOCK, as stock sends from its tasks (ioctl
	 * callers may or may not hold NET_LOCK, so nothing is sent from
	 * their context).
	 */
	struct task		 sc_tx_task;
	struct mutex		 sc_txq_mtx;
	struct mbuf_list	 sc_txq;
	/* Deferred packets released to go on their way. */
	struct mbuf_list	 sc_relq;

	struct pfsync_obsd_deferral sc_deferrals[PFSYNC_OBSD_DEFER_SLOTS];
	uint64_t		 sc_defer_next;

	struct timeout		 sc_tmo;
	uint8_t			*sc_rxbuf;		/* PFSYNC_OBSD_MAX_FRAME */
	int			 sc_demoted;
	int			 sc_dying;	/* [engine lock] */
	struct refcnt		 sc_refs;	/* sysctl readers */
};

/*
 * The one pfsync0, or NULL; written under NET_LOCK (exclusive).  pf's hooks
 * read it in an SMR read section, the input path under NET_LOCK (shared),
 * sysctl with a reference; destruction waits for all three.
 */
extern struct pfsync_obsd_softc *pfsync_obsd_sc;

/* pfsync_obsd_attach.c */
void	pfsyncattach(int);
uint64_t pfsync_obsd_now_ns(void);

/* pfsync_obsd_engine.c: the engine lock and everything done after it. */
void	pfsync_obsd_engine_enter(struct pfsync_obsd_softc *);
void	pfsync_obsd_engine_leave(struct pfsync_obsd_softc *);
void	pfsync_obsd_timer_arm(struct pfsync_obsd_softc *);
void	pfsync_obsd_timeout(void *);
void	pfsync_obsd_config_push(struct pfsync_obsd_softc *);

/* pfsync_obsd_hooks.c */
void	pfsync_obsd_park_task(void *);
void	pfsync_obsd_drop_parked(struct pfsync_obsd_softc *);
void	pfsync_obsd_slot_load(const struct pf_state *,
	    uint8_t slot[PFSYNC_RS_SLOT_LEN]);
void	pfsync_obsd_slot_store(struct pf_state *,
	    const uint8_t slot[PFSYNC_RS_SLOT_LEN]);
void	pfsync_obsd_deferral_release(struct pfsync_obsd_softc *, uint64_t,
	    int);
void	pfsync_obsd_state_info(const struct pf_state *,
	    struct pfsync_rs_state_info *);

/* pfsync_obsd_host.c */
void	pfsync_obsd_host_ops(struct pfsync_rs_host_ops *);

/* pfsync_obsd_net.c */
void	pfsync_obsd_tx_task(void *);
int	pfsync_obsd_frame_queue(struct pfsync_obsd_softc *, const uint8_t *,
	    size_t);

#endif /* PFSYNC_OBSD_H */
