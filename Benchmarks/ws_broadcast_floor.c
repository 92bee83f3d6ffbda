// The floor for Benchmarks/websocket.py's broadcast figure: the least a server can do to send one
// message to N WebSocket clients over loopback TCP on this machine, measured by the same client
// (ws_broadcast_client.swift) as Quantum. Not a WebSocket server: it answers any request with a
// fixed 101 (the client always sends the same key), reads every later read as one small masked
// frame, and writes it unmasked to every member with one write() each. THREADS epoll loops
// (default 2, one per core like Quantum) share the port with SO_REUSEPORT; the loop that receives
// a message writes to its own members and wakes the others (eventfd) to write to theirs.
//
//   cc -O2 -pthread Benchmarks/ws_broadcast_floor.c -o /tmp/ws_broadcast_floor
//   /tmp/ws_broadcast_floor PORT [THREADS] &
//   /tmp/quantum_ws_broadcast_client PORT 1000 50
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_THREADS 8
#define MAX_MEMBERS 65536

static const char handshake[] =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: BACScCJPNqyz+UBoqMH89VmURoA=\r\n\r\n";

struct loop {
    int ep, wake, listener;
    int members[MAX_MEMBERS], count;
    unsigned char pending[160];  // the frame to send when woken
    int pending_len;
    pthread_mutex_t lock;
};

static struct loop loops[MAX_THREADS];
static int threads = 2;
static unsigned short port;

static void send_to_members(struct loop *l, const unsigned char *frame, int len) {
    for (int i = 0; i < l->count; i++) (void)!write(l->members[i], frame, len);
}

static void *run(void *arg) {
    struct loop *l = arg;
    struct epoll_event events[1024];
    unsigned char buf[4096];
    for (;;) {
        int n = epoll_wait(l->ep, events, 1024, -1);
        for (int e = 0; e < n; e++) {
            int fd = events[e].data.fd;
            if (fd == l->listener) {
                int c;
                while ((c = accept4(l->listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    int one = 1;
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct epoll_event ev = {.events = EPOLLIN, .data.fd = c};
                    epoll_ctl(l->ep, EPOLL_CTL_ADD, c, &ev);
                }
            } else if (fd == l->wake) {
                uint64_t v;
                (void)!read(l->wake, &v, sizeof v);
                pthread_mutex_lock(&l->lock);
                unsigned char frame[160];
                int len = l->pending_len;
                memcpy(frame, l->pending, len);
                pthread_mutex_unlock(&l->lock);
                send_to_members(l, frame, len);
            } else {
                ssize_t r = read(fd, buf, sizeof buf);
                if (r <= 0) {
                    for (int i = 0; i < l->count; i++)
                        if (l->members[i] == fd) { l->members[i] = l->members[--l->count]; break; }
                    close(fd);
                    continue;
                }
                if (r >= 4 && memcmp(buf, "GET ", 4) == 0) {  // the upgrade request
                    (void)!write(fd, handshake, sizeof handshake - 1);
                    if (l->count < MAX_MEMBERS) l->members[l->count++] = fd;
                    continue;
                }
                // One small masked client frame: 2-byte header, 4-byte key, payload < 126 bytes.
                if (r < 6 || (buf[1] & 0x7f) >= 126) continue;
                int len = buf[1] & 0x7f;
                if (r < 6 + len) continue;
                unsigned char frame[160];
                frame[0] = 0x81;
                frame[1] = (unsigned char)len;
                for (int i = 0; i < len; i++) frame[2 + i] = buf[6 + i] ^ buf[2 + (i & 3)];
                for (int t = 0; t < threads; t++) {
                    struct loop *other = &loops[t];
                    if (other == l) continue;
                    pthread_mutex_lock(&other->lock);
                    memcpy(other->pending, frame, 2 + len);
                    other->pending_len = 2 + len;
                    pthread_mutex_unlock(&other->lock);
                    uint64_t one = 1;
                    (void)!write(other->wake, &one, sizeof one);
                }
                send_to_members(l, frame, 2 + len);
            }
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: ws_broadcast_floor PORT [THREADS]\n"); return 2; }
    port = (unsigned short)atoi(argv[1]);
    if (argc > 2) threads = atoi(argv[2]);
    if (threads < 1 || threads > MAX_THREADS) { fprintf(stderr, "THREADS must be 1...%d\n", MAX_THREADS); return 2; }
    signal(SIGPIPE, SIG_IGN);
    pthread_t ids[MAX_THREADS];
    for (int t = 0; t < threads; t++) {
        struct loop *l = &loops[t];
        pthread_mutex_init(&l->lock, NULL);
        l->ep = epoll_create1(0);
        l->wake = eventfd(0, EFD_NONBLOCK);
        l->listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        int one = 1;
        setsockopt(l->listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        setsockopt(l->listener, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (bind(l->listener, (struct sockaddr *)&a, sizeof a) != 0 || listen(l->listener, 4096) != 0) { perror("bind/listen"); return 1; }
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = l->listener};
        epoll_ctl(l->ep, EPOLL_CTL_ADD, l->listener, &ev);
        ev.data.fd = l->wake;
        epoll_ctl(l->ep, EPOLL_CTL_ADD, l->wake, &ev);
    }
    for (int t = 0; t < threads; t++) pthread_create(&ids[t], NULL, run, &loops[t]);
    pthread_join(ids[0], NULL);
    return 0;
}
