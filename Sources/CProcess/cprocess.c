#define _GNU_SOURCE
#include <malloc.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include "cprocess.h"
#include <errno.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <grp.h>

int jw_spawn(const char *file, char *const argv[], char *const envp[],
             int stdout_fd, int stderr_fd, pid_t *pid_out) {
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t actions;
    sigset_t empty, all;
    int rc;

    sigemptyset(&empty);
    sigfillset(&all);
    if ((rc = posix_spawnattr_init(&attr)) != 0) return rc;
    if ((rc = posix_spawn_file_actions_init(&actions)) != 0) { posix_spawnattr_destroy(&attr); return rc; }

    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setsigmask(&attr, &empty);
    posix_spawnattr_setsigdefault(&attr, &all);

    posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1);
    posix_spawn_file_actions_adddup2(&actions, stderr_fd, 2);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);

    rc = posix_spawnp(pid_out, file, &actions, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return rc;
}

int jw_spawn_as(const char *file, char *const argv[], char *const envp[],
                int stdout_fd, int stderr_fd, uid_t uid, gid_t gid,
                const gid_t *groups, int ngroups, pid_t *pid_out) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return errno;
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(report[0]);
        close(report[1]);
        return e;
    }
    if (pid == 0) {
        // Only async-signal-safe calls from here to exec: the parent has threads.
        sigset_t empty;
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        for (int sig = 1; sig < NSIG; sig++) sigaction(sig, &dfl, NULL);
        sigemptyset(&empty);
        sigprocmask(SIG_SETMASK, &empty, NULL);
        setpgid(0, 0);
        int e = 0;
        if (dup2(stdout_fd, 1) < 0 || dup2(stderr_fd, 2) < 0) e = errno;
        // Root's supplementary groups go: the job gets the user's own, then its gid, then its uid.
        else if (setgroups((size_t)ngroups, groups) != 0 || setgid(gid) != 0 || setuid(uid) != 0) e = errno;
        else if (uid != 0 && setuid(0) == 0) e = EPERM;
        if (e == 0) {
            int keep = report[1];
            for (int fd = 3; fd < keep; fd++) close(fd);
            close_range((unsigned)keep + 1, ~0U, 0);
            execvpe(file, argv, envp);
            e = errno;
        }
        (void)!write(report[1], &e, sizeof e);
        _exit(127);
    }
    close(report[1]);
    int e = 0;
    ssize_t n;
    do { n = read(report[0], &e, sizeof e); } while (n < 0 && errno == EINTR);
    close(report[0]);
    if (n == (ssize_t)sizeof e) {
        // It never became the command: reap it here, the caller sees only the error.
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        return e;
    }
    *pid_out = pid;
    return 0;
}

static void wrapper_signals(sigset_t *set) {
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGQUIT);
    sigaddset(set, SIGCHLD);
}

void jw_block_wrapper_signals(void) {
    sigset_t set;
    wrapper_signals(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int jw_wait_signal(long timeout_ms) {
    sigset_t set;
    struct timespec ts;
    wrapper_signals(&set);
    if (timeout_ms < 0) timeout_ms = 0;
    ts.tv_sec = timeout_ms / 1000;
    ts.tv_nsec = (timeout_ms % 1000) * 1000000L;
    for (;;) {
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig >= 0) return sig;
        if (errno == EAGAIN) return 0;
        if (errno != EINTR) return 0;
    }
}

int jw_exited(int status) { return WIFEXITED(status); }
int jw_exit_status(int status) { return WEXITSTATUS(status); }
int jw_signaled(int status) { return WIFSIGNALED(status); }
int jw_term_signal(int status) { return WTERMSIG(status); }

void jw_ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

int jw_pipe(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

void jw_release_free_memory(void) { malloc_trim(0); }

/* How common a byte is in log output: higher is more common. A guess, as in ripgrep: it only
   decides which byte of a needle memchr looks for, never whether a match is found. */
static int jw_byte_rank(unsigned char c) {
    static const char english[] = "zqjxkvbywgpfmucdlhrsnioate";   /* rarest first */
    if (c == ' ') return 255;
    if (c >= '0' && c <= '9') return 230;
    if (c >= 'a' && c <= 'z') return 190 + (int)(strchr(english, c) - english);
    if (c == ':' || c == '-' || c == '.' || c == '/' || c == '_' || c == ',' || c == '=' || c == '"') return 220;
    if (c >= 'A' && c <= 'Z') return 150;
    return 100;
}

void jw_byte_ranks(unsigned char ranks[256]) {
    for (int c = 0; c < 256; c++) ranks[c] = (unsigned char)jw_byte_rank((unsigned char)c);
}

const void *jw_find(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len,
                    const unsigned char ranks[256], size_t *false_hits, unsigned char *probe) {
    const unsigned char *h = haystack, *n = needle;
    *false_hits = 0;
    if (needle_len == 0) return haystack;
    /* memchr (vectorised) for the needle's rarest byte, then compare: far faster than memmem
       on text where that byte is rare, and no slower than it where it is not. */
    size_t k = 0;
    for (size_t i = 1; i < needle_len; i++) if (ranks[n[i]] < ranks[n[k]]) k = i;
    *probe = n[k];
    if (needle_len > haystack_len) return NULL;
    const unsigned char *p = h + k, *last = h + (haystack_len - needle_len) + k;
    while (p <= last) {
        const unsigned char *q = memchr(p, n[k], (size_t)(last - p) + 1);
        if (!q) return NULL;
        if (memcmp(q - k, n, needle_len) == 0) return q - k;
        *false_hits += 1;
        p = q + 1;
    }
    return NULL;
}

size_t jw_count_byte(const void *bytes, size_t length, unsigned char c) {
    const unsigned char *p = bytes;
    size_t count = 0, i = 0;
#ifdef __SSE2__
    /* Equal bytes add -1 to per-lane byte counters (at most 255 rounds before they could
       wrap), which psadbw then sums: about one instruction per byte per 16 bytes. */
    const __m128i target = _mm_set1_epi8((char)c), zero = _mm_setzero_si128();
    while (length - i >= 16) {
        size_t rounds = (length - i) / 16;
        if (rounds > 255) rounds = 255;
        __m128i lanes = zero;
        for (size_t r = 0; r < rounds; r++, i += 16) {
            lanes = _mm_sub_epi8(lanes, _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + i)), target));
        }
        __m128i sums = _mm_sad_epu8(lanes, zero);
        count += (size_t)_mm_cvtsi128_si64(sums) + (size_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums));
    }
#endif
    for (; i < length; i++) count += p[i] == c;
    return count;
}

const void *jw_find_last(const void *s, int c, size_t n) {
    return memrchr(s, c, n);
}
