// Linux syscalls that Glibc's Swift module does not export, plus trivial inline wrappers
// for variadic or macro-based APIs Swift cannot call directly.
#ifndef C_QUANTUM_LINUX_H
#define C_QUANTUM_LINUX_H


#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/sendfile.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <errno.h>

/* Declared here because the header needs _GNU_SOURCE, which would clash with Glibc's module. */
extern int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);

/// CPUs this process may run on (sched_getaffinity), at least 1.
int cq_available_cpus(void);

/// Names the calling thread (shown by top, perf, /proc; at most 15 bytes).
void cq_set_thread_name(const char *name);
/* posix_spawn in a new session, `stdin_fd` as standard input, descriptors above 2 closed. */
int cq_spawn_detached(const char *path, char *const argv[], char *const envp[], int stdin_fd, pid_t *pid);

/// A fast per-thread pseudo-random number (wyrand, seeded once per thread from getrandom):
/// for load balancing and the like, never for secrets.
unsigned long long cq_fast_random(void);

/// openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS: `path` is resolved under `dirfd`
/// and may not leave it (EXDEV), even through symlinks. ENOSYS where the kernel lacks openat2.
int cq_open_beneath(int dirfd, const char *path, int flags, unsigned int mode);

/// crypt_r(3) (libxcrypt) for `phrase` with `setting` (a bcrypt hash or salt, `$2a$14$...`):
/// the hash into `out`; 0 on success, -1 when the setting is not one libcrypt knows.
int cq_crypt(const char *phrase, const char *setting, char *out, unsigned long outsize);

/// A new bcrypt setting (`$2a$COST$` and 22 salt characters from the OS's randomness) into `out`;
/// 0 on success.
int cq_bcrypt_salt(unsigned long cost, char *out, unsigned long outsize);

/// O_PATH, which Glibc's Swift module does not export (it needs _GNU_SOURCE).
extern const int cq_O_PATH;

static inline int cq_accept4(int fd, struct sockaddr *addr, socklen_t *len) {
    return accept4(fd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

static inline int cq_set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0) return -1;
    return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static inline int cq_errno(void) { return errno; }

#endif
