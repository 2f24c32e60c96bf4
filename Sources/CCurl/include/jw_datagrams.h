#ifndef JOBWATCH_DATAGRAMS_H
#define JOBWATCH_DATAGRAMS_H

/*
 * sendmmsg(2) for Swift: glibc declares it only under _GNU_SOURCE, which Swift's Glibc
 * module does not set. One system call for many datagrams is what lets the GELF UDP sender
 * keep up with a job that prints hundreds of thousands of lines a second.
 */

#include <sys/socket.h>
#include <sys/uio.h>

/* Sends each iovec as one datagram to `to`; returns how many were sent before the first
 * failure (errno set when that is fewer than count), retrying on EINTR. */
unsigned jw_send_datagrams(int fd, const struct sockaddr *to, socklen_t tolen,
                           const struct iovec *datagrams, unsigned count);

#endif
