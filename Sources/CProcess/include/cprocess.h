#ifndef JOBWATCH_CPROCESS_H
#define JOBWATCH_CPROCESS_H

#include <sys/types.h>
#include <signal.h>

/// Starts `argv` (PATH lookup when argv[0] has no slash) in a new process group with default
/// signal dispositions and an empty mask, stdin inherited, stdout/stderr on the given fds and
/// every other fd closed. Returns 0 or an errno value.
int jw_spawn(const char *file, char *const argv[], char *const envp[],
             int stdout_fd, int stderr_fd, pid_t *pid_out);

/// As `jw_spawn`, but the child first takes the supplementary groups `groups`, then `gid`, then
/// `uid` (and checks it cannot take root back) before it execs: a job run as another user.
/// fork + exec, as posix_spawn cannot change users; an exec failure is returned, not a pid.
int jw_spawn_as(const char *file, char *const argv[], char *const envp[],
                int stdout_fd, int stderr_fd, uid_t uid, gid_t gid,
                const gid_t *groups, int ngroups, pid_t *pid_out);

/// Blocks the signals jobrun handles synchronously (TERM, INT, HUP, CHLD, QUIT) in the
/// calling thread; threads created afterwards inherit the mask.
void jw_block_wrapper_signals(void);

/// Waits up to `timeout_ms` for one of the blocked signals. Returns the signal number,
/// 0 on timeout.
int jw_wait_signal(long timeout_ms);

/// A guess at how common each byte is in log text (higher: more common), for `jw_find`.
void jw_byte_ranks(unsigned char ranks[256]);

/// The first `needle` in `haystack`, or NULL: `memmem`, by `memchr` for the needle's rarest
/// byte by `ranks` (`*probe`), then a compare. `*false_hits`: places the probe byte was found
/// where the needle was not, so a caller can rank that byte as common in its text.
const void *jw_find(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len,
                    const unsigned char ranks[256], size_t *false_hits, unsigned char *probe);

/// How many bytes equal `c` (SSE2: 16 bytes per step).
size_t jw_count_byte(const void *bytes, size_t length, unsigned char c);

/// glibc's `memrchr`, likewise: the last byte `c` in the first `n` bytes of `s`, or NULL.
const void *jw_find_last(const void *s, int c, size_t n);

int jw_exited(int status);
int jw_exit_status(int status);
int jw_signaled(int status);
int jw_term_signal(int status);

/// Ignores SIGPIPE so that a closed stdout (e.g. `jobrun … | head`) is an EPIPE write
/// error, not the wrapper's death while it holds a lease.
void jw_ignore_sigpipe(void);

/// A pipe whose ends are not inherited by anything else the wrapper starts.
int jw_pipe(int fds[2]);

/// Returns free heap to the system after a transient peak (malloc_trim(0)); glibc otherwise
/// keeps it for the life of the process.
void jw_release_free_memory(void);

#endif
