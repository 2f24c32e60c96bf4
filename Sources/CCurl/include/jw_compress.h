#ifndef JOBWATCH_COMPRESS_H
#define JOBWATCH_COMPRESS_H

/*
 * zlib deflate behind a fixed-signature API: deflateInit2 is a macro, which Swift cannot
 * call. A jw_deflater is reused from message to message, because allocating deflate's
 * ~256 KiB of state per GELF message would cost more than compressing a log line.
 * Not thread-safe: one per sending thread. The target that calls these links -lz.
 */

#include <stddef.h>
#include <stdint.h>

typedef enum { JW_FORMAT_ZLIB = 0, JW_FORMAT_GZIP = 1 } jw_format;

typedef struct jw_deflater jw_deflater;

jw_deflater *jw_deflater_new(jw_format format);
void jw_deflater_free(jw_deflater *deflater);

/* Upper bound of the compressed size of inlen bytes, header and trailer included. */
size_t jw_deflate_bound(jw_deflater *deflater, size_t inlen);

/* Compresses one whole message into out; returns the compressed length, or -1 when out is
 * too small or zlib fails. */
long jw_deflate(jw_deflater *deflater, const uint8_t *in, size_t inlen, uint8_t *out, size_t outcap);

#endif
