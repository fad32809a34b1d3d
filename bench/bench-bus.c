/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-bus.c - D-Bus client side of bench/list-controllers-flood (not a test). It talks to a
 * daemon on the bus at ADDRESS (a private dbus-daemon) and prints one JSON object:
 *
 *   bench-bus ADDRESS serial N [detailed|short|ping]
 *      N sequential calls from one connection: list_controllers(true) (detailed, the default),
 *      list_controllers(false) (short), or org.freedesktop.DBus.Peer.Ping (ping: the round trip
 *      through dbus-daemon without the daemon's own work). The wall time of each call (send to
 *      reply parsed): {"calls", "mean_ms", "p50_ms", "p99_ms", "max_ms"}.
 *   bench-bus ADDRESS flood RATE SECONDS
 *      Two connections, one thread each. The flood client sends list_controllers(true) at RATE
 *      calls/s (asynchronously, at most FLOOD_INFLIGHT unanswered); the probe client, another
 *      caller, makes one list_controllers(false) call every PROBE_PERIOD_MS and records its
 *      latency. {"probe_calls", "probe_p50_ms", "probe_p99_ms", "probe_max_ms", "flood_sent",
 *      "flood_replies", "flood_errors", "flood_rate"}.
 *
 * The service is org.nvmexpress.stac by default; BENCH_SERVICE=staf selects stafd.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

#define FLOOD_INFLIGHT 128
#define PROBE_PERIOD_MS 10

static const char *address, *service = "org.nvmexpress.stac", *path = "/org/nvmexpress/stac";

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

static sd_bus *bus_connect(void) {
        sd_bus *b = NULL;
        int r;

        r = sd_bus_new(&b);
        if (r >= 0)
                r = sd_bus_set_address(b, address);
        if (r >= 0)
                r = sd_bus_set_bus_client(b, 1);
        if (r >= 0)
                r = sd_bus_start(b);
        if (r < 0) {
                fprintf(stderr, "bench-bus: cannot connect to %s: %s\n", address, strerror(-r));
                exit(2);
        }
        return b;
}

typedef enum Call {
        CALL_DETAILED, /* list_controllers(true) */
        CALL_SHORT,    /* list_controllers(false) */
        CALL_PING,     /* org.freedesktop.DBus.Peer.Ping: the round trip without the daemon's work */
} Call;

/* One synchronous call; the reply is read to the end. Return: 0 or -errno. */
static int call_one(sd_bus *b, Call what) {
        sd_bus_error err = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        int r;

        if (what == CALL_PING)
                r = sd_bus_call_method(
                        b, service, path, "org.freedesktop.DBus.Peer", "Ping", &err, &reply, "");
        else {
                r = sd_bus_call_method(
                        b,
                        service,
                        path,
                        service,
                        "list_controllers",
                        &err,
                        &reply,
                        "b",
                        what == CALL_DETAILED);
                if (r >= 0)
                        r = sd_bus_message_skip(reply, "aa{ss}");
        }
        sd_bus_error_free(&err);
        sd_bus_message_unref(reply);
        return r < 0 ? r : 0;
}

static int call_list(sd_bus *b, bool detailed) {
        return call_one(b, detailed ? CALL_DETAILED : CALL_SHORT);
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

static double pct_ms(uint64_t *v, size_t n, double p) {
        size_t i = (size_t) (p * (double) (n - 1) + 0.5);
        return n ? (double) v[i] / 1000.0 : 0.0;
}

static int serial(unsigned n, Call what) {
        uint64_t *v = calloc(n, sizeof *v), sum = 0;
        sd_bus *b = bus_connect();

        if (!v || n == 0)
                return 2;
        (void) call_one(b, what); /* warm up */
        for (unsigned i = 0; i < n; i++) {
                uint64_t t0 = now_usec();

                if (call_one(b, what) < 0) {
                        fprintf(stderr, "bench-bus: call failed\n");
                        return 1;
                }
                v[i] = now_usec() - t0;
                sum += v[i];
        }
        qsort(v, n, sizeof *v, cmp_u64);
        printf("{\"calls\": %u, \"mean_ms\": %.4f, \"p50_ms\": %.4f, \"p99_ms\": %.4f, \"max_ms\": %.4f}\n",
               n,
               (double) sum / n / 1000.0,
               pct_ms(v, n, 0.50),
               pct_ms(v, n, 0.99),
               (double) v[n - 1] / 1000.0);
        sd_bus_flush_close_unref(b);
        free(v);
        return 0;
}

typedef struct Flood {
        unsigned rate;
        uint64_t end;
        unsigned inflight, sent, replies, errors;
} Flood;

static int flood_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Flood *f = userdata;

        f->inflight--;
        if (sd_bus_message_is_method_error(m, NULL))
                f->errors++;
        else
                f->replies++;
        return 0;
}

static void *flood_thread(void *userdata) {
        Flood *f = userdata;
        sd_bus *b = bus_connect();
        uint64_t next = now_usec(), period = 1000000ULL / f->rate;

        while (now_usec() < f->end) {
                uint64_t t = now_usec();

                while (next <= t && f->inflight < FLOOD_INFLIGHT) {
                        int r = sd_bus_call_method_async(
                                b, NULL, service, path, service, "list_controllers", flood_reply, f, "b", 1);

                        if (r >= 0) {
                                f->inflight++;
                                f->sent++;
                        }
                        next += period;
                }
                if (next <= t) /* at the in-flight cap: drop the missed slots, do not burst later */
                        next = t + period;
                while (sd_bus_process(b, NULL) > 0)
                        ;
                (void) sd_bus_wait(b, next > now_usec() ? next - now_usec() : 0);
        }
        sd_bus_flush_close_unref(b);
        return NULL;
}

static int flood(unsigned rate, unsigned seconds) {
        size_t cap = (size_t) seconds * 1000 / PROBE_PERIOD_MS + 16, n = 0;
        uint64_t *v = calloc(cap, sizeof *v), start, next;
        Flood f = { .rate = rate };
        sd_bus *probe = bus_connect();
        pthread_t th;

        if (!v || rate == 0)
                return 2;
        start = now_usec();
        f.end = start + (uint64_t) seconds * 1000000ULL;
        if (pthread_create(&th, NULL, flood_thread, &f) != 0)
                return 2;
        /* let the flood reach its rate before measuring */
        next = start + 500000ULL;
        while (n < cap) {
                uint64_t t0 = now_usec();
                struct timespec ts;

                if (t0 + 100000ULL >= f.end)
                        break;
                if (t0 < next) {
                        ts = (struct timespec){ .tv_nsec = (long) ((next - t0) * 1000ULL) };
                        nanosleep(&ts, NULL);
                        continue;
                }
                t0 = now_usec();
                if (call_list(probe, false) < 0) {
                        fprintf(stderr, "bench-bus: probe call failed\n");
                        return 1;
                }
                v[n++] = now_usec() - t0;
                next += PROBE_PERIOD_MS * 1000ULL;
                if (next < now_usec())
                        next = now_usec();
        }
        pthread_join(th, NULL);
        qsort(v, n, sizeof *v, cmp_u64);
        printf("{\"probe_calls\": %zu, \"probe_p50_ms\": %.3f, \"probe_p99_ms\": %.3f, \"probe_max_ms\": %.3f, "
               "\"flood_sent\": %u, \"flood_replies\": %u, \"flood_errors\": %u, \"flood_rate\": %.0f}\n",
               n,
               pct_ms(v, n, 0.50),
               pct_ms(v, n, 0.99),
               n ? (double) v[n - 1] / 1000.0 : 0.0,
               f.sent,
               f.replies,
               f.errors,
               (double) f.replies / seconds);
        sd_bus_flush_close_unref(probe);
        free(v);
        return 0;
}

int main(int argc, char **argv) {
        const char *svc = getenv("BENCH_SERVICE");

        if (svc && strcmp(svc, "staf") == 0) {
                service = "org.nvmexpress.staf";
                path = "/org/nvmexpress/staf";
        }
        if ((argc == 4 || argc == 5) && strcmp(argv[2], "serial") == 0) {
                const char *w = argc == 5 ? argv[4] : "detailed";

                address = argv[1];
                return serial(
                        (unsigned) strtoul(argv[3], NULL, 10),
                        strcmp(w, "ping") == 0            ? CALL_PING
                                : strcmp(w, "short") == 0 ? CALL_SHORT
                                                          : CALL_DETAILED);
        }
        if (argc == 5 && strcmp(argv[2], "flood") == 0) {
                address = argv[1];
                return flood((unsigned) strtoul(argv[3], NULL, 10), (unsigned) strtoul(argv[4], NULL, 10));
        }
        fprintf(stderr,
                "usage: bench-bus ADDRESS serial N [detailed|short|ping] | bench-bus ADDRESS flood RATE SECONDS\n");
        return 2;
}
