/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kernel.c - kernel release comparison and the /dev/nvme-fabrics option probe. See kernel.h.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "stas/kernel.h"
#include "stas/log.h"
#include "stas/strv.h"

#define VERSION_MAX_COMPONENTS 16
#define FABRICS_LINE_MAX 4096

#define MIN_HOST_IFACE "5.14"
#define MIN_DISCOVERY "5.16"
#define MIN_DHCHAP "6.0"

#define WARN_UNKNOWN "Cannot determine which NVMe options the kernel supports"

/* Every option name the kernel's fabrics parser has accepted so far; used to spot garbage. */
static const char *const known_options[] = {
        "instance",
        "cntlid",
        "transport",
        "traddr",
        "trsvcid",
        "nqn",
        "queue_size",
        "nr_io_queues",
        "reconnect_delay",
        "ctrl_loss_tmo",
        "keep_alive_tmo",
        "hostnqn",
        "host_traddr",
        "host_iface",
        "hostid",
        "duplicate_connect",
        "disable_sqflow",
        "hdr_digest",
        "data_digest",
        "nr_write_queues",
        "nr_poll_queues",
        "tos",
        "fast_io_fail_tmo",
        "discovery",
        "dhchap_secret",
        "dhchap_ctrl_secret",
        "keyring",
        "tls_key",
        "tls",
        "concat",
};

static size_t version_parse(const char *s, uint64_t v[VERSION_MAX_COMPONENTS]) {
        size_t n = 0;

        for (s = strempty(s); *s && n < VERSION_MAX_COMPONENTS;) {
                uint64_t x = 0;

                if (!isdigit((unsigned char) *s)) {
                        s++;
                        continue;
                }
                for (; isdigit((unsigned char) *s); s++) {
                        unsigned d = (unsigned) (*s - '0');

                        x = x > (UINT64_MAX - d) / 10 ? UINT64_MAX : x * 10 + d; /* saturate */
                }
                v[n++] = x;
        }
        return n;
}

/**
 * kernel_version_compare() - LooseVersion-style comparison of two release strings.
 *
 * Return: <0 if @a < @b, 0 if equal, >0 if @a > @b.
 */
int kernel_version_compare(const char *a, const char *b) {
        uint64_t va[VERSION_MAX_COMPONENTS], vb[VERSION_MAX_COMPONENTS];
        size_t na = version_parse(a, va), nb = version_parse(b, vb);

        for (size_t i = 0; i < na && i < nb; i++)
                if (va[i] != vb[i])
                        return va[i] < vb[i] ? -1 : 1;
        return na < nb ? -1 : na > nb ? 1 : 0;
}

/**
 * kernel_fabrics_path() - the fabrics device to use: $STAS_NVMF_DEV or /dev/nvme-fabrics.
 */
const char *kernel_fabrics_path(void) {
        const char *e = getenv("STAS_NVMF_DEV");

        return isempty(e) ? STAS_NVMF_DEV : e;
}

/**
 * kernel_fabrics_present() - does the fabrics device exist?
 * @path: the device, NULL for kernel_fabrics_path()
 */
bool kernel_fabrics_present(const char *path) {
        return access(path ?: kernel_fabrics_path(), F_OK) == 0;
}

/**
 * kernel_options_done() - release what kernel_options_probe() stored in @o.
 */
void kernel_options_done(StasKernelOptions *o) {
        if (!o)
                return;
        strv_free(o->options);
        *o = (StasKernelOptions){};
}

/* Read the first line. Return: 0 with *ret (maybe ""), or -errno. */
static int read_first_line(int fd, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t n = 0;

        buf = malloc(FABRICS_LINE_MAX + 1);
        if (!buf)
                return -ENOMEM;
        while (n < FABRICS_LINE_MAX) {
                ssize_t k = read(fd, buf + n, FABRICS_LINE_MAX - n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
                if (memchr(buf, '\n', n))
                        break;
        }
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}

/* Split "name=%s,flag,..." into option names. Return: 0 or -ENOMEM. */
static int parse_options(const char *line, char ***ret) {
        _cleanup_strv_free_ char **parts = NULL, **names = NULL;

        parts = strv_split(line, ",");
        if (!parts)
                return -ENOMEM;
        names = calloc(1, sizeof(char *));
        if (!names)
                return -ENOMEM;
        STRV_FOREACH(p, parts) {
                const char *s = *p;
                size_t len;

                s += strspn(s, " \t\r");
                len = strcspn(s, "=");
                while (len > 0 && strchr(" \t\r", s[len - 1]))
                        len--;
                if (len == 0)
                        continue;
                if (strv_consume(&names, strndup(s, len)) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(names);
        return 0;
}

static bool options_look_valid(char *const *names) {
        for (size_t i = 0; i < ELEMENTSOF(known_options); i++)
                if (strv_contains(names, known_options[i]))
                        return true;
        return false;
}

/**
 * kernel_options_probe() - which NVMe-oF connect options does the kernel accept? See kernel.h.
 * @release: a uname release string, NULL for the running kernel's
 * @fabrics_path: the fabrics device, NULL for kernel_fabrics_path()
 * @ret: filled on success (release with kernel_options_done())
 *
 * Return: 0, -EACCES/-EPERM (may not open the device), -ENOMEM or -EINVAL.
 */
int kernel_options_probe(const char *release, const char *fabrics_path, StasKernelOptions *ret) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *line = NULL;
        _cleanup_close_ int fd = -1;
        StasKernelOptions o = {};
        struct utsname u;
        int r;

        if (!ret)
                return -EINVAL;
        if (!release) {
                if (uname(&u) < 0)
                        return -errno;
                release = u.release;
        }
        fabrics_path = fabrics_path ?: kernel_fabrics_path();

        o.host_iface = kernel_version_compare(release, MIN_HOST_IFACE) >= 0;
        o.discovery = kernel_version_compare(release, MIN_DISCOVERY) >= 0;
        o.dhchap_secret = o.dhchap_ctrl_secret = kernel_version_compare(release, MIN_DHCHAP) >= 0;
        if (o.host_iface && o.discovery && o.dhchap_secret && o.dhchap_ctrl_secret) {
                log_debug("Kernel %s supports every NVMe option stas needs.", release);
                *ret = o;
                return 0;
        }

        /* The read only works since 5.17 (or a backport), and only for root. */
        fd = open(fabrics_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                if (errno == EACCES || errno == EPERM)
                        return log_debug_errno(errno, "Cannot open %s: %m", fabrics_path);
                log_warning_errno(errno, WARN_UNKNOWN ": %s: %m", fabrics_path);
                *ret = o;
                return 0;
        }
        r = read_first_line(fd, &line);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                log_warning_errno(r, WARN_UNKNOWN ": %s: %m", fabrics_path);
                *ret = o;
                return 0;
        }
        r = parse_options(line, &names);
        if (r < 0)
                return r;
        if (!options_look_valid(names)) {
                log_warning(
                        WARN_UNKNOWN ": %s: %s", fabrics_path, isempty(line) ? "empty" : "no known option");
                *ret = o;
                return 0;
        }

        o.host_iface = o.host_iface || strv_contains(names, "host_iface");
        o.discovery = o.discovery || strv_contains(names, "discovery");
        o.dhchap_secret = o.dhchap_secret || strv_contains(names, "dhchap_secret");
        o.dhchap_ctrl_secret = o.dhchap_ctrl_secret || strv_contains(names, "dhchap_ctrl_secret");
        o.options = TAKE_PTR(names);
        *ret = o;
        return 0;
}

/**
 * kernel_options_probe_default() - probe the running kernel and kernel_fabrics_path().
 */
int kernel_options_probe_default(StasKernelOptions *ret) {
        return kernel_options_probe(NULL, NULL, ret);
}
