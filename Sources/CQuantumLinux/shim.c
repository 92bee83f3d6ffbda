#define _GNU_SOURCE
#include <sched.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/random.h>
#include <time.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <spawn.h>
#include <linux/openat2.h>
#include <crypt.h>
#include <stdlib.h>
#include <string.h>
#include "CQuantumLinux.h"

int cq_available_cpus(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

void cq_set_thread_name(const char *name) {
    pthread_setname_np(pthread_self(), name);
}

static __thread unsigned long long cq_random_state;
static __thread int cq_random_seeded;

unsigned long long cq_fast_random(void) {
    if (!cq_random_seeded) {
        if (getrandom(&cq_random_state, sizeof(cq_random_state), 0) != sizeof(cq_random_state)) {
            struct timespec t;
            clock_gettime(CLOCK_MONOTONIC, &t);
            cq_random_state = (unsigned long long)t.tv_nsec * 0x9e3779b97f4a7c15ull ^ (unsigned long long)pthread_self();
        }
        cq_random_seeded = 1;
    }
    cq_random_state += 0xa0761d6478bd642full;
    unsigned __int128 t = (unsigned __int128)cq_random_state * (cq_random_state ^ 0xe7037ed1a0b428dbull);
    return (unsigned long long)(t >> 64) ^ (unsigned long long)t;
}

const int cq_O_PATH = O_PATH;

int cq_open_beneath(int dirfd, const char *path, int flags, unsigned int mode) {
#ifdef SYS_openat2
    if (!(flags & (O_CREAT | O_TMPFILE))) mode = 0;  /* openat2 refuses a mode it would not use */
    struct open_how how = { .flags = (unsigned long long)(unsigned int)flags, .mode = mode,
                            .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
#else
    errno = ENOSYS;
    return -1;
#endif
}

/* posix_spawn in a new session with `stdin_fd` as standard input and every other descriptor
   above 2 closed (a background server must not keep its starter's pipes open). */
int cq_spawn_detached(const char *path, char *const argv[], char *const envp[], int stdin_fd, pid_t *pid) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
    posix_spawn_file_actions_adddup2(&actions, stdin_fd, 0);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID);
    int rc = posix_spawn(pid, path, &actions, &attributes, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    return rc;
}

int cq_crypt(const char *phrase, const char *setting, char *out, unsigned long outsize) {
    struct crypt_data *data = calloc(1, sizeof *data);  /* ~32 KiB: not on a small thread stack */
    if (!data) return -1;
    const char *hash = crypt_r(phrase, setting, data);
    int ok = hash && hash[0] != '*' && strlen(hash) < outsize;
    if (ok) strcpy(out, hash);
    explicit_bzero(data, sizeof *data);
    free(data);
    return ok ? 0 : -1;
}

int cq_bcrypt_salt(unsigned long cost, char *out, unsigned long outsize) {
    return crypt_gensalt_rn("$2a$", cost, NULL, 0, out, (int)outsize) ? 0 : -1;
}
