/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stas/strv.h"

char **strv_free(char **l) {
        STRV_FOREACH(s, l)
                free(*s);
        free(l);
        return NULL;
}

size_t strv_length(char *const *l) {
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

int strv_consume(char ***l, char *s) {
        size_t n = strv_length(*l);
        char **t;

        if (!s)
                return -ENOMEM;
        t = realloc(*l, sizeof(char *) * (n + 2));
        if (!t) {
                free(s);
                return -ENOMEM;
        }
        t[n] = s;
        t[n + 1] = NULL;
        *l = t;
        return 0;
}

int strv_extend(char ***l, const char *s) {
        return strv_consume(l, strdup(s ? s : ""));
}

bool strv_contains(char *const *l, const char *s) {
        for (size_t i = 0; l && l[i]; i++)
                if (streq(l[i], s))
                        return true;
        return false;
}

char **strv_copy(char *const *l) {
        char **r = new0(char *, 1);

        if (!r)
                return NULL;
        for (size_t i = 0; l && l[i]; i++)
                if (strv_extend(&r, l[i]) < 0)
                        return strv_free(r);
        return r;
}

char **strv_split(const char *s, const char *sep) {
        size_t n = 0, i = 0;
        char **r;

        /* count first, then fill: appending one by one would walk the array every time */
        for (const char *p = s ? s + strspn(s, sep) : ""; *p; p += strspn(p, sep)) {
                n++;
                p += strcspn(p, sep);
        }
        r = new0(char *, n + 1);
        if (!r)
                return NULL;
        for (const char *p = s ? s + strspn(s, sep) : ""; *p; p += strspn(p, sep)) {
                size_t l = strcspn(p, sep);

                r[i] = strndup(p, l);
                if (!r[i++])
                        return strv_free(r);
                p += l;
        }
        return r;
}

char *strv_join(char *const *l, const char *sep) {
        size_t n = 0, k = strlen(sep);
        char *r, *p;

        for (size_t i = 0; l && l[i]; i++)
                n += strlen(l[i]) + (i ? k : 0);
        r = p = malloc(n + 1);
        if (!r)
                return NULL;
        for (size_t i = 0; l && l[i]; i++) {
                if (i)
                        p = stpcpy(p, sep);
                p = stpcpy(p, l[i]);
        }
        *p = 0;
        return r;
}
