#define _GNU_SOURCE
#include "jw_datagrams.h"

#include <errno.h>
#include <string.h>

enum { BATCH = 64 };

unsigned jw_send_datagrams(int fd, const struct sockaddr *to, socklen_t tolen,
                           const struct iovec *datagrams, unsigned count) {
    struct mmsghdr headers[BATCH];
    unsigned sent = 0;
    while (sent < count) {
        unsigned n = count - sent < BATCH ? count - sent : BATCH;
        memset(headers, 0, sizeof(struct mmsghdr) * n);
        for (unsigned i = 0; i < n; i++) {
            headers[i].msg_hdr.msg_name = (void *)to;
            headers[i].msg_hdr.msg_namelen = tolen;
            headers[i].msg_hdr.msg_iov = (struct iovec *)&datagrams[sent + i];
            headers[i].msg_hdr.msg_iovlen = 1;
        }
        int result = sendmmsg(fd, headers, n, 0);
        if (result < 0) {
            if (errno == EINTR) continue;
            return sent;
        }
        sent += (unsigned)result;
        if ((unsigned)result < n) return sent;
    }
    return sent;
}
