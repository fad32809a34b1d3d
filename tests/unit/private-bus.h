/* SPDX-License-Identifier: Apache-2.0 */
/*
 * private-bus.h - for unit tests: run a private dbus-daemon (own config, socket in a temporary
 * directory, no service activation) and stop it again. Header only; include once per test.
 */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct PrivateBus {
        pid_t pid;
        char dir[64];
        char address[512];
} PrivateBus;

/* private_bus_start() - 0 on success, -errno otherwise. */
static int private_bus_start(PrivateBus *b) {
        char conf[128], sock[128];
        int pipefd[2];
        FILE *f;
        ssize_t n;
        size_t got = 0;

        memset(b, 0, sizeof(*b));
        snprintf(b->dir, sizeof(b->dir), "/tmp/stas-bus-XXXXXX");
        if (!mkdtemp(b->dir))
                return -errno;
        (void) chmod(b->dir, 0755);
        snprintf(conf, sizeof(conf), "%s/bus.conf", b->dir);
        snprintf(sock, sizeof(sock), "%s/bus", b->dir);
        f = fopen(conf, "we");
        if (!f)
                return -errno;
        fprintf(f,
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
                " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                "<busconfig>\n"
                "  <type>session</type>\n"
                "  <listen>unix:path=%s</listen>\n"
                "  <auth>EXTERNAL</auth>\n"
                "  <policy context=\"default\">\n"
                "    <allow user=\"*\"/>\n"
                "    <allow own=\"*\"/>\n"
                "    <allow send_type=\"method_call\"/>\n"
                "    <allow send_destination=\"*\"/>\n"
                "    <allow receive_sender=\"*\"/>\n"
                "  </policy>\n"
                "</busconfig>\n",
                sock);
        fclose(f);

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        b->pid = fork();
        if (b->pid < 0)
                return -errno;
        if (b->pid == 0) {
                char fdarg[32], confarg[160];

                snprintf(fdarg, sizeof(fdarg), "--print-address=%d", pipefd[1]);
                snprintf(confarg, sizeof(confarg), "--config-file=%s", conf);
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

                /* its only chatter is about rlimits and policy; keep the test log readable */
                if (null >= 0 && !getenv("STAS_TEST_VERBOSE"))
                        (void) dup2(null, STDERR_FILENO);
                (void) prctl(PR_SET_PDEATHSIG, SIGTERM);
                (void) fcntl(pipefd[1], F_SETFD, 0);
                execlp("dbus-daemon",
                       "dbus-daemon",
                       "--nofork",
                       "--nopidfile",
                       "--nosyslog",
                       confarg,
                       fdarg,
                       (char *) NULL);
                _exit(127);
        }
        close(pipefd[1]);
        while (got < sizeof(b->address) - 1 &&
               (n = read(pipefd[0], b->address + got, sizeof(b->address) - 1 - got)) > 0) {
                got += (size_t) n;
                if (memchr(b->address, '\n', got))
                        break;
        }
        close(pipefd[0]);
        b->address[got] = 0;
        b->address[strcspn(b->address, "\n")] = 0;
        if (!b->address[0])
                return -EIO;
        return 0;
}

/* private_bus_stop() - kill the daemon, reap it, remove the directory. */
static void private_bus_stop(PrivateBus *b) {
        char path[128];

        if (b->pid > 0) {
                (void) kill(b->pid, SIGTERM);
                (void) waitpid(b->pid, NULL, 0);
                b->pid = 0;
        }
        snprintf(path, sizeof(path), "%s/bus.conf", b->dir);
        (void) unlink(path);
        snprintf(path, sizeof(path), "%s/bus", b->dir);
        (void) unlink(path);
        (void) rmdir(b->dir);
}
