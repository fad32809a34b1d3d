/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "stas/hostid.h"

static void test_hostid_machine_id_vectors(void **state) {
        char u[37];

        assert_int_equal(uuid_from_machine_id("0123456789abcdef0123456789abcdef", u), 0);
        assert_string_equal(u, "f2782346-4809-484a-9a8b-952a04b57ba4");
        assert_int_equal(uuid_from_machine_id("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", u), 0);
        assert_string_equal(u, "3da64a01-16c5-4e10-ac46-397e2372b964");
        assert_int_equal(uuid_from_machine_id("0123", u), -EINVAL);
        assert_int_equal(uuid_from_machine_id("zz23456789abcdef0123456789abcdef", u), -EINVAL);
}

static void test_hostid_dmi_vector(void **state) {
        char u[37];

        assert_int_equal(uuid_from_dmi_product_uuid("4C4C4544-0034-1036-8038-B2C04F313233", u), 0);
        assert_string_equal(u, "44454C4C-3400-3610-8038-B2C04F313233");
        assert_int_equal(uuid_from_dmi_product_uuid("4C4C4544+0034-1036-8038-B2C04F313233", u), -EINVAL);
}

static void write_file(const char *dir, const char *rel, const char *content) {
        char p[512];
        FILE *f;

        snprintf(p, sizeof(p), "%s/%s", dir, rel);
        f = fopen(p, "w");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

static void test_hostid_generate_with_root(void **state) {
        char root[] = "/tmp/stas-hostid-XXXXXX", p[600];
        _cleanup_free_ char *nqn = NULL, *nqn2 = NULL, *nqn3 = NULL, *rnd = NULL, *rnd2 = NULL, *id = NULL;

        assert_non_null(mkdtemp(root));
        snprintf(p, sizeof(p), "%s/etc", root);
        assert_int_equal(mkdir(p, 0755), 0);
        write_file(root, "etc/machine-id", "0123456789abcdef0123456789abcdef\n");
        assert_int_equal(hostnqn_generate(root, false, &nqn), 0);
        assert_string_equal(nqn, "nqn.2014-08.org.nvmexpress:uuid:f2782346-4809-484a-9a8b-952a04b57ba4");

        /* No usable machine-id: unprivileged callers get -EPERM, privileged ones use DMI. */
        write_file(root, "etc/machine-id", "short\n");
        assert_int_equal(hostnqn_generate(root, false, &nqn2), -EPERM);
        snprintf(p, sizeof(p), "%s/sys", root);
        mkdir(p, 0755);
        snprintf(p, sizeof(p), "%s/sys/class", root);
        mkdir(p, 0755);
        snprintf(p, sizeof(p), "%s/sys/class/dmi", root);
        mkdir(p, 0755);
        snprintf(p, sizeof(p), "%s/sys/class/dmi/id", root);
        mkdir(p, 0755);
        write_file(root, "sys/class/dmi/id/product_uuid", "4C4C4544-0034-1036-8038-B2C04F313233\n");
        assert_int_equal(hostnqn_generate(root, true, &nqn3), 0);
        assert_string_equal(nqn3, "nqn.2014-08.org.nvmexpress:uuid:44454C4C-3400-3610-8038-B2C04F313233");

        /* None of the three: a random NQN, the same for every call of this process (a reload
         * must not change the host NQN under live connections) */
        write_file(root, "sys/class/dmi/id/product_uuid", "not a uuid\n");
        assert_int_equal(hostnqn_generate(root, true, &rnd), 0);
        assert_true(strncmp(rnd, "nqn.2014-08.org.nvmexpress:uuid:", 32) == 0);
        assert_int_equal(strlen(rnd), 32 + 36);
        assert_int_equal(hostnqn_generate(root, true, &rnd2), 0);
        assert_string_equal(rnd2, rnd);

        assert_int_equal(hostid_generate(&id), 0);
        assert_int_equal(strlen(id), 36);
        assert_int_equal(id[14], '4');

        snprintf(p, sizeof(p), "rm -rf '%s'", root);
        assert_int_equal(system(p), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hostid_machine_id_vectors),
                cmocka_unit_test(test_hostid_dmi_vector),
                cmocka_unit_test(test_hostid_generate_with_root),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
