/* SPDX-License-Identifier: ISC */
/*
 * pfsync(4) for OpenBSD, part 6: what the core links against by name
 * (bindings/pfsync_core.h, "Implemented by the shim"): malloc(9) and log(9).
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/malloc.h>
#include <sys/syslog.h>

#include "pfsync_core.h"

/*
 * malloc(9) hands out power-of-two buckets up to a page, each aligned to
 * its size, so asking for at least `align` bytes gives that alignment.
 */
void *
pfsync_rs_kmalloc(size_t size, size_t align)
{
	if (align > PAGE_SIZE)
		return (NULL);
	return (malloc(MAX(size, align), M_DEVBUF, M_NOWAIT));
}

/* The core does not keep sizes: free(9) accepts 0 for "unknown". */
void
pfsync_rs_kfree(void *ptr)
{
	if (ptr != NULL)
		free(ptr, M_DEVBUF, 0);
}

void
pfsync_rs_klog(int level, const uint8_t *msg, size_t len)
{
	log(level, "pfsync: %.*s\n", (int)MIN(len, 512), (const char *)msg);
}
