#ifndef JOBWATCH_CCURL_H
#define JOBWATCH_CCURL_H

/*
 * libcurl, loaded on first use.
 *
 * Loading libcurl pulls in ~30 shared libraries (OpenSSL, nghttp2, LDAP, ...) and costs about
 * 8 ms per process; jobrun starts on every cron tick and most configurations never speak
 * HTTP. So nothing here links against libcurl: <curl/curl.h> provides types and constants,
 * and the functions are resolved with dlopen/dlsym by jw_curl_load().
 *
 * curl_easy_setopt/getinfo are variadic and invisible to Swift, hence one typed wrapper per
 * argument kind.
 */

#include <stdbool.h>
#include <stddef.h>
#include <curl/curl.h>

/* Loads libcurl.so.4 and runs curl_global_init once per process; safe to call from any
 * thread, any number of times. On failure, writes the reason into err and returns false. */
bool jw_curl_load(char *err, size_t errlen);

/* The functions below require a successful jw_curl_load(). */
CURL *jw_curl_easy_init(void);
void jw_curl_easy_cleanup(CURL *handle);
CURLcode jw_curl_easy_perform(CURL *handle);
CURLcode jw_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode jw_curl_setopt_ptr(CURL *handle, CURLoption option, const void *value);
/* For CURLOPT_COPYPOSTFIELDS and every option taking a C string: libcurl copies it. */
CURLcode jw_curl_setopt_str(CURL *handle, CURLoption option, const char *value);

typedef size_t (*jw_curl_write_callback)(char *data, size_t size, size_t count, void *context);
CURLcode jw_curl_setopt_write_function(CURL *handle, jw_curl_write_callback callback);

CURLcode jw_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);
struct curl_slist *jw_curl_slist_append(struct curl_slist *list, const char *header);
void jw_curl_slist_free_all(struct curl_slist *list);
const char *jw_curl_strerror(CURLcode code);

#endif
