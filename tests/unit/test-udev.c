/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ftw.h>
#include <libudev.h>
#include <linux/capability.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "stas/strv.h"
#include "stas/udev.h"

static int parse(StasUevent **ret, ...) {
        _cleanup_strv_free_ char **props = NULL;
        va_list ap;
        const char *s;

        va_start(ap, ret);
        while ((s = va_arg(ap, const char *)))
                assert_int_equal(strv_extend(&props, s), 0);
        va_end(ap);
        if (!props)
                props = new0(char *, 1);
        return uevent_parse(props, ret);
}

static void test_udev_parse_aen(void **state) {
        _cleanup_(uevent_freep) StasUevent *ev = NULL;

        assert_int_equal(
                parse(&ev,
                      "ACTION=change",
                      "SUBSYSTEM=nvme",
                      "DEVPATH=/devices/virtual/nvme-fabrics/ctl/nvme3",
                      "DEVNAME=/dev/nvme3",
                      "NVME_AEN=0x70f002",
                      "NVME_TRTYPE=tcp",
                      "NVME_TRADDR=192.168.1.1",
                      "NVME_TRSVCID=8009",
                      "NVME_HOST_TRADDR=none",
                      "NVME_HOST_IFACE=(efault)",
                      NULL),
                0);
        assert_int_equal(ev->action, STAS_UEVENT_CHANGE);
        assert_string_equal(ev->sysname, "nvme3");
        assert_int_equal(ev->instance, 3);
        assert_true(ev->has_aen);
        assert_int_equal(ev->aen, 0x70f002);
        assert_true(uevent_is_dlp_changed(ev));
        assert_int_equal(ev->nvme_event, STAS_NVME_EVENT_NONE);
        assert_string_equal(ev->trtype, "tcp");
        assert_string_equal(ev->traddr, "192.168.1.1");
        assert_string_equal(ev->trsvcid, "8009");
        assert_string_equal(ev->host_traddr, "");
        assert_string_equal(ev->host_iface, "");
}

static void test_udev_parse_events_and_names(void **state) {
        _cleanup_(uevent_freep) StasUevent *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL;

        assert_int_equal(
                parse(&a, "ACTION=change", "SUBSYSTEM=nvme", "SYSNAME=nvme0", "NVME_EVENT=connected", NULL),
                0);
        assert_int_equal(a->nvme_event, STAS_NVME_EVENT_CONNECTED);
        assert_false(a->has_aen);
        assert_false(uevent_is_dlp_changed(a));
        assert_string_equal(a->traddr, "");

        assert_int_equal(
                parse(&b,
                      "ACTION=change",
                      "SUBSYSTEM=nvme",
                      "DEVPATH=/x/nvme12",
                      "NVME_EVENT=rediscover",
                      NULL),
                0);
        assert_int_equal(b->nvme_event, STAS_NVME_EVENT_REDISCOVER);
        assert_string_equal(b->sysname, "nvme12");

        assert_int_equal(
                parse(&c, "ACTION=change", "SUBSYSTEM=nvme", "SYSNAME=nvme1", "NVME_EVENT=discovery", NULL),
                0);
        assert_int_equal(c->nvme_event, STAS_NVME_EVENT_OTHER);

        assert_int_equal(parse(&d, "ACTION=add", "SUBSYSTEM=nvme", "DEVNAME=/dev/nvme7", NULL), 0);
        assert_int_equal(d->action, STAS_UEVENT_ADD);
        assert_int_equal(d->instance, 7);

        /* another AEN is not a DLP change */
        assert_int_equal(
                parse(&e, "ACTION=change", "SUBSYSTEM=nvme", "SYSNAME=nvme2", "NVME_AEN=0x000102", NULL), 0);
        assert_int_equal(e->aen, 0x102);
        assert_false(uevent_is_dlp_changed(e));
}

static void test_udev_parse_rejects(void **state) {
        StasUevent *ev = NULL;

        /* malformed */
        assert_int_equal(parse(&ev, NULL), -EBADMSG);
        assert_int_equal(parse(&ev, "SUBSYSTEM=nvme", "SYSNAME=nvme0", NULL), -EBADMSG);
        assert_int_equal(parse(&ev, "ACTION=change", "SYSNAME=nvme0", NULL), -EBADMSG);
        assert_int_equal(parse(&ev, "ACTION=change", "SUBSYSTEM=nvme", NULL), -EBADMSG);
        assert_int_equal(
                parse(&ev, "ACTION=change", "SUBSYSTEM=nvme", "SYSNAME=nvme0", "garbage", NULL), -EBADMSG);
        assert_int_equal(
                parse(&ev, "ACTION=change", "SUBSYSTEM=nvme", "SYSNAME=nvme0", "=x", NULL), -EBADMSG);
        assert_int_equal(
                parse(&ev, "ACTION=change", "SUBSYSTEM=nvme", "SYSNAME=nvme0", "NVME_AEN=0xzz", NULL),
                -EBADMSG);
        assert_int_equal(
                parse(&ev, "ACTION=change", "SUBSYSTEM=nvme", "SYSNAME=nvme0", "NVME_AEN=", NULL), -EBADMSG);
        assert_int_equal(
                parse(&ev, "ACTION=change", "SUBSYSTEM=nvme", "SYSNAME=nvme0", "NVME_AEN=0x1ffffffff", NULL),
                -EBADMSG);
        assert_int_equal(
                parse(&ev, "ACTION=change", "SUBSYSTEM=nvme", "SYSNAME=nvme0", "NVME_AEN=-1", NULL),
                -EBADMSG);
        /* valid, but not for us */
        assert_int_equal(parse(&ev, "ACTION=change", "SUBSYSTEM=block", "SYSNAME=nvme0", NULL), -EOPNOTSUPP);
        assert_int_equal(parse(&ev, "ACTION=bind", "SUBSYSTEM=nvme", "SYSNAME=nvme0", NULL), -EOPNOTSUPP);
        assert_int_equal(parse(&ev, "ACTION=add", "SUBSYSTEM=nvme", "SYSNAME=nvme0n1", NULL), -EOPNOTSUPP);
        assert_int_equal(
                parse(&ev, "ACTION=add", "SUBSYSTEM=nvme", "SYSNAME=nvme-fabrics", NULL), -EOPNOTSUPP);
        assert_int_equal(parse(&ev, "ACTION=add", "SUBSYSTEM=nvme", "SYSNAME=nvme01", NULL), -EOPNOTSUPP);
        assert_int_equal(
                parse(&ev, "ACTION=add", "SUBSYSTEM=nvme", "SYSNAME=nvme99999999999", NULL), -EOPNOTSUPP);
        assert_null(ev);
}

static void test_udev_parse_datagram(void **state) {
        static const char nul[] = "ACTION=remove\0SUBSYSTEM=nvme\0SYSNAME=nvme4\0";
        static const char nl[] = "ACTION=change\nSUBSYSTEM=nvme\n\nDEVNAME=/dev/nvme5\nNVME_AEN=0x70f002";
        _cleanup_(uevent_freep) StasUevent *a = NULL, *b = NULL;
        StasUevent *c = NULL;

        assert_int_equal(uevent_parse_datagram(nul, sizeof(nul) - 1, &a), 0);
        assert_int_equal(a->action, STAS_UEVENT_REMOVE);
        assert_int_equal(a->instance, 4);
        assert_int_equal(uevent_parse_datagram(nl, strlen(nl), &b), 0);
        assert_true(uevent_is_dlp_changed(b));
        assert_string_equal(b->sysname, "nvme5");
        assert_int_equal(uevent_parse_datagram("", 0, &c), -EBADMSG);
        assert_int_equal(uevent_parse_datagram("\n\0\n", 3, &c), -EBADMSG);
        /* a datagram cut in the middle of a key loses its '=' */
        assert_int_equal(uevent_parse_datagram(nul, 20, &c), -EBADMSG);
}

/* The hook's overflow datagram: exactly "ENOBUFS", trailing NULs and newlines allowed. */
static void test_udev_overflow_datagram(void **state) {
        StasUevent *ev = NULL;

        assert_true(uevent_datagram_is_overflow("ENOBUFS", 7));
        assert_true(uevent_datagram_is_overflow("ENOBUFS\0", 8));
        assert_true(uevent_datagram_is_overflow("ENOBUFS\n", 8));
        assert_true(uevent_datagram_is_overflow("ENOBUFS\n\0\n", 10));
        assert_false(uevent_datagram_is_overflow("ENOBUFS", 6));
        assert_false(uevent_datagram_is_overflow("ENOBUFSX", 8));
        assert_false(uevent_datagram_is_overflow("xENOBUFS", 8));
        assert_false(uevent_datagram_is_overflow("ENOBUFS\0ACTION=add", 18));
        assert_false(uevent_datagram_is_overflow("enobufs", 7));
        assert_false(uevent_datagram_is_overflow("ACTION=change\0SUBSYSTEM=nvme\0SYSNAME=nvme0\0", 42));
        assert_false(uevent_datagram_is_overflow("\n\0", 2));
        assert_false(uevent_datagram_is_overflow("", 0));
        assert_false(uevent_datagram_is_overflow(NULL, 7));
        /* never an event to the parser either */
        assert_int_equal(uevent_parse_datagram("ENOBUFS", 7, &ev), -EBADMSG);
        assert_null(ev);
}

/*
 * The identity of a device: the connection and the subsystem (nvmedev_same_connection()), plus
 * the cntlid (nvmedev_same_identity()). What the kernel shows only at times (src_addr) or what
 * may change on the same controller (state, model...) is not part of it.
 */
static void test_udev_device_identity(void **state) {
        const StasNvmeDevice a = {
                .sysname = (char *) "nvme3",
                .instance = 3,
                .transport = (char *) "tcp",
                .traddr = (char *) "192.168.1.1",
                .trsvcid = (char *) "4420",
                .host_traddr = (char *) "",
                .host_iface = (char *) "eth0",
                .src_addr = (char *) "192.168.1.10",
                .subsysnqn = (char *) "nqn.io1",
                .state = (char *) "live",
                .model = (char *) "Linux",
                .cntlid = (char *) "5",
        };
        StasNvmeDevice b = a;

        assert_true(nvmedev_same_connection(&a, &b));
        assert_true(nvmedev_same_identity(&a, &b));
        b.src_addr = (char *) "";
        b.state = (char *) "connecting";
        b.model = (char *) "Other";
        assert_true(nvmedev_same_identity(&a, &b));

        /* a new association (the target's new cntlid): same connection, not the same device */
        b.cntlid = (char *) "6";
        assert_true(nvmedev_same_connection(&a, &b));
        assert_false(nvmedev_same_identity(&a, &b));
        b.cntlid = (char *) "";
        assert_false(nvmedev_same_identity(&a, &b));
        b.cntlid = a.cntlid;

#define DIFFERS(field, value)                                  \
        do {                                                   \
                b = a;                                         \
                b.field = value;                               \
                assert_false(nvmedev_same_connection(&a, &b)); \
                assert_false(nvmedev_same_identity(&a, &b));   \
                assert_false(nvmedev_same_identity(&b, &a));   \
        } while (0)
        DIFFERS(instance, 4);
        DIFFERS(transport, (char *) "rdma");
        DIFFERS(traddr, (char *) "192.168.1.2");
        DIFFERS(trsvcid, (char *) "4421");
        DIFFERS(host_traddr, (char *) "192.168.1.10");
        DIFFERS(host_iface, (char *) "eth1");
        DIFFERS(subsysnqn, (char *) "nqn.io2");
        DIFFERS(traddr, NULL);
#undef DIFFERS
        assert_false(nvmedev_same_connection(&a, NULL));
        assert_false(nvmedev_same_connection(NULL, &a));
        assert_false(nvmedev_same_identity(NULL, NULL));
}

/* ---- sysfs tree ---- */

static void write_file(const char *dir, const char *name, const char *content) {
        _cleanup_free_ char *p = NULL;
        FILE *f;

        assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
        f = fopen(p, "we");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

static char *make_ctrl(const char *root, const char *name) {
        char *p;

        assert_true(asprintf(&p, "%s/sys/class/nvme/%s", root, name) > 0);
        assert_int_equal(mkdir(p, 0755), 0);
        return p;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static void test_udev_enumerate_sysfs(void **state) {
        char root[] = "/tmp/stas-test-udev-XXXXXX";
        _cleanup_free_ char *p = NULL, *c0 = NULL, *c1 = NULL, *c10 = NULL, *child = NULL;
        _cleanup_(nvmedev_list_freep) StasNvmeDevice **l = NULL, **none = NULL;
        StasConnId cid;

        assert_non_null(mkdtemp(root));
        /* no /sys/class/nvme: nothing, not an error */
        assert_int_equal(nvmedev_enumerate(root, &none), 0);
        assert_null(none[0]);

        assert_true(asprintf(&p, "%s/sys", root) > 0);
        assert_int_equal(mkdir(p, 0755), 0);
        free(p);
        assert_true(asprintf(&p, "%s/sys/class", root) > 0);
        assert_int_equal(mkdir(p, 0755), 0);
        free(p);
        assert_true(asprintf(&p, "%s/sys/class/nvme", root) > 0);
        assert_int_equal(mkdir(p, 0755), 0);

        /* a DC (kernel >= 6.1 address with src_addr), udev properties in the uevent file */
        c0 = make_ctrl(root, "nvme0");
        write_file(
                c0,
                "uevent",
                "MAJOR=240\nMINOR=0\nDEVNAME=nvme0\nNVME_TRTYPE=tcp\nNVME_TRADDR=192.168.1.1\n"
                "NVME_TRSVCID=8009\nNVME_HOST_TRADDR=none\nNVME_HOST_IFACE=eth0\n");
        write_file(c0, "address", "traddr=192.168.1.1,trsvcid=8009,host_iface=eth0,src_addr=192.168.1.10\n");
        write_file(c0, "transport", "tcp\n");
        write_file(c0, "subsysnqn", "nqn.2014-08.org.nvmexpress.discovery\n");
        write_file(c0, "hostnqn", "nqn.host\n");
        write_file(c0, "cntrltype", "discovery\n");
        write_file(c0, "dctype", "cdc\n");
        write_file(c0, "state", "live\n");
        write_file(c0, "cntlid", "5\n");

        /* an IOC with a namespace, no uevent file: fields from transport/address */
        c1 = make_ctrl(root, "nvme1");
        write_file(c1, "address", "traddr=10.0.0.2,trsvcid=4420,host_traddr=10.0.0.1\n");
        write_file(c1, "transport", "rdma\n");
        write_file(c1, "subsysnqn", "nqn.io\n");
        write_file(c1, "cntrltype", "(efault)\n");
        write_file(c1, "model", "Linux  \n");
        assert_true(asprintf(&child, "%s/nvme1c1n1", c1) > 0);
        assert_int_equal(mkdir(child, 0755), 0);

        c10 = make_ctrl(root, "nvme10");
        write_file(c10, "transport", "fc\n");
        /* not controllers */
        free(make_ctrl(root, "nvme-fabrics"));
        free(make_ctrl(root, "nvme2n1"));

        assert_int_equal(nvmedev_enumerate(root, &l), 3);
        assert_string_equal(l[0]->sysname, "nvme0");
        assert_string_equal(l[1]->sysname, "nvme1");
        assert_string_equal(l[2]->sysname, "nvme10");
        assert_null(l[3]);

        assert_string_equal(l[0]->transport, "tcp");
        assert_string_equal(l[0]->traddr, "192.168.1.1");
        assert_string_equal(l[0]->host_traddr, "");
        assert_string_equal(l[0]->host_iface, "eth0");
        assert_string_equal(l[0]->src_addr, "192.168.1.10");
        assert_string_equal(l[0]->dctype, "cdc");
        assert_string_equal(l[0]->state, "live");
        assert_string_equal(l[0]->cntlid, "5");
        assert_string_equal(l[1]->cntlid, "");
        assert_string_equal(l[0]->serial, "");
        assert_false(l[0]->has_children);
        assert_true(nvmedev_is_dc(l[0]));
        assert_false(nvmedev_is_ioc(l[0]));

        assert_string_equal(l[1]->transport, "rdma");
        assert_string_equal(l[1]->traddr, "10.0.0.2");
        assert_string_equal(l[1]->trsvcid, "4420");
        assert_string_equal(l[1]->host_traddr, "10.0.0.1");
        assert_string_equal(l[1]->src_addr, "");
        assert_string_equal(l[1]->cntrltype, "");
        assert_string_equal(l[1]->model, "Linux");
        assert_true(l[1]->has_children);
        assert_true(nvmedev_is_ioc(l[1]));
        assert_false(nvmedev_is_dc(l[1]));

        nvmedev_conn_id(l[0], &cid);
        {
                _cleanup_(tid_freep) StasTid *t = tid_new(
                        "tcp", "192.168.1.1", "8009", NVME_DISC_WKNQN, "192.168.1.10", "", "nqn.host");

                assert_true(match_cid_tid(&cid, t, NULL));
        }

        {
                StasNvmeDevice *d = NULL;

                assert_int_equal(nvmedev_read(root, "nvme5", &d), -ENOENT);
                assert_int_equal(nvmedev_read(root, "../etc", &d), -EINVAL);
        }
        assert_int_equal(nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static void test_udev_address_parse(void **state) {
        _cleanup_free_ char *a =
                address_parse_field("traddr=1.1.1.1,trsvcid=none,src_addr=2.2.2.2\n", "src_addr");
        _cleanup_free_ char *b = address_parse_field("traddr=1.1.1.1,trsvcid=none\n", "trsvcid");
        _cleanup_free_ char *c = address_parse_field("xtraddr=1,traddr=3", "traddr");
        _cleanup_free_ char *d = address_parse_field("", "traddr");

        assert_string_equal(a, "2.2.2.2");
        assert_string_equal(b, "");
        assert_string_equal(c, "3");
        assert_string_equal(d, "");
}

/* ---- monitor with the datagram hook on a real sd-event loop ---- */

typedef struct Seen {
        unsigned n;
        StasUeventAction action;
        int instance;
        bool dlp_changed;
        unsigned overflows;
        bool overflow_bad; /* an overflow event not shaped as udev.h says */
} Seen;

static void on_event(const StasUevent *ev, void *userdata) {
        Seen *s = userdata;

        if (ev->action == STAS_UEVENT_OVERFLOW) {
                s->overflows++;
                s->overflow_bad |= ev->sysname || ev->instance != -1 || !ev->trtype || *ev->trtype ||
                        !ev->traddr || !ev->trsvcid || !ev->host_traddr || !ev->host_iface;
                return;
        }
        s->n++;
        s->action = ev->action;
        s->instance = ev->instance;
        s->dlp_changed = uevent_is_dlp_changed(ev);
}

static void send_dgram(const char *path, const char *buf, size_t len) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        strcpy(sa.sun_path, path);
        assert_int_equal(sendto(fd, buf, len, 0, (struct sockaddr *) &sa, sizeof(sa)), (ssize_t) len);
}

static void test_udev_monitor_datagram_hook(void **state) {
        char dir[] = "/tmp/stas-test-uevent-XXXXXX";
        _cleanup_free_ char *path = NULL;
        sd_event *e = NULL;
        StasUdev *u = NULL;
        Seen seen = {};
        static const char bad[] = "ACTION=change\0SUBSYSTEM=nvme\0SYSNAME=nvme0\0NVME_AEN=bogus\0";
        static const char other[] = "ACTION=add\0SUBSYSTEM=block\0SYSNAME=sda\0";
        static const char good[] = "ACTION=change\0SUBSYSTEM=nvme\0SYSNAME=nvme6\0NVME_AEN=0x70f002\0";
        struct stat st;

        assert_non_null(mkdtemp(dir));
        assert_true(asprintf(&path, "%s/uevent.sock", dir) > 0);
        assert_int_equal(setenv("STAS_UEVENT_SOCKET", path, 1), 0);
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(stas_udev_new(e, on_event, &seen, &u), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_true(S_ISSOCK(st.st_mode));

        send_dgram(path, bad, sizeof(bad) - 1);
        send_dgram(path, other, sizeof(other) - 1);
        send_dgram(path, good, sizeof(good) - 1);
        /* all three are queued; one dispatch reads them all. Bounded: never hang. */
        for (int i = 0; i < 50 && seen.n == 0; i++)
                assert_true(sd_event_run(e, 100 * 1000) >= 0);

        assert_int_equal(seen.n, 1);
        assert_int_equal(seen.action, STAS_UEVENT_CHANGE);
        assert_int_equal(seen.instance, 6);
        assert_true(seen.dlp_changed);

        u = stas_udev_free(u);
        assert_int_equal(stat(path, &st), -1);
        sd_event_unref(e);
        unsetenv("STAS_UEVENT_SOCKET");
        assert_int_equal(rmdir(dir), 0);
}

/*
 * The hook's "ENOBUFS" datagram is an overflow: one STAS_UEVENT_OVERFLOW after what was
 * queued with it (overflows reported before it is delivered are merged), then one per new one.
 */
static void test_udev_monitor_hook_overflow(void **state) {
        char dir[] = "/tmp/stas-test-uevent-XXXXXX";
        _cleanup_free_ char *path = NULL;
        sd_event *e = NULL;
        StasUdev *u = NULL;
        Seen seen = {};
        static const char good[] = "ACTION=remove\0SUBSYSTEM=nvme\0SYSNAME=nvme2\0";

        assert_non_null(mkdtemp(dir));
        assert_true(asprintf(&path, "%s/uevent.sock", dir) > 0);
        assert_int_equal(setenv("STAS_UEVENT_SOCKET", path, 1), 0);
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(stas_udev_new(e, on_event, &seen, &u), 0);

        send_dgram(path, "ENOBUFS", 7);
        send_dgram(path, good, sizeof(good) - 1);
        send_dgram(path, "ENOBUFS\n", 8);
        send_dgram(path, "ENOBUFS\0", 8);
        for (int i = 0; i < 50 && seen.overflows == 0; i++)
                assert_true(sd_event_run(e, 100 * 1000) >= 0);
        assert_int_equal(seen.overflows, 1);
        assert_false(seen.overflow_bad);
        assert_int_equal(seen.n, 1); /* the event between the overflows is delivered too */
        assert_int_equal(seen.action, STAS_UEVENT_REMOVE);

        /* fence: an event sent later is seen, and no second overflow came before it */
        send_dgram(path, good, sizeof(good) - 1);
        for (int i = 0; i < 50 && seen.n < 2; i++)
                assert_true(sd_event_run(e, 100 * 1000) >= 0);
        assert_int_equal(seen.n, 2);
        assert_int_equal(seen.overflows, 1);

        send_dgram(path, "ENOBUFS", 7);
        for (int i = 0; i < 50 && seen.overflows < 2; i++)
                assert_true(sd_event_run(e, 100 * 1000) >= 0);
        assert_int_equal(seen.overflows, 2);

        u = stas_udev_free(u);
        sd_event_unref(e);
        unsetenv("STAS_UEVENT_SOCKET");
        assert_int_equal(rmdir(dir), 0);
}

/*
 * The netlink monitor's receive path, with libudev's receive and fd replaced at link time
 * (-Wl,--wrap, tests/unit/meson.build): the monitor's fd is one end of a socketpair; each byte
 * sent to the other end makes it readable once, and the fake receive then reports the next
 * errno of the script with a NULL device, as libudev 252 does.
 */
struct udev_device *__real_udev_monitor_receive_device(struct udev_monitor *m);
int __real_udev_monitor_get_fd(struct udev_monitor *m);
struct udev_device *__wrap_udev_monitor_receive_device(struct udev_monitor *m);
int __wrap_udev_monitor_get_fd(struct udev_monitor *m);

static struct {
        bool on;
        int fd;
        int errnos[8];
        unsigned n, next;
} wrap;

int __wrap_udev_monitor_get_fd(struct udev_monitor *m) {
        return wrap.on ? wrap.fd : __real_udev_monitor_get_fd(m);
}

struct udev_device *__wrap_udev_monitor_receive_device(struct udev_monitor *m) {
        char b;

        if (!wrap.on)
                return __real_udev_monitor_receive_device(m);
        if (recv(wrap.fd, &b, 1, MSG_DONTWAIT) != 1) {
                errno = EAGAIN;
                return NULL;
        }
        errno = wrap.next < wrap.n ? wrap.errnos[wrap.next++] : EAGAIN;
        return NULL;
}

static int rcvbuf_of(int fd) {
        int v = 0;
        socklen_t l = sizeof(v);

        assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &l), 0);
        return v;
}

static int rmem_max(void) {
        FILE *f = fopen("/proc/sys/net/core/rmem_max", "re");
        int v = -1;

        assert_non_null(f);
        assert_int_equal(fscanf(f, "%d", &v), 1);
        fclose(f);
        return v;
}

static bool have_cap_net_admin(void) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2] = {};

        assert_int_equal(syscall(SYS_capget, &h, d), 0);
        return d[CAP_NET_ADMIN / 32].effective & (1u << (CAP_NET_ADMIN % 32));
}

/* A monitor on a fresh socketpair end: the receive buffer the kernel reports for it. */
static int monitor_rcvbuf(void) {
        sd_event *e = NULL;
        StasUdev *u = NULL;
        Seen seen = {};
        int sp[2], v, r;

        if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sp) < 0)
                return -errno;
        wrap = (typeof(wrap)){ .on = true, .fd = sp[0] };
        r = sd_event_new(&e);
        if (r >= 0)
                r = stas_udev_new(e, on_event, &seen, &u);
        v = r < 0 ? r : rcvbuf_of(sp[0]);
        stas_udev_free(u);
        sd_event_unref(e);
        wrap.on = false;
        close(sp[0]);
        close(sp[1]);
        return v;
}

/*
 * The monitor asks for STAS_UDEV_RCVBUF: with CAP_NET_ADMIN it gets it (SO_RCVBUFFORCE); without,
 * what net.core.rmem_max allows (SO_RCVBUF). The kernel reports twice the size set.
 */
static void test_udev_monitor_receive_buffer(void **state) {
        int capped = 2 * (rmem_max() < STAS_UDEV_RCVBUF ? rmem_max() : STAS_UDEV_RCVBUF);
        pid_t pid;
        int status;

        unsetenv("STAS_UEVENT_SOCKET");
        if (!have_cap_net_admin()) {
                assert_int_equal(monitor_rcvbuf(), capped);
                return;
        }
        assert_int_equal(monitor_rcvbuf(), 2 * STAS_UDEV_RCVBUF);

        /* the same without CAP_NET_ADMIN, in a child that drops it */
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
                struct __user_cap_data_struct d[2] = {};

                if (syscall(SYS_capget, &h, d) < 0)
                        _exit(2);
                d[CAP_NET_ADMIN / 32].effective &= ~(1u << (CAP_NET_ADMIN % 32));
                if (syscall(SYS_capset, &h, d) < 0 || have_cap_net_admin())
                        _exit(3);
                _exit(monitor_rcvbuf() == capped ? 0 : 1);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

/* libudev's way of saying that the kernel dropped events (NULL, errno ENOBUFS) is an overflow. */
static void test_udev_monitor_enobufs(void **state) {
        sd_event *e = NULL;
        StasUdev *u = NULL;
        Seen seen = {};
        int sp[2];

        unsetenv("STAS_UEVENT_SOCKET");
        assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sp), 0);
        /* a message the filter dropped (EAGAIN), an interrupted receive, then the overflow */
        wrap = (typeof(wrap)){ .on = true, .fd = sp[0], .errnos = { EAGAIN, EINTR, ENOBUFS }, .n = 3 };
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(stas_udev_new(e, on_event, &seen, &u), 0);

        assert_int_equal(send(sp[1], "x", 1, 0), 1);
        assert_int_equal(send(sp[1], "x", 1, 0), 1);
        assert_int_equal(send(sp[1], "x", 1, 0), 1);
        for (int i = 0; i < 50 && (seen.overflows == 0 || wrap.next < 3); i++)
                assert_true(sd_event_run(e, 100 * 1000) >= 0);
        assert_int_equal(wrap.next, 3);
        /* whatever is still due runs now; the first two receives made none */
        for (int i = 0; i < 10; i++)
                assert_true(sd_event_run(e, 0) >= 0);
        assert_int_equal(seen.overflows, 1);
        assert_false(seen.overflow_bad);
        assert_int_equal(seen.n, 0);

        /* each later overflow is reported again */
        wrap.errnos[3] = ENOBUFS;
        wrap.n = 4;
        assert_int_equal(send(sp[1], "x", 1, 0), 1);
        for (int i = 0; i < 50 && seen.overflows < 2; i++)
                assert_true(sd_event_run(e, 100 * 1000) >= 0);
        assert_int_equal(seen.overflows, 2);

        u = stas_udev_free(u);
        sd_event_unref(e);
        wrap.on = false;
        close(sp[0]);
        close(sp[1]);
}

static void test_udev_dc_ioc_classification(void **state) {
        StasNvmeDevice d = {
                .subsysnqn = (char *) "nqn.io",
                .cntrltype = (char *) "io",
                .has_children = false, /* namespaces not scanned yet */
        };

        /* the kernel's cntrltype wins over the "no children" heuristic */
        assert_true(nvmedev_is_ioc(&d));
        assert_false(nvmedev_is_dc(&d));
        d.cntrltype = (char *) "discovery";
        d.subsysnqn = (char *) "nqn.unique-dc";
        d.has_children = true;
        assert_true(nvmedev_is_dc(&d));
        assert_false(nvmedev_is_ioc(&d));
        /* older kernels: nvme-stas's heuristics */
        d.cntrltype = (char *) "";
        d.has_children = false;
        assert_true(nvmedev_is_dc(&d));
        assert_false(nvmedev_is_ioc(&d));
        d.has_children = true;
        assert_false(nvmedev_is_dc(&d));
        assert_true(nvmedev_is_ioc(&d));
        d.subsysnqn = (char *) NVME_DISC_WKNQN;
        assert_true(nvmedev_is_dc(&d));
        assert_false(nvmedev_is_dc(NULL));
        assert_false(nvmedev_is_ioc(NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_udev_parse_aen),
                cmocka_unit_test(test_udev_parse_events_and_names),
                cmocka_unit_test(test_udev_parse_rejects),
                cmocka_unit_test(test_udev_parse_datagram),
                cmocka_unit_test(test_udev_enumerate_sysfs),
                cmocka_unit_test(test_udev_address_parse),
                cmocka_unit_test(test_udev_overflow_datagram),
                cmocka_unit_test(test_udev_device_identity),
                cmocka_unit_test(test_udev_monitor_datagram_hook),
                cmocka_unit_test(test_udev_monitor_hook_overflow),
                cmocka_unit_test(test_udev_monitor_receive_buffer),
                cmocka_unit_test(test_udev_monitor_enobufs),
                cmocka_unit_test(test_udev_dc_ioc_classification),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
