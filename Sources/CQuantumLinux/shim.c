#define _GNU_SOURCE
#include <sched.h>
#include <unistd.h>
#include <pthread.h>
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
