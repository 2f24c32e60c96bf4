#include "ccurl.h"

#include <dlfcn.h>
#include <gnu/libc-version.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    const char *(*easy_strerror)(CURLcode);
} curl;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_error[256];

#define RESOLVE(field, symbol)                                                            \
    do {                                                                                  \
        *(void **)(&curl.field) = dlsym(lib, symbol);                                     \
        if (curl.field == NULL) {                                                         \
            snprintf(load_error, sizeof load_error, "libcurl.so.4 lacks %s", symbol);     \
            return;                                                                       \
        }                                                                                 \
    } while (0)

/* Present in a dynamically linked program, absent (null) in a fully static one. */
extern char _DYNAMIC[] __attribute__((weak));

/* jobrun is linked statically (its start-up is paid on every cron tick); dlopen()ing libcurl
 * then loads the host's libc.so.6 beside the glibc linked into the program, which works only
 * when both are the same glibc release. The host's version is asked of `getconf` in a child
 * process — loading libc.so.6 to ask would be the very thing this guards against. On a
 * mismatch HTTP is refused cleanly and the callers fall back to the spool. A dynamically
 * linked program (jobctl, jobmond) shares its libc with libcurl and needs no check. */
static bool same_glibc_as_host(void) {
    if (_DYNAMIC != NULL) return true;
    char line[64] = "";
    FILE *p = popen("getconf GNU_LIBC_VERSION 2>/dev/null", "r");
    if (p != NULL) {
        if (fgets(line, sizeof line, p) == NULL) line[0] = '\0';
        pclose(p);
    }
    line[strcspn(line, "\n")] = '\0';
    const char *host = strncmp(line, "glibc ", 6) == 0 ? line + 6 : NULL;   /* "glibc 2.36" */
    if (host != NULL && strcmp(host, gnu_get_libc_version()) == 0) return true;
    if (host != NULL) {
        snprintf(load_error, sizeof load_error,
                 "HTTP is unavailable: this host's glibc %s differs from the %s this program was built with "
                 "(build it on this OS release)", host, gnu_get_libc_version());
    } else {
        snprintf(load_error, sizeof load_error,
                 "HTTP is unavailable: `getconf GNU_LIBC_VERSION` did not tell this host's glibc release, "
                 "which must be %s for this static program to load libcurl", gnu_get_libc_version());
    }
    return false;
}

static void load(void) {
    if (!same_glibc_as_host()) return;
    void *lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        const char *reason = dlerror();
        snprintf(load_error, sizeof load_error, "cannot load libcurl.so.4: %s",
                 reason ? reason : "unknown error");
        return;
    }
    RESOLVE(global_init, "curl_global_init");
    RESOLVE(easy_init, "curl_easy_init");
    RESOLVE(easy_cleanup, "curl_easy_cleanup");
    RESOLVE(easy_perform, "curl_easy_perform");
    RESOLVE(easy_setopt, "curl_easy_setopt");
    RESOLVE(easy_getinfo, "curl_easy_getinfo");
    RESOLVE(slist_append, "curl_slist_append");
    RESOLVE(slist_free_all, "curl_slist_free_all");
    RESOLVE(easy_strerror, "curl_easy_strerror");
    CURLcode code = curl.global_init(CURL_GLOBAL_DEFAULT);
    if (code != CURLE_OK) {
        snprintf(load_error, sizeof load_error, "curl_global_init failed: %s",
                 curl.easy_strerror(code));
        curl.easy_init = NULL;
    }
}

bool jw_curl_load(char *err, size_t errlen) {
    pthread_once(&load_once, load);
    if (curl.easy_init != NULL && load_error[0] == '\0') return true;
    if (err != NULL && errlen > 0) snprintf(err, errlen, "%s", load_error);
    return false;
}

CURL *jw_curl_easy_init(void) { return curl.easy_init(); }
void jw_curl_easy_cleanup(CURL *handle) { curl.easy_cleanup(handle); }
CURLcode jw_curl_easy_perform(CURL *handle) { return curl.easy_perform(handle); }

CURLcode jw_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl.easy_setopt(handle, option, value);
}

CURLcode jw_curl_setopt_ptr(CURL *handle, CURLoption option, const void *value) {
    return curl.easy_setopt(handle, option, value);
}

CURLcode jw_curl_setopt_str(CURL *handle, CURLoption option, const char *value) {
    return curl.easy_setopt(handle, option, value);
}

CURLcode jw_curl_setopt_write_function(CURL *handle, jw_curl_write_callback callback) {
    return curl.easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
}

CURLcode jw_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl.easy_getinfo(handle, info, value);
}

struct curl_slist *jw_curl_slist_append(struct curl_slist *list, const char *header) {
    return curl.slist_append(list, header);
}

void jw_curl_slist_free_all(struct curl_slist *list) { curl.slist_free_all(list); }

const char *jw_curl_strerror(CURLcode code) { return curl.easy_strerror(code); }
