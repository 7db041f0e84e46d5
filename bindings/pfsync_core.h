/*
 * C view of the functions the Rust core exports to the kernel shim
 * (src/ffi/). Every symbol is prefixed pfsync_rs_.
 */
#ifndef PFSYNC_CORE_H
#define PFSYNC_CORE_H

/* Once, before any other core call. Returns 0 or an errno value. */
int pfsync_rs_core_init(void);

/* The core's version, a static NUL-terminated string. */
const char *pfsync_rs_core_version(void);

#endif /* PFSYNC_CORE_H */
