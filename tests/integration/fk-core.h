/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Fake NVMe kernel, shared core (test-only code).
 *
 * Contract: everything lives under the directory named by $FAKEKERNEL_ROOT; nothing outside it is
 * ever created or removed. When $FAKEKERNEL_ROOT is unset every function here reports "inactive"
 * (fk_root() returns NULL) and the LD_PRELOAD interposers pass every call through unchanged.
 *
 * Layout under the root:
 *   sys/class/nvme/nvmeN/...             controller attributes, as a 6.1 kernel shows them
 *   sys/class/nvme-subsystem/nvme-subsysK/{subsysnqn,subsystype,...,nvmeN -> ../../nvme/nvmeN}
 *   connect.log                          every option string written to /dev/nvme-fabrics
 *   connect-done.log                     every connect write that returned a controller, when it
 *                                        returned: "nvmeN nqn=..,transport=..,traddr=..,trsvcid=.."
 *   admin.log                            every admin command: "nvmeN opc=0x.. cdw10=0x.. off=.. len=.."
 *   dim.log                              every DIM command: "nvmeN tas=register eid=.. ename=.. ..."
 *   lock                                 flock()ed while the tree is changed (several processes)
 * The scenario (JSON, $FAKEKERNEL_SCENARIO) is re-read on every use, so a test can replace it at
 * run time. Its format is described in doc/testing.md.
 * uevents are sent as one datagram of NUL-separated KEY=VALUE pairs to the unix socket named by
 * $STAS_UEVENT_SOCKET, when set and bound.
 */

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct nvme_passthru_cmd;

/* Root directory of the fake tree, or NULL when the fake kernel is inactive. */
const char *fk_root(void);

/* If path names a redirected kernel path (/sys/class/nvme*, /sys/devices/virtual/nvme*), write the
 * path under the root into buf and return buf; otherwise return path unchanged. With
 * $FAKEKERNEL_SYSFS_LOG set (an absolute file name), every redirected path is also appended to
 * that file, one line each: a test can count what a process reads from sysfs. */
const char *fk_redirect(const char *path, char *buf, size_t n);

/* "/dev/nvmeN" -> N, else -1. */
int fk_dev_instance(const char *path);

/* A path (already redirected) of the form <root>/sys/class/nvme/nvmeN/delete_controller -> N, else -1. */
int fk_delete_path_instance(const char *path);

/* True when sys/class/nvme/nvmeN exists under the root. */
bool fk_ctrl_exists(int instance);

/* The line a read of /dev/nvme-fabrics without a prior write returns (scenario "options" or 6.1). */
int fk_options_line(char *buf, size_t n);

/* Handle a write of a connect option string. On success fills reply with "instance=N,cntlid=M\n"
 * and returns N; on failure returns -errno (scripted, or EINVAL/EALREADY like the kernel). */
int fk_connect(const char *opts, size_t len, char *reply, size_t n);

/* Remove controller nvmeN (and its subsystem if now empty); sends a remove uevent. -ENODEV if absent. */
int fk_delete(int instance);

/* Send a uevent for nvmeN: ACTION, SUBSYSTEM, DEVPATH, SYSNAME, DEVNAME, the NVME_* keys of its
 * uevent file (if it still exists), then extra[] ("KEY=VALUE", NULL-terminated, may be NULL). */
int fk_uevent(const char *action, int instance, char *const *extra);

/* From now on (in this process), send no uevent at all: the kernel changes sysfs and the events
 * are lost, as when the listener's socket overflows. */
void fk_drop_uevents(bool drop);

/* Tell the $STAS_UEVENT_SOCKET listener that events were lost: the datagram "ENOBUFS", which the
 * daemons handle as an overflow (ENOBUFS) of their udev monitor socket. */
int fk_uevent_overflow(void);

/* Answer an admin passthru command on /dev/nvmeN: returns the ioctl result (0, positive NVMe
 * status, or -errno). */
int fk_admin(int instance, struct nvme_passthru_cmd *cmd);

/* Set the state attribute of nvmeN. */
int fk_set_state(int instance, const char *state);
