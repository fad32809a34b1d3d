/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <fcntl.h>
#include <libudev.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "stas/log.h"
#include "stas/strv.h"
#include "stas/udev.h"

#define UEVENT_DGRAM_MAX 8192

StasUevent *uevent_free(StasUevent *ev) {
        if (!ev)
                return NULL;
        free(ev->sysname);
        free(ev->trtype);
        free(ev->traddr);
        free(ev->trsvcid);
        free(ev->host_traddr);
        free(ev->host_iface);
        free(ev);
        return NULL;
}

/* "nvmeN" with N a decimal without leading garbage. Return: N or -EINVAL. */
static int controller_instance(const char *name) {
        unsigned long n;
        char *end;

        if (!name || !strneq(name, "nvme", 4) || name[4] < '0' || name[4] > '9')
                return -EINVAL;
        errno = 0;
        n = strtoul(name + 4, &end, 10);
        if (errno != 0 || *end || n > 0x7fffffff || (name[4] == '0' && name[5]))
                return -EINVAL;
        return (int) n;
}

static const char *basename_of(const char *path) {
        const char *s = strrchr(path, '/');

        return s ? s + 1 : path;
}

/* kernel placeholders for "no value" */
static const char *kernel_value(const char *v) {
        if (!v || streq(v, "none") || streq(v, "(efault)"))
                return "";
        return v;
}

static const char *prop_get(char *const *props, const char *key) {
        size_t kl = strlen(key);

        STRV_FOREACH(p, (char **) props)
                if (strneq(*p, key, kl) && (*p)[kl] == '=')
                        return *p + kl + 1;
        return NULL;
}

int uevent_parse(char *const *props, StasUevent **ret) {
        _cleanup_(uevent_freep) StasUevent *ev = NULL;
        const char *action, *subsystem, *name, *v;
        int instance;

        STRV_FOREACH(p, (char **) props)
                if (!strchr(*p, '=') || **p == '=')
                        return -EBADMSG;

        action = prop_get(props, "ACTION");
        if (isempty(action))
                return -EBADMSG;
        subsystem = prop_get(props, "SUBSYSTEM");
        if (!subsystem)
                return -EBADMSG;
        if (!streq(subsystem, "nvme"))
                return -EOPNOTSUPP;

        name = prop_get(props, "SYSNAME");
        if (isempty(name) && (v = prop_get(props, "DEVNAME")))
                name = basename_of(v);
        if (isempty(name) && (v = prop_get(props, "DEVPATH")))
                name = basename_of(v);
        if (isempty(name))
                return -EBADMSG;
        instance = controller_instance(name);
        if (instance < 0)
                return -EOPNOTSUPP; /* e.g. a namespace or "nvme-fabrics" */

        ev = new0(StasUevent, 1);
        if (!ev)
                return -ENOMEM;
        if (streq(action, "add"))
                ev->action = STAS_UEVENT_ADD;
        else if (streq(action, "remove"))
                ev->action = STAS_UEVENT_REMOVE;
        else if (streq(action, "change"))
                ev->action = STAS_UEVENT_CHANGE;
        else
                return -EOPNOTSUPP;
        ev->instance = instance;

        v = prop_get(props, "NVME_AEN");
        if (v) {
                unsigned long aen;
                char *end;

                errno = 0;
                aen = strtoul(v, &end, 16);
                if (isempty(v) || errno != 0 || *end || aen > UINT32_MAX || v[0] == '-')
                        return -EBADMSG;
                ev->has_aen = true;
                ev->aen = (uint32_t) aen;
        }

        v = prop_get(props, "NVME_EVENT");
        if (!v)
                ev->nvme_event = STAS_NVME_EVENT_NONE;
        else if (streq(v, "connected"))
                ev->nvme_event = STAS_NVME_EVENT_CONNECTED;
        else if (streq(v, "rediscover"))
                ev->nvme_event = STAS_NVME_EVENT_REDISCOVER;
        else
                ev->nvme_event = STAS_NVME_EVENT_OTHER;

        ev->sysname = strdup(name);
        ev->trtype = strdup(kernel_value(prop_get(props, "NVME_TRTYPE")));
        ev->traddr = strdup(kernel_value(prop_get(props, "NVME_TRADDR")));
        ev->trsvcid = strdup(kernel_value(prop_get(props, "NVME_TRSVCID")));
        ev->host_traddr = strdup(kernel_value(prop_get(props, "NVME_HOST_TRADDR")));
        ev->host_iface = strdup(kernel_value(prop_get(props, "NVME_HOST_IFACE")));
        if (!ev->sysname || !ev->trtype || !ev->traddr || !ev->trsvcid || !ev->host_traddr ||
            !ev->host_iface)
                return -ENOMEM;

        *ret = TAKE_PTR(ev);
        return 0;
}

int uevent_parse_datagram(const char *buf, size_t len, StasUevent **ret) {
        _cleanup_strv_free_ char **props = NULL;
        size_t start = 0;
        int r;

        for (size_t i = 0; i <= len; i++) {
                if (i < len && buf[i] != 0 && buf[i] != '\n')
                        continue;
                if (i > start) {
                        char *s = strndup(buf + start, i - start);

                        if (!s)
                                return -ENOMEM;
                        r = strv_consume(&props, s);
                        if (r < 0)
                                return r;
                }
                start = i + 1;
        }
        if (!props)
                return -EBADMSG;
        return uevent_parse(props, ret);
}

bool uevent_is_dlp_changed(const StasUevent *ev) {
        return ev && ev->action == STAS_UEVENT_CHANGE && ev->has_aen && ev->aen == STAS_AEN_DLP_CHANGED;
}

bool uevent_datagram_is_overflow(const char *buf, size_t len) {
        static const char word[] = "ENOBUFS";

        if (!buf)
                return false;
        while (len > 0 && (buf[len - 1] == 0 || buf[len - 1] == '\n'))
                len--;
        return len == sizeof(word) - 1 && memcmp(buf, word, len) == 0;
}

/* ---- monitor ---- */

struct StasUdev {
        sd_event *event;
        StasUeventHandler handler;
        void *userdata;
        struct udev *udev;
        struct udev_monitor *monitor;
        sd_event_source *monitor_source;
        int hook_fd;
        char *hook_path;
        sd_event_source *hook_source;
        sd_event_source *overflow_source; /* defer: delivers STAS_UEVENT_OVERFLOW */
        const char *overflow_origin;      /* of the first overflow not delivered yet */
};

StasUdev *stas_udev_free(StasUdev *u) {
        if (!u)
                return NULL;
        sd_event_source_disable_unref(u->monitor_source);
        sd_event_source_disable_unref(u->hook_source);
        sd_event_source_disable_unref(u->overflow_source);
        if (u->monitor)
                udev_monitor_unref(u->monitor);
        if (u->udev)
                udev_unref(u->udev);
        if (u->hook_fd >= 0)
                close(u->hook_fd);
        if (u->hook_path)
                (void) unlink(u->hook_path);
        free(u->hook_path);
        sd_event_unref(u->event);
        free(u);
        return NULL;
}

static void dispatch(StasUdev *u, int r, StasUevent *ev, const char *origin) {
        if (r == -EOPNOTSUPP)
                log_debug("Ignoring %s uevent not about an nvme controller", origin);
        else if (r < 0)
                log_debug_errno(r, "Dropping malformed %s uevent: %m", origin);
        else
                u->handler(ev, u->userdata);
}

static int on_overflow(sd_event_source *s, void *userdata) {
        StasUdev *u = userdata;
        StasUevent ev = {
                .action = STAS_UEVENT_OVERFLOW,
                .instance = -1,
                .trtype = (char *) "",
                .traddr = (char *) "",
                .trsvcid = (char *) "",
                .host_traddr = (char *) "",
                .host_iface = (char *) "",
        };

        log_warning(
                "uevents were lost (%s: receive buffer overflow); checking every controller against sysfs.",
                u->overflow_origin ?: "udev");
        u->overflow_origin = NULL;
        u->handler(&ev, u->userdata);
        return 0;
}

/*
 * The kernel dropped events for us. Deliver one STAS_UEVENT_OVERFLOW on a later loop iteration
 * (at the priority of the event sources, so what is still queued is not starved), however many
 * overflows are reported until then.
 */
static void overflow(StasUdev *u, const char *origin) {
        int r;

        log_debug("%s: receive buffer overflow (ENOBUFS).", origin);
        if (!u->overflow_origin)
                u->overflow_origin = origin;
        if (!u->overflow_source) {
                r = sd_event_add_defer(u->event, &u->overflow_source, on_overflow, u);
                if (r < 0) {
                        /* no way to say it later: say it now */
                        log_debug_errno(r, "Cannot defer the overflow notice: %m");
                        (void) on_overflow(NULL, u);
                        return;
                }
        }
        r = sd_event_source_set_enabled(u->overflow_source, SD_EVENT_ONESHOT);
        if (r < 0) {
                log_debug_errno(r, "Cannot defer the overflow notice: %m");
                (void) on_overflow(NULL, u);
        }
}

static int on_monitor(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        StasUdev *u = userdata;
        _cleanup_strv_free_ char **props = NULL;
        _cleanup_(uevent_freep) StasUevent *ev = NULL;
        struct udev_device *dev;
        struct udev_list_entry *e;
        int r = 0;

        errno = 0;
        dev = udev_monitor_receive_device(u->monitor);
        if (!dev) {
                /* libudev 252 passes recvmsg()'s errno through: ENOBUFS when events were dropped */
                if (errno == ENOBUFS)
                        overflow(u, "udev monitor");
                else if (errno != 0 && errno != EAGAIN && errno != EINTR)
                        log_debug_errno(errno, "Failed to receive a uevent: %m");
                return 0;
        }

        udev_list_entry_foreach(e, udev_device_get_properties_list_entry(dev)) {
                char *kv;

                if (asprintf(
                            &kv,
                            "%s=%s",
                            udev_list_entry_get_name(e),
                            strempty(udev_list_entry_get_value(e))) < 0) {
                        r = -ENOMEM;
                        break;
                }
                r = strv_consume(&props, kv);
                if (r < 0)
                        break;
        }
        if (r >= 0 && udev_device_get_sysname(dev)) {
                char *kv;

                if (asprintf(&kv, "SYSNAME=%s", udev_device_get_sysname(dev)) < 0)
                        r = -ENOMEM;
                else
                        r = strv_consume(&props, kv);
        }
        udev_device_unref(dev);
        if (r < 0) {
                log_debug_errno(r, "Dropping uevent: %m");
                return 0;
        }
        r = uevent_parse(props, &ev);
        dispatch(u, r, ev, "udev");
        return 0;
}

static int on_hook(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        StasUdev *u = userdata;

        for (;;) {
                _cleanup_(uevent_freep) StasUevent *ev = NULL;
                char buf[UEVENT_DGRAM_MAX];
                ssize_t n;
                int r;

                n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
                if (n < 0) {
                        if (errno != EAGAIN && errno != EINTR)
                                log_debug_errno(errno, "Failed to read test uevent socket: %m");
                        return 0;
                }
                if ((size_t) n >= sizeof(buf)) {
                        log_debug("Dropping oversized test uevent (%zd bytes)", n);
                        continue;
                }
                if (uevent_datagram_is_overflow(buf, (size_t) n)) {
                        overflow(u, "test socket");
                        continue;
                }
                r = uevent_parse_datagram(buf, (size_t) n, &ev);
                dispatch(u, r, ev, "test socket");
        }
}

static int hook_open(StasUdev *u, const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);

        u->hook_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (u->hook_fd < 0)
                return -errno;
        (void) unlink(path);
        if (bind(u->hook_fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        u->hook_path = strdup(path);
        if (!u->hook_path)
                return -ENOMEM;
        r = sd_event_add_io(u->event, &u->hook_source, u->hook_fd, EPOLLIN, on_hook, u);
        if (r < 0)
                return r;
        log_debug("Test uevent socket bound at %s", path);
        return 0;
}

/*
 * Ask for @bytes of receive buffer on @fd: SO_RCVBUFFORCE ignores net.core.rmem_max but needs
 * CAP_NET_ADMIN; without it SO_RCVBUF gets what the kernel allows. (libudev 252's
 * udev_monitor_set_receive_buffer_size() tries the same two, in the other order, and reports
 * EPERM when only the capped one worked.) Return: the size the kernel reports, or -errno.
 */
static int rcvbuf_set(int fd, int bytes) {
        socklen_t l = sizeof(int);
        int v = bytes;

        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0 &&
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) < 0)
                return -errno;
        if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &l) < 0)
                return -errno;
        return v;
}

static int monitor_open(StasUdev *u) {
        int r;

        u->udev = udev_new();
        if (!u->udev)
                return errno > 0 ? -errno : -ENOMEM;
        u->monitor = udev_monitor_new_from_netlink(u->udev, "udev");
        if (!u->monitor)
                return errno > 0 ? -errno : -EIO;
        r = udev_monitor_filter_add_match_subsystem_devtype(u->monitor, "nvme", NULL);
        if (r < 0)
                return r;
        /* the kernel reports twice the size asked for (its bookkeeping overhead) */
        r = rcvbuf_set(udev_monitor_get_fd(u->monitor), STAS_UDEV_RCVBUF);
        if (r < 0)
                log_debug_errno(r, "Cannot set the udev monitor's receive buffer: %m");
        else
                log_debug(
                        "udev monitor receive buffer: %d bytes%s.",
                        r,
                        r < STAS_UDEV_RCVBUF ? " (capped by net.core.rmem_max without CAP_NET_ADMIN)" : "");
        r = udev_monitor_enable_receiving(u->monitor);
        if (r < 0)
                return r;
        return sd_event_add_io(
                u->event, &u->monitor_source, udev_monitor_get_fd(u->monitor), EPOLLIN, on_monitor, u);
}

int stas_udev_new(sd_event *event, StasUeventHandler handler, void *userdata, StasUdev **ret) {
        _cleanup_(stas_udev_freep) StasUdev *u = NULL;
        const char *hook = getenv("STAS_UEVENT_SOCKET");
        int r;

        if (!event || !handler || !ret)
                return -EINVAL;
        u = new0(StasUdev, 1);
        if (!u)
                return -ENOMEM;
        u->event = sd_event_ref(event);
        u->handler = handler;
        u->userdata = userdata;
        u->hook_fd = -1;

        if (!isempty(hook)) {
                r = hook_open(u, hook);
                if (r < 0)
                        return log_debug_errno(r, "Failed to bind test uevent socket %s: %m", hook);
        }
        r = monitor_open(u);
        if (r < 0) {
                if (isempty(hook))
                        return log_debug_errno(r, "Failed to open udev monitor: %m");
                log_debug_errno(r, "Failed to open udev monitor, using the test socket only: %m");
                u->monitor_source = sd_event_source_disable_unref(u->monitor_source);
        }

        *ret = TAKE_PTR(u);
        return 0;
}

/* ---- sysfs enumeration ---- */

StasNvmeDevice *nvmedev_free(StasNvmeDevice *d) {
        if (!d)
                return NULL;
        free(d->sysname);
        free(d->transport);
        free(d->traddr);
        free(d->trsvcid);
        free(d->host_traddr);
        free(d->host_iface);
        free(d->src_addr);
        free(d->address);
        free(d->subsysnqn);
        free(d->hostnqn);
        free(d->hostid);
        free(d->cntrltype);
        free(d->dctype);
        free(d->state);
        free(d->model);
        free(d->serial);
        free(d->firmware_rev);
        free(d->cntlid);
        free(d);
        return NULL;
}

StasNvmeDevice **nvmedev_list_free(StasNvmeDevice **l) {
        for (StasNvmeDevice **p = l; p && *p; p++)
                nvmedev_free(*p);
        free(l);
        return NULL;
}

char *address_parse_field(const char *address, const char *key) {
        size_t kl = strlen(key);
        const char *p = address;

        while (p && *p) {
                const char *end = p + strcspn(p, ",\n");

                if ((size_t) (end - p) > kl && strneq(p, key, kl) && p[kl] == '=') {
                        _cleanup_free_ char *v = strndup(p + kl + 1, end - p - kl - 1);

                        if (!v)
                                return NULL;
                        return strdup(kernel_value(v));
                }
                p = *end ? end + 1 : end;
        }
        return strdup("");
}

/* Read a sysfs attribute: at most 4095 bytes, trailing whitespace stripped, "" if missing. */
static int read_attr(int dirfd, const char *name, char **ret) {
        _cleanup_close_ int fd = -1;
        char buf[4096];
        ssize_t n;

        fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                n = 0;
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\t' || buf[n - 1] == 0))
                n--;
        buf[n] = 0;
        *ret = strndup(buf, strnlen(buf, (size_t) n));
        return *ret ? 0 : -ENOMEM;
}

static bool is_namespace_child(const char *name) {
        /* nvmeXnY or nvmeXcYnZ */
        const char *p = name;

        if (!strneq(p, "nvme", 4))
                return false;
        p += 4;
        if (*p < '0' || *p > '9')
                return false;
        p += strspn(p, "0123456789");
        if (*p == 'c') {
                p++;
                if (*p < '0' || *p > '9')
                        return false;
                p += strspn(p, "0123456789");
        }
        if (*p != 'n')
                return false;
        p++;
        return *p >= '0' && *p <= '9' && p[strspn(p, "0123456789")] == 0;
}

static int pick(char **dst, char *const *uevent_props, const char *key, const char *fallback) {
        const char *v = uevent_props ? prop_get(uevent_props, key) : NULL;

        *dst = strdup(v ? kernel_value(v) : strempty(fallback));
        return *dst ? 0 : -ENOMEM;
}

int nvmedev_read(const char *root, const char *sysname, StasNvmeDevice **ret) {
        _cleanup_(nvmedev_freep) StasNvmeDevice *d = NULL;
        _cleanup_free_ char *path = NULL, *uevent = NULL, *traddr = NULL, *trsvcid = NULL,
                            *host_traddr = NULL, *host_iface = NULL;
        _cleanup_strv_free_ char **props = NULL;
        _cleanup_close_ int dfd = -1;
        DIR *dir;
        struct dirent *de;
        int instance, r;

        instance = controller_instance(sysname);
        if (instance < 0)
                return -EINVAL;
        if (asprintf(&path, "%s/sys/class/nvme/%s", isempty(root) ? "" : root, sysname) < 0)
                return -ENOMEM;
        dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;

        d = new0(StasNvmeDevice, 1);
        if (!d)
                return -ENOMEM;
        d->instance = instance;
        d->sysname = strdup(sysname);
        if (!d->sysname)
                return -ENOMEM;

        if (read_attr(dfd, "address", &d->address) < 0 || read_attr(dfd, "subsysnqn", &d->subsysnqn) < 0 ||
            read_attr(dfd, "hostnqn", &d->hostnqn) < 0 || read_attr(dfd, "hostid", &d->hostid) < 0 ||
            read_attr(dfd, "cntrltype", &d->cntrltype) < 0 || read_attr(dfd, "dctype", &d->dctype) < 0 ||
            read_attr(dfd, "state", &d->state) < 0 || read_attr(dfd, "model", &d->model) < 0 ||
            read_attr(dfd, "serial", &d->serial) < 0 ||
            read_attr(dfd, "firmware_rev", &d->firmware_rev) < 0 ||
            read_attr(dfd, "cntlid", &d->cntlid) < 0 || read_attr(dfd, "transport", &d->transport) < 0 ||
            read_attr(dfd, "uevent", &uevent) < 0)
                return -ENOMEM;

        /* "(efault)" and "none" mean empty for every attribute stas looks at */
        for (char **a = (char *[]){ d->subsysnqn, d->hostnqn, d->hostid, d->cntrltype, d->dctype, NULL }; *a;
             a++)
                if (isempty(kernel_value(*a)))
                        **a = 0;

        props = strv_split(uevent, "\n");
        if (!props)
                return -ENOMEM;
        traddr = address_parse_field(d->address, "traddr");
        trsvcid = address_parse_field(d->address, "trsvcid");
        host_traddr = address_parse_field(d->address, "host_traddr");
        host_iface = address_parse_field(d->address, "host_iface");
        d->src_addr = address_parse_field(d->address, "src_addr");
        if (!traddr || !trsvcid || !host_traddr || !host_iface || !d->src_addr)
                return -ENOMEM;

        {
                _cleanup_free_ char *transport = TAKE_PTR(d->transport);

                r = pick(&d->transport, props, "NVME_TRTYPE", transport);
                if (r < 0)
                        return r;
        }
        if (pick(&d->traddr, props, "NVME_TRADDR", traddr) < 0 ||
            pick(&d->trsvcid, props, "NVME_TRSVCID", trsvcid) < 0 ||
            pick(&d->host_traddr, props, "NVME_HOST_TRADDR", host_traddr) < 0 ||
            pick(&d->host_iface, props, "NVME_HOST_IFACE", host_iface) < 0)
                return -ENOMEM;

        dir = fdopendir(TAKE_FD(dfd));
        if (dir) {
                while ((de = readdir(dir)))
                        if (is_namespace_child(de->d_name)) {
                                d->has_children = true;
                                break;
                        }
                closedir(dir);
        }

        *ret = TAKE_PTR(d);
        return 0;
}

static int cmp_instance(const void *a, const void *b) {
        const StasNvmeDevice *x = *(StasNvmeDevice *const *) a, *y = *(StasNvmeDevice *const *) b;

        return (x->instance > y->instance) - (x->instance < y->instance);
}

int nvmedev_enumerate(const char *root, StasNvmeDevice ***ret) {
        _cleanup_(nvmedev_list_freep) StasNvmeDevice **l = NULL;
        _cleanup_free_ char *path = NULL;
        size_t n = 0;
        DIR *dir;
        struct dirent *de;
        int r = 0;

        l = new0(StasNvmeDevice *, 1);
        if (!l)
                return -ENOMEM;
        if (asprintf(&path, "%s/sys/class/nvme", isempty(root) ? "" : root) < 0)
                return -ENOMEM;
        dir = opendir(path);
        if (!dir) {
                if (errno != ENOENT)
                        return -errno;
                *ret = TAKE_PTR(l);
                return 0;
        }
        while ((de = readdir(dir))) {
                StasNvmeDevice *d = NULL, **nl;

                if (controller_instance(de->d_name) < 0)
                        continue;
                r = nvmedev_read(root, de->d_name, &d);
                if (r == -ENOMEM)
                        break;
                if (r < 0) {
                        log_debug_errno(r, "Skipping %s: %m", de->d_name);
                        r = 0;
                        continue;
                }
                nl = reallocarray(l, n + 2, sizeof(*l));
                if (!nl) {
                        nvmedev_free(d);
                        r = -ENOMEM;
                        break;
                }
                l = nl;
                l[n++] = d;
                l[n] = NULL;
        }
        closedir(dir);
        if (r < 0)
                return r;
        qsort(l, n, sizeof(*l), cmp_instance);
        *ret = TAKE_PTR(l);
        return (int) n;
}

bool nvmedev_is_dc(const StasNvmeDevice *d) {
        if (!d)
                return false;
        /*
         * Kernels >= 5.18 say what the controller is. Only older ones need nvme-stas's
         * heuristics, whose "no namespaces yet" rule misreads an I/O controller that has just
         * connected (its namespaces appear in sysfs a little later).
         */
        if (!isempty(d->cntrltype))
                return streq(d->cntrltype, "discovery");
        return streq(d->subsysnqn, NVME_DISC_WKNQN) || !d->has_children;
}

bool nvmedev_is_ioc(const StasNvmeDevice *d) {
        if (!d)
                return false;
        if (!isempty(d->cntrltype))
                return streq(d->cntrltype, "io");
        return d->has_children;
}

void nvmedev_conn_id(const StasNvmeDevice *d, StasConnId *ret) {
        *ret = (StasConnId){
                .transport = d->transport,
                .traddr = d->traddr,
                .trsvcid = d->trsvcid,
                .subsysnqn = d->subsysnqn,
                .host_traddr = d->host_traddr,
                .host_iface = d->host_iface,
                .host_nqn = d->hostnqn,
                .src_addr = d->src_addr,
        };
}

bool nvmedev_same_connection(const StasNvmeDevice *a, const StasNvmeDevice *b) {
        return a && b && a->instance == b->instance && streq_ptr(a->transport, b->transport) &&
                streq_ptr(a->traddr, b->traddr) && streq_ptr(a->trsvcid, b->trsvcid) &&
                streq_ptr(a->host_traddr, b->host_traddr) && streq_ptr(a->host_iface, b->host_iface) &&
                streq_ptr(a->subsysnqn, b->subsysnqn);
}

bool nvmedev_same_identity(const StasNvmeDevice *a, const StasNvmeDevice *b) {
        return nvmedev_same_connection(a, b) && streq_ptr(a->cntlid, b->cntlid);
}
