/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Configuration as ifconfig(8) speaks it: the nvlist of SIOC[GS]ETPFSYNCNV
 * and the legacy struct pfsyncreq of SIOC[GS]ETPFSYNC.
 *
 * Unlike stock, a SET nvlist is checked before anything is applied: every
 * present key must have stock's type, "maxupdates" and "flags" must be
 * present, "syncpeer" must hold a well-formed address.  The one exception
 * keeps stock ifconfig working: `ifconfig pfsync0 -syncpeer` sends family
 * AF_UNSPEC with an all-zero address, which means "no explicit peer".
 */

#include "opt_inet.h"
#include "opt_inet6.h"

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lock.h>
#include <sys/malloc.h>
#include <sys/mbuf.h>
#include <sys/mutex.h>
#include <sys/nv.h>
#include <sys/socket.h>
#include <sys/sx.h>
#include <sys/taskqueue.h>

#include <net/if.h>
#include <net/if_var.h>
#include <net/if_private.h>
#include <net/vnet.h>
#include <net/pfvar.h>
#include <net/if_pfsync.h>

#include <netinet/in.h>
#include <netinet/in_var.h>
#include <netinet/ip_var.h>
#include <netinet6/in6_var.h>
#include <netinet6/ip6_var.h>
#include <netinet6/scope6_var.h>

#include "pfsync_rs.h"

static const char *const pfsync_rs_nv_keys[] = {
	"syncdev", "syncpeer", "maxupdates", "flags", "version",
};

static int
pfsync_rs_nv_number(const nvlist_t *nvl, const char *key, int required,
    uint32_t *out)
{
	uint64_t v;

	if (!nvlist_exists(nvl, key))
		return (required ? EINVAL : 0);
	if (!nvlist_exists_number(nvl, key))
		return (EINVAL);
	v = nvlist_get_number(nvl, key);
	if (v > UINT32_MAX)
		return (EINVAL);
	*out = (uint32_t)v;
	return (0);
}

static int
pfsync_rs_nv_syncpeer(const nvlist_t *peer, struct pfsync_rs_config *cfg)
{
	const void *addr;
	size_t len;
	uint64_t af;

	if (!nvlist_exists_number(peer, "af") ||
	    !nvlist_exists_binary(peer, "address"))
		return (EINVAL);
	af = nvlist_get_number(peer, "af");
	addr = nvlist_get_binary(peer, "address", &len);

	switch (af) {
	case AF_UNSPEC:
		if (len > sizeof(struct sockaddr_storage))
			return (EINVAL);
		cfg->syncpeer_af = PFSYNC_RS_AF_UNSPEC;
		return (0);
#ifdef INET
	case AF_INET: {
		struct sockaddr_in sin;

		if (len != sizeof(sin))
			return (EINVAL);
		memcpy(&sin, addr, sizeof(sin));
		if (sin.sin_family != AF_INET)
			return (EINVAL);
		cfg->syncpeer_af = PFSYNC_RS_AF_INET;
		memcpy(cfg->syncpeer, &sin.sin_addr, sizeof(sin.sin_addr));
		return (0);
	}
#endif
#ifdef INET6
	case AF_INET6: {
		struct sockaddr_in6 sin6;
		int error;

		if (len != sizeof(sin6))
			return (EINVAL);
		memcpy(&sin6, addr, sizeof(sin6));
		if (sin6.sin6_family != AF_INET6)
			return (EINVAL);
		sin6.sin6_len = sizeof(sin6);
		error = sa6_embedscope(&sin6, V_ip6_use_defzone);
		if (error != 0)
			return (error);
		cfg->syncpeer_af = PFSYNC_RS_AF_INET6;
		memcpy(cfg->syncpeer, &sin6.sin6_addr, sizeof(sin6.sin6_addr));
		return (0);
	}
#endif
	default:
		return (EINVAL);
	}
}

int
pfsync_rs_nv_to_config(const nvlist_t *nvl, struct pfsync_rs_config *cfg)
{
	const char *name, *dev;
	void *cookie = NULL;
	size_t i;
	int type, error, known;

	/* Unknown keys are refused rather than silently ignored. */
	while ((name = nvlist_next(nvl, &type, &cookie)) != NULL) {
		known = 0;
		for (i = 0; i < nitems(pfsync_rs_nv_keys); i++)
			if (strcmp(name, pfsync_rs_nv_keys[i]) == 0)
				known = 1;
		if (!known)
			return (EINVAL);
	}

	memset(cfg, 0, sizeof(*cfg));
	if (nvlist_exists(nvl, "syncdev")) {
		if (!nvlist_exists_string(nvl, "syncdev"))
			return (EINVAL);
		dev = nvlist_get_string(nvl, "syncdev");
		if (strlen(dev) >= sizeof(cfg->syncdev))
			return (EINVAL);
		strlcpy(cfg->syncdev, dev, sizeof(cfg->syncdev));
	}
	if (nvlist_exists(nvl, "syncpeer")) {
		if (!nvlist_exists_nvlist(nvl, "syncpeer"))
			return (EINVAL);
		error = pfsync_rs_nv_syncpeer(nvlist_get_nvlist(nvl, "syncpeer"),
		    cfg);
		if (error != 0)
			return (error);
	}
	if ((error = pfsync_rs_nv_number(nvl, "maxupdates", 1,
	    &cfg->maxupdates)) != 0 ||
	    (error = pfsync_rs_nv_number(nvl, "flags", 1, &cfg->flags)) != 0 ||
	    (error = pfsync_rs_nv_number(nvl, "version", 0,
	    &cfg->version)) != 0)
		return (error);
	return (0);
}

static nvlist_t *
pfsync_rs_peer_to_nv(const struct sockaddr_storage *peer)
{
	nvlist_t *nvl;

	switch (peer->ss_family) {
#ifdef INET
	case AF_INET:
		break;
#endif
#ifdef INET6
	case AF_INET6:
		break;
#endif
	default:
		return (NULL);
	}
	nvl = nvlist_create(0);
	if (nvl == NULL)
		return (NULL);
	nvlist_add_number(nvl, "af", peer->ss_family);
	switch (peer->ss_family) {
#ifdef INET
	case AF_INET:
		nvlist_add_binary(nvl, "address", peer,
		    sizeof(struct sockaddr_in));
		break;
#endif
#ifdef INET6
	case AF_INET6: {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, peer, sizeof(sin6));
		(void)sa6_recoverscope(&sin6);
		nvlist_add_binary(nvl, "address", &sin6, sizeof(sin6));
		break;
	}
#endif
	}
	return (nvl);
}

nvlist_t *
pfsync_rs_config_to_nv(const char *syncdev,
    const struct sockaddr_storage *peer, uint32_t maxupdates, uint32_t flags,
    uint32_t version)
{
	nvlist_t *nvl, *nvl_peer;

	nvl = nvlist_create(0);
	if (nvl == NULL)
		return (NULL);
	if (syncdev != NULL && syncdev[0] != '\0')
		nvlist_add_string(nvl, "syncdev", syncdev);
	nvlist_add_number(nvl, "maxupdates", maxupdates);
	nvlist_add_number(nvl, "flags", flags);
	nvlist_add_number(nvl, "version", version);
	nvl_peer = pfsync_rs_peer_to_nv(peer);
	if (nvl_peer != NULL)
		nvlist_move_nvlist(nvl, "syncpeer", nvl_peer);
	if (nvlist_error(nvl) != 0) {
		nvlist_destroy(nvl);
		return (NULL);
	}
	return (nvl);
}

/*
 * Legacy SIOCSETPFSYNC: IPv4 peers only, and (as stock) the message version
 * goes back to the release default.
 */
void
pfsync_rs_req_to_config(const struct pfsyncreq *req,
    struct pfsync_rs_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strlcpy(cfg->syncdev, req->pfsyncr_syncdev, sizeof(cfg->syncdev));
	if (req->pfsyncr_syncpeer.s_addr != INADDR_ANY) {
		cfg->syncpeer_af = PFSYNC_RS_AF_INET;
		memcpy(cfg->syncpeer, &req->pfsyncr_syncpeer,
		    sizeof(req->pfsyncr_syncpeer));
	}
	cfg->maxupdates = req->pfsyncr_maxupdates < 0 ? UINT32_MAX :
	    (uint32_t)req->pfsyncr_maxupdates;
	cfg->flags = (uint32_t)req->pfsyncr_defer;
	cfg->version = 0;
}

void
pfsync_rs_config_to_req(const char *syncdev,
    const struct sockaddr_storage *peer, uint32_t maxupdates, uint32_t flags,
    struct pfsyncreq *req)
{
	memset(req, 0, sizeof(*req));
	if (syncdev != NULL)
		strlcpy(req->pfsyncr_syncdev, syncdev,
		    sizeof(req->pfsyncr_syncdev));
	if (peer->ss_family == AF_INET)
		req->pfsyncr_syncpeer =
		    ((const struct sockaddr_in *)peer)->sin_addr;
	req->pfsyncr_maxupdates = maxupdates;
	req->pfsyncr_defer = flags;
}
