#include "jw_compress.h"

#include <stdlib.h>
#include <zlib.h>

struct jw_deflater {
    z_stream stream;
};

/* windowBits 15 gives a zlib header; +16 asks zlib for a gzip header and trailer instead. */
jw_deflater *jw_deflater_new(jw_format format) {
    jw_deflater *d = calloc(1, sizeof *d);
    if (d == NULL) return NULL;
    int window_bits = format == JW_FORMAT_GZIP ? 15 + 16 : 15;
    /* Level 1: GELF lines are short and repetitive; higher levels cost CPU for little gain. */
    if (deflateInit2(&d->stream, 1, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(d);
        return NULL;
    }
    return d;
}

void jw_deflater_free(jw_deflater *d) {
    if (d == NULL) return;
    deflateEnd(&d->stream);
    free(d);
}

size_t jw_deflate_bound(jw_deflater *d, size_t inlen) {
    /* deflateBound omits the gzip trailer size difference; 18 covers the larger gzip wrapper. */
    return deflateBound(&d->stream, (uLong)inlen) + 18;
}

long jw_deflate(jw_deflater *d, const uint8_t *in, size_t inlen, uint8_t *out, size_t outcap) {
    if (deflateReset(&d->stream) != Z_OK) return -1;
    d->stream.next_in = (Bytef *)in;
    d->stream.avail_in = (uInt)inlen;
    d->stream.next_out = out;
    d->stream.avail_out = (uInt)outcap;
    if (deflate(&d->stream, Z_FINISH) != Z_STREAM_END) return -1;
    return (long)(outcap - d->stream.avail_out);
}
