/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fake NVMe kernel, shared core: the sysfs tree, connect/delete, uevents, scenario and admin
 * commands. Used by the LD_PRELOAD library (fakekernel.c) and by fakekernel-ctl.
 */

#undef _FILE_OFFSET_BITS
#include <arpa/inet.h>
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <limits.h>
#include <nvme/ioctl.h>
#include <nvme/types.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fk-core.h"

#define WKNQN "nqn.2014-08.org.nvmexpress.discovery"
#define MAX_INSTANCES 1024

/* The option list a 6.1 kernel prints for a read of /dev/nvme-fabrics without a prior write. */
static const char default_options[] =
        "instance=-1,cntlid=-1,transport=%s,traddr=%s,trsvcid=%s,nqn=%s,queue_size=%d,"
        "nr_io_queues=%d,reconnect_delay=%d,ctrl_loss_tmo=%d,keep_alive_tmo=%d,hostnqn=%s,"
        "host_traddr=%s,host_iface=%s,hostid=%s,duplicate_connect,disable_sqflow,hdr_digest,"
        "data_digest,nr_write_queues=%d,nr_poll_queues=%d,tos=%d,fast_io_fail_tmo=%d,discovery,"
        "dhchap_secret=%s,dhchap_ctrl_secret=%s\n";

/* Header reads (offset 0 of LID 0x70) per instance, for "genctr_changes"; reset on scenario change. */
static unsigned hdr_reads[MAX_INSTANCES];
/* Every LID 0x70 read per instance, for "dlp_sequence"; reset with hdr_reads. */
static unsigned dlp_reads[MAX_INSTANCES];
static struct stat scenario_seen;

const char *fk_root(void) {
        const char *r = getenv("FAKEKERNEL_ROOT");
        return r && r[0] == '/' ? r : NULL;
}

static bool has_prefix(const char *s, const char *p) {
        return strncmp(s, p, strlen(p)) == 0;
}

/* $FAKEKERNEL_SYSFS_LOG: append @path (a redirected kernel path) and a newline, in one write. */
static void sysfs_trace(const char *path) {
        static int log_fd = -2; /* -2: not looked at yet, -1: off */
        int fd = __atomic_load_n(&log_fd, __ATOMIC_ACQUIRE), expected = -2;
        char line[PATH_MAX + 1];
        int len;

        if (fd == -2) {
                const char *p = getenv("FAKEKERNEL_SYSFS_LOG");
                int nfd = p && p[0] == '/' ? open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644) : -1;

                if (!__atomic_compare_exchange_n(
                            &log_fd, &expected, nfd, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) &&
                    nfd >= 0)
                        close(nfd); /* another thread was first */
                fd = __atomic_load_n(&log_fd, __ATOMIC_ACQUIRE);
        }
        if (fd < 0)
                return;
        len = snprintf(line, sizeof line, "%s\n", path);
        if (len > 0 && (size_t) len < sizeof line)
                (void) !write(fd, line, (size_t) len);
}

const char *fk_redirect(const char *path, char *buf, size_t n) {
        const char *root = fk_root();

        if (!root || !path)
                return path;
        if (has_prefix(path, "/sys/class/nvme") || has_prefix(path, "/sys/devices/virtual/nvme")) {
                int r = snprintf(buf, n, "%s%s", root, path);
                if (r > 0 && (size_t) r < n) {
                        sysfs_trace(path);
                        return buf;
                }
        }
        return path;
}

int fk_dev_instance(const char *path) {
        unsigned n;
        int len = 0;

        if (!fk_root() || !path || sscanf(path, "/dev/nvme%u%n", &n, &len) != 1 || path[len] != '\0')
                return -1;
        return n < MAX_INSTANCES ? (int) n : -1;
}

int fk_delete_path_instance(const char *path) {
        const char *root = fk_root();
        unsigned n;
        int len = 0;

        if (!root || !path || !has_prefix(path, root))
                return -1;
        path += strlen(root);
        if (sscanf(path, "/sys/class/nvme/nvme%u/delete_controller%n", &n, &len) != 1 || path[len] != '\0')
                return -1;
        return n < MAX_INSTANCES ? (int) n : -1;
}

static int rootpath(char *buf, size_t n, const char *fmt, ...) {
        va_list ap;
        int r, k;

        r = snprintf(buf, n, "%s/", fk_root());
        if (r < 0 || (size_t) r >= n)
                return -ENAMETOOLONG;
        va_start(ap, fmt);
        k = vsnprintf(buf + r, n - r, fmt, ap);
        va_end(ap);
        return k < 0 || (size_t) k >= n - r ? -ENAMETOOLONG : 0;
}

bool fk_ctrl_exists(int instance) {
        char p[PATH_MAX];
        struct stat st;

        if (!fk_root() || rootpath(p, sizeof p, "sys/class/nvme/nvme%d", instance) < 0)
                return false;
        return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int mkdir_p(const char *path) {
        char tmp[PATH_MAX];

        if (snprintf(tmp, sizeof tmp, "%s", path) >= (int) sizeof tmp)
                return -ENAMETOOLONG;
        for (char *s = tmp + 1; *s; s++)
                if (*s == '/') {
                        *s = '\0';
                        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        *s = '/';
                }
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static int write_attr(const char *dir, const char *name, const char *value) {
        char p[PATH_MAX];
        FILE *f;

        snprintf(p, sizeof p, "%s/%s", dir, name);
        f = fopen(p, "we");
        if (!f)
                return -errno;
        fprintf(f, "%s\n", value ? value : "");
        return fclose(f) < 0 ? -errno : 0;
}

/* Reads an attribute, strips the trailing newline. Returns length or -errno. */
static int read_attr(const char *dir, const char *name, char *buf, size_t n) {
        char p[PATH_MAX];
        ssize_t l;
        int fd;

        snprintf(p, sizeof p, "%s/%s", dir, name);
        fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        l = read(fd, buf, n - 1);
        close(fd);
        if (l < 0)
                return -errno;
        buf[l] = '\0';
        while (l > 0 && (buf[l - 1] == '\n' || buf[l - 1] == ' '))
                buf[--l] = '\0';
        return (int) l;
}

static void append_log(const char *name, const char *fmt, ...) {
        char p[PATH_MAX];
        va_list ap;
        FILE *f;

        if (rootpath(p, sizeof p, "%s", name) < 0)
                return;
        f = fopen(p, "ae");
        if (!f)
                return;
        va_start(ap, fmt);
        vfprintf(f, fmt, ap);
        va_end(ap);
        fputc('\n', f);
        fclose(f);
}

static int lock_root(void) {
        char p[PATH_MAX];
        int fd;

        if (rootpath(p, sizeof p, "lock") < 0)
                return -1;
        fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0)
                flock(fd, LOCK_EX);
        return fd;
}

static void unlock_root(int fd) {
        if (fd >= 0)
                close(fd); /* releases the flock */
}

/* ---- scenario ---------------------------------------------------------------------------- */

static struct json_object *scenario_load(void) {
        const char *p = getenv("FAKEKERNEL_SCENARIO");
        struct stat st;

        if (!p || stat(p, &st) < 0)
                return NULL;
        if (st.st_ino != scenario_seen.st_ino || st.st_size != scenario_seen.st_size ||
            st.st_mtim.tv_sec != scenario_seen.st_mtim.tv_sec ||
            st.st_mtim.tv_nsec != scenario_seen.st_mtim.tv_nsec) {
                memset(hdr_reads, 0, sizeof hdr_reads);
                memset(dlp_reads, 0, sizeof dlp_reads);
                scenario_seen = st;
        }
        return json_object_from_file(p);
}

static const char *jstr(struct json_object *o, const char *key) {
        struct json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static int64_t jint(struct json_object *o, const char *key, int64_t def) {
        struct json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v))
                return def;
        if (json_object_is_type(v, json_type_string))
                return strtoll(json_object_get_string(v), NULL, 0);
        return json_object_get_int64(v);
}

static bool jbool(struct json_object *o, const char *key, bool def) {
        struct json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v))
                return def;
        return json_object_get_boolean(v);
}

static const struct {
        const char *name;
        int value;
} errno_names[] = {
        { "ECONNREFUSED", ECONNREFUSED },
        { "EINVAL", EINVAL },
        { "EIO", EIO },
        { "ETIMEDOUT", ETIMEDOUT },
        { "EALREADY", EALREADY },
        { "ENODEV", ENODEV },
        { "EOPNOTSUPP", EOPNOTSUPP },
        { "EADDRINUSE", EADDRINUSE },
        { "EHOSTUNREACH", EHOSTUNREACH },
        { "ENETUNREACH", ENETUNREACH },
        { "EAGAIN", EAGAIN },
        { "EINTR", EINTR },
        { "ENOMEM", ENOMEM },
        { "EPERM", EPERM },
        { "ENOENT", ENOENT },
        { "ECONNRESET", ECONNRESET },
        { "ENOTTY", ENOTTY },
};

/* A scripted outcome: a JSON string names an errno (returned as -errno), a number is an NVMe
 * status (returned as is). Absent: 0. */
static int joutcome(struct json_object *o, const char *key) {
        struct json_object *v;

        if (!o || !json_object_object_get_ex(o, key, &v))
                return 0;
        if (json_object_is_type(v, json_type_string)) {
                const char *s = json_object_get_string(v);
                for (size_t i = 0; i < sizeof errno_names / sizeof errno_names[0]; i++)
                        if (strcmp(s, errno_names[i].name) == 0)
                                return -errno_names[i].value;
                return (int) strtol(s, NULL, 0);
        }
        return json_object_get_int(v);
}

/* First controller of the scenario whose given match keys (transport, traddr, trsvcid, subsysnqn,
 * host_iface, host_traddr) all equal the controller's; absent keys match anything. */
static struct json_object *scenario_ctrl(
        struct json_object *sc,
        const char *transport,
        const char *traddr,
        const char *trsvcid,
        const char *subsysnqn,
        const char *host_traddr,
        const char *host_iface) {
        struct json_object *arr;
        const char *keys[] = { "transport", "traddr", "trsvcid", "subsysnqn", "host_traddr", "host_iface" };
        const char *vals[] = { transport, traddr, trsvcid, subsysnqn, host_traddr, host_iface };

        if (!sc || !json_object_object_get_ex(sc, "controllers", &arr) ||
            !json_object_is_type(arr, json_type_array))
                return NULL;
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
                struct json_object *c = json_object_array_get_idx(arr, i);
                bool ok = true;
                for (size_t k = 0; k < 6 && ok; k++) {
                        const char *want = jstr(c, keys[k]);
                        if (want && strcmp(want, vals[k] ? vals[k] : "") != 0)
                                ok = false;
                }
                if (ok)
                        return c;
        }
        return NULL;
}

int fk_options_line(char *buf, size_t n) {
        struct json_object *sc = scenario_load();
        const char *o = jstr(sc, "options");
        int r;

        r = snprintf(buf, n, "%s", o ? o : default_options);
        if (o && r > 0 && (size_t) r < n - 1 && buf[r - 1] != '\n') {
                buf[r++] = '\n';
                buf[r] = '\0';
        }
        json_object_put(sc);
        return r < 0 ? 0 : ((size_t) r >= n ? (int) n - 1 : r);
}

/* ---- connect ----------------------------------------------------------------------------- */

struct opts {
        char *buf;
        const char *nqn, *transport, *traddr, *trsvcid, *host_traddr, *host_iface, *hostnqn, *hostid;
        const char *dhchap_secret, *dhchap_ctrl_secret;
        bool discovery, duplicate_connect;
};

/* Kernel-like validation: every token must be in the option list (scenario may shrink it). */
static bool option_supported(const char *line, const char *tok) {
        size_t tl = strcspn(tok, "=");
        for (const char *s = line; *s;) {
                size_t l = strcspn(s, ",\n");
                size_t nl = strcspn(s, "=,\n");
                if (nl == tl && strncmp(s, tok, tl) == 0)
                        return true;
                s += l;
                while (*s == ',' || *s == '\n')
                        s++;
        }
        return false;
}

static int parse_opts(struct opts *o, const char *str, size_t len) {
        char line[4096];
        char *save = NULL;

        *o = (struct opts){};
        o->buf = strndup(str, len);
        if (!o->buf)
                return -ENOMEM;
        o->buf[strcspn(o->buf, "\n")] = '\0';
        append_log("connect.log", "%s", o->buf);
        fk_options_line(line, sizeof line);
        for (char *t = strtok_r(o->buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                char *v = strchr(t, '=');
                if (!option_supported(line, t))
                        return -EINVAL;
                if (v)
                        *v++ = '\0';
#define OPT(name)                         \
        else if (strcmp(t, #name) == 0) { \
                if (!v)                   \
                        return -EINVAL;   \
                o->name = v;              \
        }
                if (false) {
                }
                OPT(nqn)
                OPT(transport)
                OPT(traddr)
                OPT(trsvcid)
                OPT(host_traddr)
                OPT(host_iface)
                OPT(hostnqn)
                OPT(hostid)
                OPT(dhchap_secret)
                OPT(dhchap_ctrl_secret)
                else if (strcmp(t, "discovery") == 0) o->discovery = true;
                else if (strcmp(t, "duplicate_connect") == 0) o->duplicate_connect = true;
#undef OPT
        }
        if (!o->nqn || !o->transport)
                return -EINVAL;
        if (strcmp(o->transport, "loop") != 0 && !o->traddr)
                return -EINVAL;
        return 0;
}

static int next_free(const char *classdir, const char *prefix) {
        char p[PATH_MAX];
        struct stat st;

        for (int i = 0; i < MAX_INSTANCES; i++) {
                if (rootpath(p, sizeof p, "sys/class/%s/%s%d", classdir, prefix, i) < 0)
                        return -ENAMETOOLONG;
                if (stat(p, &st) < 0)
                        return i;
        }
        return -ENOSPC;
}

/* Subsystem holding subsysnqn (creating it), returns K. */
static int subsystem_for(const char *nqn, const char *subsystype, const char *model, const char *serial) {
        char p[PATH_MAX], v[512];
        int k;

        for (k = 0; k < MAX_INSTANCES; k++) {
                rootpath(p, sizeof p, "sys/class/nvme-subsystem/nvme-subsys%d", k);
                if (read_attr(p, "subsysnqn", v, sizeof v) >= 0 && strcmp(v, nqn) == 0)
                        return k;
        }
        k = next_free("nvme-subsystem", "nvme-subsys");
        if (k < 0)
                return k;
        rootpath(p, sizeof p, "sys/class/nvme-subsystem/nvme-subsys%d", k);
        if (mkdir_p(p) < 0)
                return -EIO;
        write_attr(p, "subsysnqn", nqn);
        write_attr(p, "subsystype", subsystype);
        write_attr(p, "model", model);
        write_attr(p, "serial", serial);
        write_attr(p, "firmware_rev", "6.1");
        write_attr(p, "iopolicy", "numa");
        return k;
}

static bool is_ipv6(const char *a) {
        struct in6_addr x;
        return a && inet_pton(AF_INET6, a, &x) == 1;
}

static const char *nz(const char *s) {
        return s ? s : "";
}

static bool same(const char *a, const char *b) {
        return strcmp(a ? a : "", b ? b : "") == 0;
}

/* EALREADY like nvme-tcp/rdma when an identical live controller exists and duplicate_connect is unset. */
static bool duplicate_exists(const struct opts *o) {
        char d[PATH_MAX], v[512], addr[1024];

        for (int i = 0; i < MAX_INSTANCES; i++) {
                char want[1024];
                rootpath(d, sizeof d, "sys/class/nvme/nvme%d", i);
                if (read_attr(d, "subsysnqn", v, sizeof v) < 0 || !same(v, o->nqn))
                        continue;
                if (read_attr(d, "transport", v, sizeof v) < 0 || !same(v, o->transport))
                        continue;
                if (read_attr(d, "hostnqn", v, sizeof v) >= 0 && o->hostnqn && !same(v, o->hostnqn))
                        continue;
                if (read_attr(d, "address", addr, sizeof addr) < 0)
                        continue;
                snprintf(
                        want,
                        sizeof want,
                        "traddr=%s,trsvcid=%s%s%s%s%s",
                        nz(o->traddr),
                        o->trsvcid ? o->trsvcid : "none",
                        o->host_traddr ? ",host_traddr=" : "",
                        o->host_traddr ? o->host_traddr : "",
                        o->host_iface ? ",host_iface=" : "",
                        o->host_iface ? o->host_iface : "");
                if (strncmp(addr, want, strlen(want)) == 0 &&
                    (addr[strlen(want)] == '\0' || addr[strlen(want)] == ','))
                        return true;
        }
        return false;
}

static uint64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/*
 * A slow fabric: the connect write returns connect_delay_ms after it started. The scenario is
 * re-read every 100 ms while waiting, so a test can release hung connects early by lowering the
 * delay (or dropping the controller from the scenario).
 */
static void connect_wait(const struct opts *o) {
        uint64_t start = now_ms();

        for (;;) {
                struct json_object *sc = scenario_load();
                struct json_object *c = scenario_ctrl(
                        sc, o->transport, o->traddr, o->trsvcid, o->nqn, o->host_traddr, o->host_iface);
                int64_t delay = jint(c, "connect_delay_ms", 0);
                uint64_t elapsed = now_ms() - start, left;

                json_object_put(sc);
                if (delay <= 0 || elapsed >= (uint64_t) delay)
                        return;
                left = (uint64_t) delay - elapsed;
                usleep((useconds_t) (left < 100 ? left : 100) * 1000);
        }
}

int fk_connect(const char *str, size_t len, char *reply, size_t n) {
        struct json_object *sc = NULL, *c;
        struct opts o;
        char d[PATH_MAX], v[1024], sp[PATH_MAX], link[PATH_MAX];
        const char *cntrltype, *dctype, *src;
        int lk = -1, inst, k, r, cntlid;

        if (!fk_root())
                return -ENODEV;
        r = parse_opts(&o, str, len);
        if (r < 0)
                goto out;
        sc = scenario_load();
        c = scenario_ctrl(sc, o.transport, o.traddr, o.trsvcid, o.nqn, o.host_traddr, o.host_iface);
        r = joutcome(c, "connect_error");
        if (r != 0) {
                r = r < 0 ? r : -EIO;
                goto out;
        }

        lk = lock_root();
        if (!o.duplicate_connect && duplicate_exists(&o)) {
                r = -EALREADY;
                goto out;
        }
        inst = next_free("nvme", "nvme");
        if (inst < 0) {
                r = inst;
                goto out;
        }
        cntrltype = jstr(c, "cntrltype");
        if (!cntrltype)
                cntrltype = o.discovery || strcmp(o.nqn, WKNQN) == 0 ? "discovery" : "io";
        dctype = jstr(c, "dctype");
        if (!dctype)
                dctype = "none";
        cntlid = (int) jint(c, "cntlid", inst + 1);

        rootpath(d, sizeof d, "sys/class/nvme/nvme%d", inst);
        r = mkdir_p(d);
        if (r < 0)
                goto out;
        src = jstr(c, "src_addr");
        if (!src)
                src = o.host_traddr ? o.host_traddr : (is_ipv6(o.traddr) ? "::1" : "127.0.0.1");
        snprintf(
                v,
                sizeof v,
                "traddr=%s,trsvcid=%s%s%s%s%s%s%s",
                nz(o.traddr),
                o.trsvcid ? o.trsvcid : "none",
                o.host_traddr ? ",host_traddr=" : "",
                o.host_traddr ? o.host_traddr : "",
                o.host_iface ? ",host_iface=" : "",
                o.host_iface ? o.host_iface : "",
                strcmp(o.transport, "tcp") == 0 ? ",src_addr=" : "",
                strcmp(o.transport, "tcp") == 0 ? src : "");
        write_attr(d, "address", v);
        write_attr(d, "transport", o.transport);
        write_attr(d, "subsysnqn", o.nqn);
        write_attr(d, "hostnqn", o.hostnqn);
        write_attr(d, "hostid", o.hostid);
        write_attr(d, "state", "live");
        if (jbool(c, "sysfs_types", true)) {
                write_attr(d, "cntrltype", cntrltype);
                write_attr(d, "dctype", dctype);
        }
        write_attr(d, "model", jstr(c, "model") ? jstr(c, "model") : "Fake NVMe Controller");
        write_attr(d, "serial", jstr(c, "serial") ? jstr(c, "serial") : "FAKE0001");
        write_attr(d, "firmware_rev", "6.1");
        write_attr(d, "numa_node", "-1");
        write_attr(d, "queue_count", "1");
        write_attr(d, "sqsize", "31");
        snprintf(v, sizeof v, "%d", cntlid);
        write_attr(d, "cntlid", v);
        write_attr(d, "dhchap_secret", o.dhchap_secret ? o.dhchap_secret : "none");
        write_attr(d, "dhchap_ctrl_secret", o.dhchap_ctrl_secret ? o.dhchap_ctrl_secret : "none");
        write_attr(d, "delete_controller", "");
        snprintf(v, sizeof v, "%d:%d", 240, inst);
        write_attr(d, "dev", v);
        snprintf(
                v,
                sizeof v,
                "MAJOR=240\nMINOR=%d\nDEVNAME=nvme%d\nNVME_TRTYPE=%s\nNVME_TRADDR=%s\nNVME_TRSVCID=%s\n"
                "NVME_HOST_TRADDR=%s\nNVME_HOST_IFACE=%s",
                inst,
                inst,
                o.transport,
                o.traddr ? o.traddr : "none",
                o.trsvcid ? o.trsvcid : "none",
                o.host_traddr ? o.host_traddr : "none",
                o.host_iface ? o.host_iface : "none");
        write_attr(d, "uevent", v);

        k = subsystem_for(
                o.nqn,
                strcmp(cntrltype, "discovery") == 0 ? "discovery" : "nvm",
                jstr(c, "model") ? jstr(c, "model") : "Fake NVMe Controller",
                jstr(c, "serial") ? jstr(c, "serial") : "FAKE0001");
        if (k < 0) {
                r = k;
                goto out;
        }
        rootpath(sp, sizeof sp, "sys/class/nvme-subsystem/nvme-subsys%d/nvme%d", k, inst);
        snprintf(link, sizeof link, "../../nvme/nvme%d", inst);
        if (symlink(link, sp) < 0 && errno != EEXIST) {
                r = -errno;
                goto out;
        }
        if (inst < MAX_INSTANCES) {
                hdr_reads[inst] = 0;
                dlp_reads[inst] = 0;
        }
        unlock_root(lk);
        lk = -1;
        snprintf(reply, n, "instance=%d,cntlid=%d\n", inst, cntlid);
        fk_uevent("add", inst, NULL);
        /* a slow fabric: the controller exists (as in the kernel) before the write returns */
        connect_wait(&o);
        append_log(
                "connect-done.log",
                "nvme%d nqn=%s,transport=%s,traddr=%s,trsvcid=%s",
                inst,
                o.nqn,
                o.transport,
                nz(o.traddr),
                o.trsvcid ? o.trsvcid : "none");
        r = inst;
out:
        unlock_root(lk);
        json_object_put(sc);
        free(o.buf);
        return r;
}

/* ---- delete / uevents ------------------------------------------------------------------- */

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(p) < 0 ? -1 : 0;
}

static int collect_uevent(int instance, char *buf, size_t n, size_t *len) {
        char d[PATH_MAX], u[2048];

        rootpath(d, sizeof d, "sys/class/nvme/nvme%d", instance);
        if (read_attr(d, "uevent", u, sizeof u) < 0)
                return -ENOENT;
        for (char *s = u; *s;) {
                size_t l = strcspn(s, "\n");
                if (strncmp(s, "NVME_", 5) == 0 && *len + l + 1 <= n) {
                        memcpy(buf + *len, s, l);
                        *len += l;
                        buf[(*len)++] = '\0';
                }
                s += l;
                if (*s)
                        s++;
        }
        return 0;
}

static bool uevents_dropped;

void fk_drop_uevents(bool drop) {
        uevents_dropped = drop;
}

static int send_uevent(const char *buf, size_t len) {
        const char *path = getenv("STAS_UEVENT_SOCKET");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd, r = 0;

        if (uevents_dropped || !path || strlen(path) >= sizeof sa.sun_path)
                return 0;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (sendto(fd, buf, len, MSG_NOSIGNAL, (struct sockaddr *) &sa, sizeof sa) < 0)
                r = -errno;
        close(fd);
        return r;
}

static size_t add_kv(char *buf, size_t n, size_t len, const char *fmt, ...) {
        va_list ap;
        int r;

        if (len >= n)
                return len;
        va_start(ap, fmt);
        r = vsnprintf(buf + len, n - len, fmt, ap);
        va_end(ap);
        if (r < 0 || (size_t) r >= n - len)
                return len;
        return len + (size_t) r + 1; /* keep the NUL as separator */
}

static size_t build_uevent(char *buf, size_t n, const char *action, int instance) {
        size_t len = 0;

        len = add_kv(buf, n, len, "ACTION=%s", action);
        len = add_kv(buf, n, len, "SUBSYSTEM=nvme");
        len = add_kv(buf, n, len, "DEVPATH=/devices/virtual/nvme-fabrics/ctl/nvme%d", instance);
        len = add_kv(buf, n, len, "SYSNAME=nvme%d", instance);
        len = add_kv(buf, n, len, "DEVNAME=/dev/nvme%d", instance);
        collect_uevent(instance, buf, n, &len);
        return len;
}

int fk_uevent(const char *action, int instance, char *const *extra) {
        char buf[8192];
        size_t len;

        if (!fk_root())
                return -ENODEV;
        len = build_uevent(buf, sizeof buf, action, instance);
        for (size_t i = 0; extra && extra[i]; i++)
                len = add_kv(buf, sizeof buf, len, "%s", extra[i]);
        return send_uevent(buf, len);
}

int fk_uevent_overflow(void) {
        static const char word[] = "ENOBUFS";

        if (!fk_root())
                return -ENODEV;
        return send_uevent(word, sizeof(word) - 1);
}

int fk_delete(int instance) {
        char d[PATH_MAX], p[PATH_MAX], buf[8192];
        size_t len;
        int lk, r = 0;

        if (!fk_root() || !fk_ctrl_exists(instance))
                return -ENODEV;
        lk = lock_root();
        len = build_uevent(buf, sizeof buf, "remove", instance);
        for (int k = 0; k < MAX_INSTANCES; k++) {
                DIR *dir;
                struct dirent *de;
                bool others = false;

                rootpath(d, sizeof d, "sys/class/nvme-subsystem/nvme-subsys%d", k);
                rootpath(p, sizeof p, "sys/class/nvme-subsystem/nvme-subsys%d/nvme%d", k, instance);
                if (unlink(p) < 0)
                        continue;
                dir = opendir(d);
                while (dir && (de = readdir(dir)))
                        if (strncmp(de->d_name, "nvme", 4) == 0)
                                others = true;
                if (dir)
                        closedir(dir);
                if (!others)
                        nftw(d, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        }
        rootpath(d, sizeof d, "sys/class/nvme/nvme%d", instance);
        if (nftw(d, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
                r = -errno;
        unlock_root(lk);
        send_uevent(buf, len);
        return r;
}

int fk_set_state(int instance, const char *state) {
        char d[PATH_MAX];

        if (!fk_ctrl_exists(instance))
                return -ENODEV;
        rootpath(d, sizeof d, "sys/class/nvme/nvme%d", instance);
        return write_attr(d, "state", state);
}

/* ---- admin commands ---------------------------------------------------------------------- */

/* Copies s into a fixed field of size n: at most n bytes, no terminator added when s fills it;
 * the rest of the field is filled with pad. */
static void put_field(char *field, size_t n, const char *s, char pad) {
        size_t l = s ? strlen(s) : 0;

        memset(field, pad, n);
        memcpy(field, s ? s : "", l < n ? l : n);
}

static uint8_t code(struct json_object *e, const char *key, uint8_t def) {
        static const struct {
                const char *name;
                uint8_t v;
        } names[] = {
                { "rdma", 1 }, { "fc", 2 }, { "tcp", 3 },      { "loop", 254 }, { "ipv4", 1 },
                { "ipv6", 2 }, { "ib", 3 }, { "referral", 1 }, { "nvme", 2 },   { "discovery", 3 },
        };
        const char *s = jstr(e, key);
        if (s) {
                for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
                        if (strcmp(s, names[i].name) == 0)
                                return names[i].v;
        }
        return (uint8_t) jint(e, key, def);
}

static void fill_entry(struct nvmf_disc_log_entry *d, struct json_object *e) {
        const char *pads = jstr(e, "pad");
        char pad = pads && pads[0] ? pads[0] : '\0';

        memset(d, 0, sizeof *d);
        d->trtype = code(e, "trtype", NVMF_TRTYPE_TCP);
        d->adrfam = code(e, "adrfam", NVMF_ADDR_FAMILY_IP4);
        d->subtype = code(e, "subtype", NVME_NQN_NVME);
        d->treq = (uint8_t) jint(e, "treq", 0);
        d->portid = htole16((uint16_t) jint(e, "portid", 1));
        d->cntlid = htole16((uint16_t) jint(e, "cntlid", 0xffff));
        d->asqsz = htole16((uint16_t) jint(e, "asqsz", 32));
        d->eflags = htole16((uint16_t) jint(e, "eflags", 0));
        put_field(d->trsvcid, sizeof d->trsvcid, jstr(e, "trsvcid"), pad);
        put_field(d->subnqn, sizeof d->subnqn, jstr(e, "subnqn"), pad);
        put_field(d->traddr, sizeof d->traddr, jstr(e, "traddr"), pad);
        d->tsas.tcp.sectype = (uint8_t) jint(e, "sectype", 0);
}

static void copy_window(void *dst, uint32_t len, const uint8_t *src, uint64_t srclen, uint64_t off) {
        memset(dst, 0, len);
        if (off < srclen)
                memcpy(dst, src + off, srclen - off < len ? srclen - off : len);
}

static int admin_get_dlp(int instance, struct json_object *c, struct nvme_passthru_cmd *cmd) {
        struct json_object *dlp = NULL, *entries = NULL;
        uint64_t off = cmd->cdw12 | ((uint64_t) cmd->cdw13 << 32);
        size_t nent = 0, total;
        uint8_t *page;
        struct nvmf_discovery_log *h;
        uint64_t genctr;

        if (c)
                json_object_object_get_ex(c, "dlp", &dlp);
        if (c && instance < MAX_INSTANCES) {
                /* "dlp_sequence": the n-th LID 0x70 command of this controller is served from element
                 * min(n, len - 1): a page that changes between the commands of one read */
                struct json_object *seq = NULL;
                unsigned k = dlp_reads[instance]++;

                if (json_object_object_get_ex(c, "dlp_sequence", &seq) &&
                    json_object_is_type(seq, json_type_array) && json_object_array_length(seq) > 0) {
                        size_t len = json_object_array_length(seq);
                        dlp = json_object_array_get_idx(seq, k < len ? k : len - 1);
                }
        }
        if (dlp && json_object_object_get_ex(dlp, "entries", &entries) &&
            json_object_is_type(entries, json_type_array))
                nent = json_object_array_length(entries);
        total = sizeof(struct nvmf_discovery_log) + nent * sizeof(struct nvmf_disc_log_entry);
        page = calloc(1, total);
        if (!page)
                return -ENOMEM;
        h = (struct nvmf_discovery_log *) page;
        genctr = (uint64_t) jint(dlp, "genctr", 1);
        if (off == 0 && instance < MAX_INSTANCES) {
                unsigned changes = (unsigned) jint(dlp, "genctr_changes", 0);
                unsigned reads = hdr_reads[instance]++;
                genctr += reads < changes ? reads : changes;
        } else if (instance < MAX_INSTANCES && hdr_reads[instance] > 0) {
                unsigned changes = (unsigned) jint(dlp, "genctr_changes", 0);
                unsigned reads = hdr_reads[instance] - 1;
                genctr += reads < changes ? reads : changes;
        }
        h->genctr = htole64(genctr);
        h->numrec = htole64((uint64_t) jint(dlp, "numrec", (int64_t) nent));
        h->recfmt = htole16((uint16_t) jint(dlp, "recfmt", 0));
        for (size_t i = 0; i < nent; i++)
                fill_entry(&h->entries[i], json_object_array_get_idx(entries, i));
        copy_window((void *) (uintptr_t) cmd->addr, cmd->data_len, page, total, off);
        free(page);
        return 0;
}

static int admin_supported_logs(struct json_object *c, struct nvme_passthru_cmd *cmd) {
        struct nvme_supported_log_pages log = {};
        uint64_t off = cmd->cdw12 | ((uint64_t) cmd->cdw13 << 32);
        uint32_t bits = jbool(c, "pleo", false) ? NVMF_LOG_DISC_LID_PLEOS : 0;

        bits = (uint32_t) jint(c, "lid_support_70", bits);
        log.lid_support[0] = htole32(1);
        log.lid_support[NVME_LOG_LID_DISCOVER] = htole32(1 | (bits << 16));
        copy_window((void *) (uintptr_t) cmd->addr, cmd->data_len, (uint8_t *) &log, sizeof log, off);
        return 0;
}

static int admin_identify(struct json_object *c, const char *dir, struct nvme_passthru_cmd *cmd) {
        struct nvme_id_ctrl id = {};
        char v[512];
        const char *ct, *dt;

        if ((cmd->cdw10 & 0xff) != NVME_IDENTIFY_CNS_CTRL) {
                copy_window((void *) (uintptr_t) cmd->addr, cmd->data_len, (uint8_t *) &id, 0, 0);
                return 0;
        }
        id.vid = htole16(0x1b36);
        put_field(id.sn, sizeof id.sn, jstr(c, "serial") ? jstr(c, "serial") : "FAKE0001", ' ');
        put_field(id.mn, sizeof id.mn, jstr(c, "model") ? jstr(c, "model") : "Fake NVMe Controller", ' ');
        put_field(id.fr, sizeof id.fr, "6.1", ' ');
        if (read_attr(dir, "cntlid", v, sizeof v) > 0)
                id.cntlid = htole16((uint16_t) atoi(v));
        ct = jstr(c, "cntrltype");
        if (!ct && read_attr(dir, "subsysnqn", v, sizeof v) > 0)
                ct = strcmp(v, WKNQN) == 0 ? "discovery" : "io";
        id.cntrltype = ct && strcmp(ct, "discovery") == 0 ? 2 : ct && strcmp(ct, "admin") == 0 ? 3 : 1;
        dt = jstr(c, "dctype");
        id.dctype = dt && strcmp(dt, "ddc") == 0 ? 1 : dt && strcmp(dt, "cdc") == 0 ? 2 : 0;
        if (read_attr(dir, "subsysnqn", v, sizeof v) > 0)
                put_field(id.subnqn, sizeof id.subnqn, v, '\0');
        copy_window((void *) (uintptr_t) cmd->addr, cmd->data_len, (uint8_t *) &id, sizeof id, 0);
        return 0;
}

static void bounded(char *dst, size_t dn, const char *src, size_t sn) {
        size_t l = strnlen(src, sn);
        if (l >= dn)
                l = dn - 1;
        memcpy(dst, src, l);
        dst[l] = '\0';
        while (l > 0 && dst[l - 1] == ' ')
                dst[--l] = '\0';
}

static void admin_dim_record(int instance, struct nvme_passthru_cmd *cmd) {
        static const char *tas_names[] = { "register", "deregister", "update" };
        const uint8_t *buf = (const uint8_t *) (uintptr_t) cmd->addr;
        uint32_t len = cmd->data_len, tas = cmd->cdw10 & 0xf;
        char eid[257] = "", ename[257] = "", nqn[257] = "", sym[257] = "", hostid[40] = "";
        char tasbuf[16];
        const struct nvmf_dim_data *dim = (const void *) buf;

        if (len >= sizeof *dim) {
                bounded(eid, sizeof eid, dim->eid, sizeof dim->eid);
                bounded(ename, sizeof ename, dim->ename, sizeof dim->ename);
        }
        if (len >= sizeof *dim + sizeof(struct nvmf_ext_die) &&
            le16toh(dim->entfmt) == NVMF_DIM_ENTFMT_EXTENDED) {
                const struct nvmf_ext_die *die = (const void *) (buf + sizeof *dim);
                size_t off = sizeof *dim + sizeof *die;
                bounded(nqn, sizeof nqn, die->nqn, sizeof die->nqn);
                for (unsigned i = 0; i < le16toh(die->numexat) && off + 4 <= len; i++) {
                        const struct nvmf_ext_attr *a = (const void *) (buf + off);
                        size_t al = le16toh(a->exatlen);
                        if (off + 4 + al > len)
                                break;
                        if (le16toh(a->exattype) == NVMF_EXATTYPE_HOSTID && al >= 16) {
                                const uint8_t *u = a->exatval;
                                snprintf(
                                        hostid,
                                        sizeof hostid,
                                        "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                                        u[0],
                                        u[1],
                                        u[2],
                                        u[3],
                                        u[4],
                                        u[5],
                                        u[6],
                                        u[7],
                                        u[8],
                                        u[9],
                                        u[10],
                                        u[11],
                                        u[12],
                                        u[13],
                                        u[14],
                                        u[15]);
                        } else if (le16toh(a->exattype) == NVMF_EXATTYPE_SYMNAME)
                                bounded(sym, sizeof sym, (const char *) a->exatval, al);
                        off += 4 + ((al + 3) & ~(size_t) 3);
                }
        }
        snprintf(tasbuf, sizeof tasbuf, "%u", tas);
        append_log(
                "dim.log",
                "nvme%d tas=%s eid=%s ename=%s nqn=%s hostid=%s symname=%s",
                instance,
                tas < 3 ? tas_names[tas] : tasbuf,
                eid,
                ename,
                nqn,
                hostid,
                sym);
}

int fk_admin(int instance, struct nvme_passthru_cmd *cmd) {
        struct json_object *sc, *c, *status = NULL;
        char d[PATH_MAX], tr[64] = "", nqn[512] = "", addr[1024] = "";
        char traddr[256] = "", trsvcid[64] = "", host_traddr[256] = "", host_iface[64] = "";
        int r;

        if (!fk_ctrl_exists(instance))
                return -ENODEV;
        rootpath(d, sizeof d, "sys/class/nvme/nvme%d", instance);
        read_attr(d, "transport", tr, sizeof tr);
        read_attr(d, "subsysnqn", nqn, sizeof nqn);
        read_attr(d, "address", addr, sizeof addr);
        for (char *s = addr; *s;) {
                size_t l = strcspn(s, ",");
                char save = s[l];
                s[l] = '\0';
                sscanf(s, "traddr=%255s", traddr);
                sscanf(s, "trsvcid=%63s", trsvcid);
                sscanf(s, "host_traddr=%255s", host_traddr);
                sscanf(s, "host_iface=%63s", host_iface);
                s[l] = save;
                s += l + (save ? 1 : 0);
        }
        append_log(
                "admin.log",
                "nvme%d opc=0x%02x cdw10=0x%08x off=%llu len=%u",
                instance,
                cmd->opcode,
                cmd->cdw10,
                (unsigned long long) (cmd->cdw12 | ((uint64_t) cmd->cdw13 << 32)),
                cmd->data_len);
        sc = scenario_load();
        c = scenario_ctrl(
                sc,
                tr,
                traddr,
                strcmp(trsvcid, "none") == 0 ? "" : trsvcid,
                nqn,
                host_traddr[0] ? host_traddr : NULL,
                host_iface[0] ? host_iface : NULL);
        if (c)
                json_object_object_get_ex(c, "status", &status);
        cmd->result = 0;
        if (cmd->data_len > 0 && !cmd->addr) {
                r = -EFAULT;
                goto out;
        }

        switch (cmd->opcode) {
        case nvme_admin_identify:
                r = joutcome(status, "identify");
                if (r == 0)
                        r = admin_identify(c, d, cmd);
                break;
        case nvme_admin_get_log_page:
                switch (cmd->cdw10 & 0xff) {
                case NVME_LOG_LID_DISCOVER:
                        r = joutcome(status, "get_log");
                        if (r == 0)
                                r = admin_get_dlp(instance, c, cmd);
                        break;
                case NVME_LOG_LID_SUPPORTED_LOG_PAGES:
                        r = joutcome(status, "supported_log_pages");
                        if (r == 0)
                                r = admin_supported_logs(c, cmd);
                        break;
                default:
                        r = NVME_SC_INVALID_LOG_PAGE | NVME_SC_DNR;
                }
                break;
        case nvme_admin_discovery_info_mgmt:
                admin_dim_record(instance, cmd);
                r = joutcome(status, "dim");
                if (r == 0)
                        cmd->result = (uint32_t) jint(c, "dim_result", 0);
                break;
        default:
                r = NVME_SC_INVALID_OPCODE | NVME_SC_DNR;
        }
out:
        json_object_put(sc);
        return r;
}
