/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kernel.h - what the running kernel's NVMe-oF host supports (§3.7): kernel release comparison
 * with nvme-stas's loose rules, and the /dev/nvme-fabrics option probe. The probe trusts uname
 * first (host_iface >= 5.14, discovery >= 5.16, dhchap_secret/dhchap_ctrl_secret >= 6.0) and reads
 * the first line of the fabrics device only when something is still unsupported. It warns when
 * the file cannot be used; otherwise nothing here logs above debug level.
 */
#pragma once

#include <stdbool.h>

#define STAS_NVMF_DEV "/dev/nvme-fabrics"

typedef struct StasKernelOptions {
        bool host_iface;
        bool discovery;
        bool dhchap_secret;
        bool dhchap_ctrl_secret;
        /* option names read from the fabrics device (part before '='), NULL if it was not read */
        char **options;
} StasKernelOptions;

/*
 * kernel_version_compare() - compare two release strings the way nvme-stas's KernelVersion
 * (LooseVersion) does: only the runs of decimal digits count, compared as numbers left to right;
 * a longer list with an equal prefix is greater. "5.8.0-63-generic" equals "5.8.0-63" and is
 * greater than "5.8.0". NULL counts as "".
 * Return: <0, 0 or >0.
 */
int kernel_version_compare(const char *a, const char *b);

/*
 * kernel_options_probe() - fill @ret for kernel @release (NULL: uname's) using @fabrics_path
 * (NULL: kernel_fabrics_path()) when uname does not settle everything. A missing, unreadable,
 * empty or garbage file gives the warning "Cannot determine which NVMe options the kernel
 * supports" and the uname result. Release @ret with kernel_options_done().
 * Return: 0, or -EACCES/-EPERM when the file may not be opened (the daemons need root).
 */
int kernel_options_probe(const char *release, const char *fabrics_path, StasKernelOptions *ret);

/* kernel_options_probe_default() - kernel_options_probe(NULL, NULL, @ret). */
int kernel_options_probe_default(StasKernelOptions *ret);

/* kernel_options_done() - free the contents of @o (not @o itself) and zero it. */
void kernel_options_done(StasKernelOptions *o);

/* kernel_fabrics_path() - $STAS_NVMF_DEV if set and non-empty, else "/dev/nvme-fabrics". */
const char *kernel_fabrics_path(void);

/* kernel_fabrics_present() - @path (NULL: kernel_fabrics_path()) exists (start-up check). */
bool kernel_fabrics_present(const char *path);
