/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "stas/hostid.h"
#include "stas/log.h"

static const char app_id[] = "$nvmexpress.org$"; /* 16 bytes, the HMAC key */

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        c = (char) tolower((unsigned char) c);
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

static void format_uuid(const unsigned char b[16], char ret[37]) {
        snprintf(
                ret,
                37,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                b[0],
                b[1],
                b[2],
                b[3],
                b[4],
                b[5],
                b[6],
                b[7],
                b[8],
                b[9],
                b[10],
                b[11],
                b[12],
                b[13],
                b[14],
                b[15]);
}

static void force_v4(unsigned char b[16]) {
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
}

int uuid_from_machine_id(const char *machine_id, char ret[37]) {
        unsigned char id[16], mac[EVP_MAX_MD_SIZE];
        unsigned int maclen = 0;

        if (!machine_id || strlen(machine_id) != 32)
                return -EINVAL;
        for (size_t i = 0; i < 16; i++) {
                int hi = unhex(machine_id[2 * i]), lo = unhex(machine_id[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                id[i] = (unsigned char) (hi << 4 | lo);
        }
        if (!HMAC(EVP_sha256(), app_id, (int) strlen(app_id), id, sizeof(id), mac, &maclen) || maclen < 16)
                return -EIO;
        force_v4(mac);
        format_uuid(mac, ret);
        return 0;
}

int uuid_from_dmi_product_uuid(const char *s, char ret[37]) {
        /* SMBIOS stores the first three fields little-endian: swap their bytes, keep case. */
        static const int map[36] = {
                6,  7,  4,  5,  2,  3,  0,  1,  8,  11, 12, 9,  10, 13, 16, 17, 14, 15,
                18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35,
        };
        if (!s || strlen(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
                return -EINVAL;
        for (size_t i = 0; i < 36; i++) {
                if (s[i] != '-' && unhex(s[i]) < 0)
                        return -EINVAL;
                ret[i] = s[map[i]];
        }
        ret[36] = 0;
        return 0;
}

int uuid_random(char ret[37]) {
        unsigned char b[16];

        if (getrandom(b, sizeof(b), 0) != (ssize_t) sizeof(b))
                return -errno ?: -EIO;
        force_v4(b);
        format_uuid(b, ret);
        return 0;
}

/* First line of @root/@path, trailing whitespace stripped, or NULL. */
static char *read_line_at(const char *root, const char *path) {
        _cleanup_free_ char *p = NULL, *line = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t n = 0;
        ssize_t k;

        if (asprintf(&p, "%s/%s", isempty(root) ? "" : root, path) < 0)
                return NULL;
        f = fopen(p, "re");
        if (!f)
                return NULL;
        k = getline(&line, &n, f);
        if (k < 0)
                return NULL;
        while (k > 0 && isspace((unsigned char) line[k - 1]))
                line[--k] = 0;
        return TAKE_PTR(line);
}

/* the random UUID of this process: made on first use (or restored), then the same for every reload */
static char once[37];
static bool once_used; /* hostnqn_generate() fell back to it */

/**
 * hostnqn_random_uuid_restore() - see hostid.h.
 * @uuid: from the state file (hostile: checked)
 *
 * Return: 0, -EINVAL or -EEXIST.
 */
int hostnqn_random_uuid_restore(const char *uuid) {
        if (!uuid || strlen(uuid) != 36 || uuid[8] != '-' || uuid[13] != '-' || uuid[18] != '-' ||
            uuid[23] != '-')
                return -EINVAL;
        for (size_t i = 0; i < 36; i++)
                if (uuid[i] != '-' && unhex(uuid[i]) < 0)
                        return -EINVAL;
        if (once[0])
                return streq(once, uuid) ? 0 : -EEXIST;
        memcpy(once, uuid, sizeof(once));
        return 0;
}

/**
 * hostnqn_random_uuid() - see hostid.h.
 *
 * Return: the UUID or NULL.
 */
const char *hostnqn_random_uuid(void) {
        return once_used ? once : NULL;
}

static int random_uuid_once(char ret[37]) {
        once_used = true;
        if (!once[0]) {
                int r = uuid_random(once);

                if (r < 0)
                        return r;
                log_debug(
                        "No machine-id, DMI or device-tree UUID: using a random host NQN for this process");
        }
        memcpy(ret, once, sizeof(once));
        return 0;
}

int hostnqn_generate(const char *root, bool allow_privileged, char **ret) {
        _cleanup_free_ char *mid = NULL, *dmi = NULL, *dt = NULL;
        char uuid[37];
        int r;

        mid = read_line_at(root, "etc/machine-id");
        if (mid && uuid_from_machine_id(mid, uuid) == 0)
                goto done;
        if (!allow_privileged)
                return -EPERM;
        dmi = read_line_at(root, "sys/class/dmi/id/product_uuid");
        if (dmi && uuid_from_dmi_product_uuid(dmi, uuid) == 0)
                goto done;
        dt = read_line_at(root, "proc/device-tree/ibm,partition-uuid");
        if (dt && strlen(dt) == 36) {
                memcpy(uuid, dt, 37);
                goto done;
        }
        r = random_uuid_once(uuid);
        if (r < 0)
                return r;
done:
        if (asprintf(ret, NVME_HOSTNQN_UUID_PREFIX "%s", uuid) < 0)
                return -ENOMEM;
        return 0;
}

int hostid_generate(char **ret) {
        char uuid[37];
        int r = uuid_random(uuid);

        if (r < 0)
                return r;
        *ret = strdup(uuid);
        return *ret ? 0 : -ENOMEM;
}
