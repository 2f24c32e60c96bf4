#include "jw_compress.h"

#include <stdlib.h>
#include <zlib.h>

/*
 * deflateReset clears the whole hash table: 128 KiB at the default memLevel, which costs more
 * than compressing a 300-byte log line. Short messages therefore use a stream with a 512-byte
 * hash table (memLevel 1); long ones keep the default for a better ratio.
 */
enum { SHORT_MESSAGE = 4096 };

struct jw_deflater {
    z_stream small;
    z_stream large;
};

jw_deflater *jw_deflater_new(jw_format format) {
    jw_deflater *d = calloc(1, sizeof *d);
    if (d == NULL) return NULL;
    /* windowBits 15 gives a zlib header; +16 asks for a gzip header and trailer instead. */
    int window_bits = format == JW_FORMAT_GZIP ? 15 + 16 : 15;
    /* Level 1: log lines are repetitive; higher levels cost CPU for little gain. */
    if (deflateInit2(&d->small, 1, Z_DEFLATED, window_bits, 1, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(d);
        return NULL;
    }
    if (deflateInit2(&d->large, 1, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        deflateEnd(&d->small);
        free(d);
        return NULL;
    }
    return d;
}

void jw_deflater_free(jw_deflater *d) {
    if (d == NULL) return;
    deflateEnd(&d->small);
    deflateEnd(&d->large);
    free(d);
}

static z_stream *stream_for(jw_deflater *d, size_t inlen) {
    return inlen < SHORT_MESSAGE ? &d->small : &d->large;
}

size_t jw_deflate_bound(jw_deflater *d, size_t inlen) {
    /* 18 covers the gzip wrapper, which deflateBound may not count. */
    return deflateBound(stream_for(d, inlen), (uLong)inlen) + 18;
}

long jw_deflate(jw_deflater *d, const uint8_t *in, size_t inlen, uint8_t *out, size_t outcap) {
    z_stream *stream = stream_for(d, inlen);
    if (deflateReset(stream) != Z_OK) return -1;
    stream->next_in = (Bytef *)in;
    stream->avail_in = (uInt)inlen;
    stream->next_out = out;
    stream->avail_out = (uInt)outcap;
    if (deflate(stream, Z_FINISH) != Z_STREAM_END) return -1;
    return (long)(outcap - stream->avail_out);
}
