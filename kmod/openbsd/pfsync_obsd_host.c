/* SPDX-License-Identifier: ISC */
/*
 * pfsync(4) for OpenBSD, part 4: the host operations the core calls
 * (struct pfsync_rs_host_ops), over OpenBSD's pf.  Each runs with the engine
 * lock held and no pf lock, and takes the pf locks it needs in the order
 * pf_lock > pf_state_lock > state mtx.  A state found by id is referenced
 * (pf_state_ref) before pf_state_lock is dropped.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/mbuf.h>
#include <sys/socket.h>
#include <sys/mutex.h>
#include <sys/rwlock.h>
#include <sys/time.h>

#include <net/if.h>
#include <net/if_var.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_var.h>
#include <netinet/ip_carp.h>

#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <netinet/ip_icmp.h>
#include <netinet/icmp6.h>
#include <netinet/ip_ipsp.h>
#include <net/pfvar.h>
#include <net/pfvar_priv.h>
#include <net/if_pfsync.h>

#include "pfsync_obsd.h"
#include "pfsync_obsd_import.h"

static struct pf_state *
pfsync_obsd_find(const struct pfsync_rs_state_id *sid)
{
	struct pf_state_cmp key;
	struct pf_state *st;

	memset(&key, 0, sizeof(key));
	memcpy(&key.id, sid->id_be, sizeof(key.id));
	memcpy(&key.creatorid, sid->creatorid_be, sizeof(key.creatorid));
	PF_STATE_ENTER_READ();
	st = pf_find_state_byid(&key);
	if (st != NULL && st->timeout >= PFTM_MAX)
		st = NULL;	/* being unlinked */
	if (st != NULL)
		pf_state_ref(st);
	PF_STATE_EXIT_READ();
	return (st);
}

/* pf_state_lock held (read) and a reference on st. */
static void
pfsync_obsd_snapshot(struct pf_state *st, struct pfsync_rs_state_snapshot *out)
{
	struct pfsync_rs_state_info info;

	pfsync_obsd_state_info(st, &info);
	memset(out, 0, sizeof(*out));
	out->sid = info.sid;
	out->wire_proto = info.wire_proto;
	mtx_enter(&st->mtx);
	out->state_flags = st->state_flags;
	out->timeout = st->timeout;
	pf_state_peer_hton(&st->src, (struct pfsync_state_peer *)out->src);
	pf_state_peer_hton(&st->dst, (struct pfsync_state_peer *)out->dst);
	mtx_leave(&st->mtx);
	pfsync_obsd_slot_load(st, out->slot);
}

static int
host_state_lookup(void *ctx, const struct pfsync_rs_state_id *sid,
    struct pfsync_rs_state_snapshot *out)
{
	struct pf_state *st = pfsync_obsd_find(sid);

	if (st == NULL)
		return (ENOENT);
	PF_STATE_ENTER_READ();
	pfsync_obsd_snapshot(st, out);
	PF_STATE_EXIT_READ();
	pf_state_unref(st);
	return (0);
}

static int
host_state_import(void *ctx, const struct pfsync_rs_import *rec,
    uint32_t flags, const uint8_t slot[PFSYNC_RS_SLOT_LEN])
{
	struct pfsync_state sp;
	struct pf_state *st;
	int error;

	pfsync_obsd_import_record(rec, &sp);
	/* PFSYNC_SI_PFSYNC: from the network; see pfsync_init_state(). */
	if (!ISSET(flags, PFSYNC_SI_IOCTL))
		flags |= PFSYNC_SI_PFSYNC;
	PF_LOCK();
	error = pf_state_import(&sp, (int)flags);
	PF_UNLOCK();
	if (error != 0)
		return (error);
	st = pfsync_obsd_find(&rec->sid);
	if (st == NULL)
		return (0);	/* skipped by pf (unknown interface), as stock */
	pfsync_obsd_slot_store(st, slot);
	pf_state_unref(st);
	return (0);
}

static int
host_state_merge(void *ctx, const struct pfsync_rs_state_id *sid,
    const uint8_t src[PFSYNC_RS_PEER_LEN],
    const uint8_t dst[PFSYNC_RS_PEER_LEN], uint8_t timeout, uint32_t touched,
    struct pfsync_rs_merge_out *out)
{
	const struct pfsync_state_peer *in_src = (const void *)src;
	const struct pfsync_state_peer *in_dst = (const void *)dst;
	struct pfsync_state_peer ours_src, ours_dst;
	struct pf_state_scrub *sscrub = NULL, *dscrub = NULL;
	struct pf_state *st;
	uint8_t tmo, proto = 0;
	int stale, refresh = 0;

	st = pfsync_obsd_find(sid);
	if (st == NULL)
		return (ENOENT);
	/*
	 * Scrub memory the update needs is taken before the state's mutex
	 * and attached under it, as stock does; what is not used goes back.
	 */
	if ((in_src->scrub.scrub_flag && st->src.scrub == NULL &&
	    (sscrub = pf_state_scrub_get()) == NULL) ||
	    (in_dst->scrub.scrub_flag && st->dst.scrub == NULL &&
	    (dscrub = pf_state_scrub_get()) == NULL)) {
		if (sscrub != NULL)
			pf_state_scrub_put(sscrub);
		pf_state_unref(st);
		return (ENOMEM);
	}
	PF_STATE_ENTER_READ();
	if (st->key[PF_SK_WIRE] != NULL)
		proto = st->key[PF_SK_WIRE]->proto;
	PF_STATE_EXIT_READ();

	mtx_enter(&st->mtx);
	if (sscrub != NULL && st->src.scrub == NULL) {
		st->src.scrub = sscrub;
		sscrub = NULL;
	}
	if (dscrub != NULL && st->dst.scrub == NULL) {
		st->dst.scrub = dscrub;
		dscrub = NULL;
	}
	pf_state_peer_hton(&st->src, &ours_src);
	pf_state_peer_hton(&st->dst, &ours_dst);
	tmo = st->timeout;
	stale = pfsync_rs_merge_peers(proto, (uint8_t *)&ours_src,
	    (uint8_t *)&ours_dst, &tmo, src, dst, timeout, &refresh);
	if (stale >= 0) {
		pf_state_peer_ntoh(&ours_src, &st->src);
		pf_state_peer_ntoh(&ours_dst, &st->dst);
		st->timeout = tmo;
		if (refresh)
			st->expire = getuptime();
	}
	memset(out, 0, sizeof(*out));
	out->stale_sides = stale > 0 ? (uint8_t)stale : 0;
	out->wire_proto = proto;
	out->state_flags = st->state_flags;
	mtx_leave(&st->mtx);

	if (sscrub != NULL)
		pf_state_scrub_put(sscrub);
	if (dscrub != NULL)
		pf_state_scrub_put(dscrub);
	pfsync_obsd_slot_load(st, out->slot);
	pfsync_rs_slot_set_touched(out->slot, touched);
	pfsync_obsd_slot_store(st, out->slot);
	pf_state_unref(st);
	return (0);
}

static int
host_state_store_slot(void *ctx, const struct pfsync_rs_state_id *sid,
    const uint8_t slot[PFSYNC_RS_SLOT_LEN])
{
	struct pf_state *st = pfsync_obsd_find(sid);

	if (st == NULL)
		return (ENOENT);
	pfsync_obsd_slot_store(st, slot);
	pf_state_unref(st);
	return (0);
}

/* pf_lock and pf_state_lock (write) held. */
static void
pfsync_obsd_unlink(struct pf_state *st)
{
	mtx_enter(&st->mtx);
	SET(st->state_flags, PFSTATE_NOSYNC);
	mtx_leave(&st->mtx);
	pf_remove_state(st);
}

static int
host_state_delete(void *ctx, const struct pfsync_rs_state_id *sid)
{
	struct pf_state *st = pfsync_obsd_find(sid);

	if (st == NULL)
		return (ENOENT);
	PF_LOCK();
	PF_STATE_ENTER_WRITE();
	if (st->timeout < PFTM_MAX)
		pfsync_obsd_unlink(st);
	PF_STATE_EXIT_WRITE();
	PF_UNLOCK();
	pf_state_unref(st);
	return (0);
}

static uint64_t
host_states_clear(void *ctx, const uint8_t creatorid_be[4],
    const char ifname[PFSYNC_RS_IFNAMSIZ])
{
	struct pf_state *st, *next;
	uint64_t n = 0;

	PF_LOCK();
	PF_STATE_ENTER_WRITE();
	for (st = RBT_MIN(pf_state_tree_id, &tree_id); st != NULL; st = next) {
		next = RBT_NEXT(pf_state_tree_id, st);
		if (memcmp(&st->creatorid, creatorid_be, 4) != 0)
			continue;
		if (ifname[0] != '\0' &&
		    strncmp(st->kif->pfik_name, ifname, PFSYNC_RS_IFNAMSIZ) != 0)
			continue;
		pfsync_obsd_unlink(st);
		n++;
	}
	PF_STATE_EXIT_WRITE();
	PF_UNLOCK();
	return (n);
}

/*
 * Bulk walk in id order over pf's id tree: the cursor keeps the last
 * state returned, so states inserted or removed between calls cannot make
 * the walk skip or repeat one that stays.
 */
static int
host_state_next(void *ctx, struct pfsync_rs_cursor *cur,
    struct pfsync_rs_state_snapshot *out)
{
	struct pf_state_cmp key;
	struct pf_state *st;

	PF_STATE_ENTER_READ();
	if (cur->position == 0)
		st = RBT_MIN(pf_state_tree_id, &tree_id);
	else {
		memset(&key, 0, sizeof(key));
		memcpy(&key.id, cur->last.id_be, sizeof(key.id));
		memcpy(&key.creatorid, cur->last.creatorid_be,
		    sizeof(key.creatorid));
		st = RBT_NFIND(pf_state_tree_id, &tree_id,
		    (struct pf_state *)&key);
		if (st != NULL && st->id == key.id &&
		    st->creatorid == key.creatorid)
			st = RBT_NEXT(pf_state_tree_id, st);
	}
	while (st != NULL && (ISSET(st->state_flags, PFSTATE_NOSYNC) ||
	    st->timeout >= PFTM_MAX))
		st = RBT_NEXT(pf_state_tree_id, st);
	if (st == NULL) {
		PF_STATE_EXIT_READ();
		return (ENOENT);
	}
	pfsync_obsd_snapshot(st, out);
	PF_STATE_EXIT_READ();
	cur->last = out->sid;
	cur->position++;
	return (0);
}

static int
host_state_export(void *ctx, const struct pfsync_rs_state_id *sid,
    uint32_t msg_version, uint8_t *out, size_t out_len)
{
	struct pfsync_state sp;
	struct pf_state *st;

	/* pf here writes OpenBSD's record only. */
	if (msg_version != PFSYNC_RS_MSG_OPENBSD)
		return (EINVAL);
	if (out_len < sizeof(sp))
		return (ENOSPC);
	st = pfsync_obsd_find(sid);
	if (st == NULL)
		return (ENOENT);
	PF_STATE_ENTER_READ();
	pf_state_export(&sp, st);
	PF_STATE_EXIT_READ();
	pf_state_unref(st);
	memcpy(out, &sp, sizeof(sp));
	return (0);
}

static int
host_send(void *ctx, const uint8_t *frame, size_t len)
{
	return (pfsync_obsd_frame_queue(ctx, frame, len));
}

static void
host_carp_demote(void *ctx, int32_t adj, const char *reason)
{
	struct pfsync_obsd_softc *sc = ctx;
	char why[32];

	strlcpy(why, reason, sizeof(why));
	carp_group_demote_adj(&sc->sc_if, adj, why);
	sc->sc_demoted += adj;
}

static void
host_deferred_release(void *ctx, uint64_t token, int transmit)
{
	pfsync_obsd_deferral_release(ctx, token, transmit);
}

static void
host_pf_status(void *ctx, uint8_t hostid_be[4],
    uint8_t pf_cksum[PFSYNC_RS_PF_CKSUM_LEN])
{
	PF_LOCK();
	memcpy(hostid_be, &pf_status.hostid, 4);
	memcpy(pf_cksum, pf_status.pf_chksum, PFSYNC_RS_PF_CKSUM_LEN);
	PF_UNLOCK();
}

void
pfsync_obsd_host_ops(struct pfsync_rs_host_ops *ops)
{
	memset(ops, 0, sizeof(*ops));
	ops->state_lookup = host_state_lookup;
	ops->state_import = host_state_import;
	ops->state_merge = host_state_merge;
	ops->state_store_slot = host_state_store_slot;
	ops->state_delete = host_state_delete;
	ops->states_clear = host_states_clear;
	ops->state_next = host_state_next;
	ops->state_export = host_state_export;
	ops->send = host_send;
	ops->carp_demote = host_carp_demote;
	ops->deferred_release = host_deferred_release;
	ops->pf_status = host_pf_status;
}
