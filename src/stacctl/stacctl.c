/* SPDX-License-Identifier: Apache-2.0 */
/* stacctl - query stacd over D-Bus. */
#include "cli.h"

int main(int argc, char **argv) {
        static const CliService svc = {
                .program = "stacctl",
                .daemon = "stacd",
                .bus_name = "org.nvmexpress.stac",
                .path = "/org/nvmexpress/stac",
                .interface = "org.nvmexpress.stac",
                .log_pages = false,
        };
        return cli_main(&svc, argc, argv);
}
