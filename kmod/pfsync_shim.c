/*
 * Kernel side of pfsync-rs: module registration. The protocol work is done by
 * the Rust core (src/), reached through bindings/pfsync_core.h.
 *
 * The module takes the stock module's name, so the two cannot be loaded at the
 * same time; it depends on pf.ko exactly as the stock pfsync.ko does.
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/module.h>
#include <sys/mbuf.h>
#include <sys/socket.h>

#include <net/if.h>
#include <net/if_var.h>
#include <net/vnet.h>
#include <net/pfvar.h>

#include "pfsync_core.h"

static int
pfsync_modevent(module_t mod __unused, int type, void *data __unused)
{
	int error;

	switch (type) {
	case MOD_LOAD:
		error = pfsync_rs_core_init();
		if (error != 0)
			return (error);
		printf("pfsync-rs: core %s loaded\n", pfsync_rs_core_version());
		return (0);
	case MOD_UNLOAD:
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t pfsync_mod = {
	"pfsync",
	pfsync_modevent,
	NULL
};

DECLARE_MODULE(pfsync, pfsync_mod, SI_SUB_PROTO_FIREWALL, SI_ORDER_ANY);
MODULE_VERSION(pfsync, 1);
MODULE_DEPEND(pfsync, pf, PF_MODVER, PF_MODVER, PF_MODVER);
