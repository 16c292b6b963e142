// SIGBUS on a mapped file that changed on disk: name the file, restore the terminal, exit 2.
// The handler touches only the static table and async-signal-safe calls (write, tcsetattr,
// _exit, sigaction, raise).
#include "mapguard.h"
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define MAPGUARD_SLOTS 64
#define MAPGUARD_PATH 512

typedef struct {
    volatile uintptr_t base;  // 0: free slot
    volatile size_t size;
    char path[MAPGUARD_PATH];
} mapguard_slot;

static mapguard_slot slots[MAPGUARD_SLOTS];
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static struct termios saved_tty;
static int saved_tty_fd = -1;

static void put(int fd, const char *s) {
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w <= 0) return;
        s += w; n -= (size_t)w;
    }
}

static void put_u64(int fd, uint64_t v) {
    char buf[24];
    int i = 23;
    buf[i] = 0;
    do { buf[--i] = (char)('0' + v % 10); v /= 10; } while (v && i > 0);
    put(fd, buf + i);
}

static void on_sigbus(int sig, siginfo_t *info, void *ctx) {
    (void)ctx;
    uintptr_t a = (uintptr_t)info->si_addr;
    for (int i = 0; i < MAPGUARD_SLOTS; i++) {
        uintptr_t b = slots[i].base;
        if (b == 0 || a < b || a >= b + slots[i].size) continue;
        if (saved_tty_fd >= 0) {
            tcsetattr(saved_tty_fd, TCSANOW, &saved_tty);
            put(saved_tty_fd, "\033[0m\033[?25h\033[?1049l\r\n");
        }
        put(2, "inftop: ");
        put(2, slots[i].path);
        put(2, " changed on disk while in use (truncated or replaced: SIGBUS reading byte ");
        put_u64(2, (uint64_t)(a - b));
        put(2, " of its mapping); restore the file and start inftop again\n");
        _exit(2);
    }
    // Not one of ours: the default action (core dump), as if no handler were installed.
    struct sigaction d;
    memset(&d, 0, sizeof d);
    d.sa_handler = SIG_DFL;
    sigemptyset(&d.sa_mask);
    sigaction(sig, &d, NULL);
    raise(sig);
}

void mapguard_install(void) {
    for (int fd = 0; fd <= 2; fd++) {
        if (isatty(fd) && tcgetattr(fd, &saved_tty) == 0) { saved_tty_fd = fd; break; }
    }
    struct sigaction s;
    memset(&s, 0, sizeof s);
    s.sa_sigaction = on_sigbus;
    s.sa_flags = SA_SIGINFO;
    sigemptyset(&s.sa_mask);
    sigaction(SIGBUS, &s, NULL);
}

int mapguard_register(const char *path, const void *base, size_t size) {
    int done = -1;
    pthread_mutex_lock(&slots_lock);
    for (int i = 0; i < MAPGUARD_SLOTS && done < 0; i++) {
        if (slots[i].base != 0) continue;
        strncpy(slots[i].path, path, MAPGUARD_PATH - 1);
        slots[i].path[MAPGUARD_PATH - 1] = 0;
        slots[i].size = size;
        __atomic_store_n(&slots[i].base, (uintptr_t)base, __ATOMIC_RELEASE);  // published last
        done = 0;
    }
    pthread_mutex_unlock(&slots_lock);
    return done;
}

void mapguard_unregister(const void *base) {
    pthread_mutex_lock(&slots_lock);
    for (int i = 0; i < MAPGUARD_SLOTS; i++) {
        if (slots[i].base == (uintptr_t)base) { __atomic_store_n(&slots[i].base, 0, __ATOMIC_RELEASE); break; }
    }
    pthread_mutex_unlock(&slots_lock);
}
