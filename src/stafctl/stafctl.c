/* SPDX-License-Identifier: Apache-2.0 */
/* stafctl - query stafd over D-Bus. */
#include "cli.h"

int main(int argc, char **argv) {
        static const CliService svc = {
                .program = "stafctl",
                .daemon = "stafd",
                .bus_name = "org.nvmexpress.staf",
                .path = "/org/nvmexpress/staf",
                .interface = "org.nvmexpress.staf",
                .log_pages = true,
        };
        return cli_main(&svc, argc, argv);
}
