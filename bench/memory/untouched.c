/* Which call sites hold heap memory that was allocated but never touched?
 *
 * RSS grows when a page is first written, not when it is allocated. A buffer
 * allocated with room to spare (a GByteArray doubled, a receive buffer sized
 * for the worst burst) costs RSS only as far as it has been used so far, and
 * RSS creeps up for hours as rare large frames or bursts reach further into
 * it: a growth that looks like a leak but stops at what is allocated.
 *
 * Preloaded into vigil, this shim follows every live allocation of at least
 * MIN_SIZE bytes (where whole pages can stay untouched) with its backtrace.
 * When the file UNTOUCHED_TRIGGER (default /tmp/untouched.trigger) appears it
 * looks up each allocation's pages in /proc/self/pagemap and writes, per
 * backtrace, the count, the bytes allocated and the bytes of whole pages not
 * yet in memory to UNTOUCHED_OUT.<pid>.<n> (default /tmp/untouched), as
 * module+offset frames that bench/memory/untouched.py names with addr2line.
 *
 *   gcc -O2 -shared -fPIC -o /tmp/untouched.so bench/memory/untouched.c -ldl -lpthread
 *   LD_PRELOAD=/tmp/untouched.so vigil ...      (or run.py --vigil-env)
 *   touch /tmp/untouched.trigger; sleep 3
 *   python3 bench/memory/untouched.py /tmp/untouched.<pid>.1
 *
 * Not for production: a lock around every large malloc and free. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIN_SIZE  (16 * 1024)
#define SLOTS     (1u << 20) /* live large allocations at most (open addressing) */
#define DEPTH     10
#define STACKS    (1u << 16)
#define PAGE      4096u
#define TOMBSTONE ((void *)1)

typedef struct {
  void *ptr;
  size_t size;
  uint32_t stack;
} Slot;

typedef struct {
  void *frames[DEPTH];
  int depth;
} Stack;

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);

static Slot *slots;
static Stack *stacks;
static uint32_t nstacks;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int busy; /* inside backtrace() or our own code: do not follow */
static int ready;

/* dlsym() may calloc before real_calloc is known. */
static char bootstrap[4096];
static size_t bootstrap_used;

static int initializing;

static void *bootstrap_alloc(size_t size)
{
  size_t want = (size + 15) & ~(size_t)15;
  if (bootstrap_used + want > sizeof bootstrap)
    return NULL;
  void *p = bootstrap + bootstrap_used;
  bootstrap_used += want;
  return p;
}

static void init(void)
{
  if (ready || initializing)
    return;
  initializing = 1;
  busy++;
  real_malloc = dlsym(RTLD_NEXT, "malloc");
  real_calloc = dlsym(RTLD_NEXT, "calloc");
  real_realloc = dlsym(RTLD_NEXT, "realloc");
  real_free = dlsym(RTLD_NEXT, "free");
  real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
  real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
  real_memalign = dlsym(RTLD_NEXT, "memalign");
  slots = mmap(NULL, SLOTS * sizeof(Slot), PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  stacks = mmap(NULL, STACKS * sizeof(Stack), PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  /* backtrace() loads libgcc_s (and mallocs) the first time: do it now. */
  void *warm[2];
  backtrace(warm, 2);
  busy--;
  ready = 1;
  initializing = 0;
}

static uint32_t hash_ptr(void *p)
{
  uint64_t x = (uint64_t)(uintptr_t)p >> 4;
  x *= 0x9e3779b97f4a7c15ull;
  return (uint32_t)(x >> 40) & (SLOTS - 1);
}

static uint32_t intern_stack(void **frames, int depth)
{
  uint64_t h = 1469598103934665603ull;
  for (int i = 0; i < depth; i++)
    h = (h ^ (uintptr_t)frames[i]) * 1099511628211ull;
  uint32_t i = (uint32_t)h & (STACKS - 1);
  for (uint32_t n = 0; n < STACKS; n++, i = (i + 1) & (STACKS - 1)) {
    if (stacks[i].depth == 0) {
      memcpy(stacks[i].frames, frames, sizeof(void *) * depth);
      stacks[i].depth = depth;
      nstacks++;
      return i;
    }
    if (stacks[i].depth == depth && memcmp(stacks[i].frames, frames, sizeof(void *) * depth) == 0)
      return i;
  }
  return 0; /* full: lumped with whatever is in slot 0 */
}

static void track(void *p, size_t size)
{
  if (!p || size < MIN_SIZE || busy || !ready)
    return;
  busy++;
  void *frames[DEPTH + 2];
  int depth = backtrace(frames, DEPTH + 2);
  /* frames[0] is track(), frames[1] our malloc wrapper */
  int skip = depth > 2 ? 2 : depth;
  pthread_mutex_lock(&lock);
  uint32_t stack = intern_stack(frames + skip, depth - skip);
  uint32_t i = hash_ptr(p);
  for (uint32_t n = 0; n < SLOTS; n++, i = (i + 1) & (SLOTS - 1)) {
    if (slots[i].ptr == NULL || slots[i].ptr == TOMBSTONE) {
      slots[i] = (Slot){p, size, stack};
      break;
    }
  }
  pthread_mutex_unlock(&lock);
  busy--;
}

static void untrack(void *p)
{
  if (!p || !ready || busy)
    return;
  pthread_mutex_lock(&lock);
  uint32_t i = hash_ptr(p);
  for (uint32_t n = 0; n < SLOTS; n++, i = (i + 1) & (SLOTS - 1)) {
    if (slots[i].ptr == NULL)
      break;
    if (slots[i].ptr == p) {
      slots[i].ptr = TOMBSTONE;
      break;
    }
  }
  pthread_mutex_unlock(&lock);
}

void *malloc(size_t size)
{
  init();
  if (!real_malloc)
    return bootstrap_alloc(size);
  void *p = real_malloc(size);
  track(p, size);
  return p;
}

void *calloc(size_t n, size_t size)
{
  init();
  if (!real_calloc) /* dlsym's own, before we know the real one: zeroed */
    return bootstrap_alloc(n * size);
  void *p = real_calloc(n, size);
  track(p, n * size);
  return p;
}

void *realloc(void *old, size_t size)
{
  init();
  void *p = real_realloc(old, size);
  if (p || size == 0)
    untrack(old);
  track(p, size);
  return p;
}

void free(void *p)
{
  if ((char *)p >= bootstrap && (char *)p < bootstrap + sizeof bootstrap)
    return;
  init();
  untrack(p);
  real_free(p);
}

int posix_memalign(void **out, size_t align, size_t size)
{
  init();
  int r = real_posix_memalign(out, align, size);
  if (r == 0)
    track(*out, size);
  return r;
}

void *aligned_alloc(size_t align, size_t size)
{
  init();
  void *p = real_aligned_alloc(align, size);
  track(p, size);
  return p;
}

void *memalign(size_t align, size_t size)
{
  init();
  void *p = real_memalign(align, size);
  track(p, size);
  return p;
}

/* --- the report --- */

typedef struct {
  uint64_t count, bytes, untouched;
} Sum;

static void report(int n)
{
  char path[256];
  const char *base = getenv("UNTOUCHED_OUT") ? getenv("UNTOUCHED_OUT") : "/tmp/untouched";
  snprintf(path, sizeof path, "%s.%d.%d", base, (int)getpid(), n);
  int pm = open("/proc/self/pagemap", O_RDONLY);
  FILE *out = fopen(path, "w");
  if (pm < 0 || !out) {
    if (pm >= 0)
      close(pm);
    if (out)
      fclose(out);
    return;
  }
  Sum *sums =
      mmap(NULL, STACKS * sizeof(Sum), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  uint64_t all = 0, all_untouched = 0;
  pthread_mutex_lock(&lock);
  for (uint32_t i = 0; i < SLOTS; i++) {
    if (slots[i].ptr == NULL || slots[i].ptr == TOMBSTONE)
      continue;
    uintptr_t start = ((uintptr_t)slots[i].ptr + PAGE - 1) & ~(uintptr_t)(PAGE - 1);
    uintptr_t end = ((uintptr_t)slots[i].ptr + slots[i].size) & ~(uintptr_t)(PAGE - 1);
    uint64_t absent = 0;
    for (uintptr_t a = start; a < end; a += PAGE) {
      uint64_t entry = 0;
      if (pread(pm, &entry, sizeof entry, (off_t)(a / PAGE * sizeof entry)) == sizeof entry &&
          !(entry & (3ull << 62))) /* neither present nor swapped */
        absent += PAGE;
    }
    Sum *s = &sums[slots[i].stack];
    s->count++;
    s->bytes += slots[i].size;
    s->untouched += absent;
    all += slots[i].size;
    all_untouched += absent;
  }
  fprintf(out, "# total %llu bytes allocated in blocks of >= %d, %llu untouched\n",
          (unsigned long long)all, MIN_SIZE, (unsigned long long)all_untouched);
  for (uint32_t i = 0; i < STACKS; i++) {
    if (!sums[i].count)
      continue;
    fprintf(out, "%llu %llu %llu", (unsigned long long)sums[i].untouched,
            (unsigned long long)sums[i].bytes, (unsigned long long)sums[i].count);
    for (int f = 0; f < stacks[i].depth; f++) {
      Dl_info info;
      if (dladdr(stacks[i].frames[f], &info) && info.dli_fname)
        fprintf(out, " %s+0x%lx", info.dli_fname,
                (unsigned long)((uintptr_t)stacks[i].frames[f] - (uintptr_t)info.dli_fbase));
      else
        fprintf(out, " ?+%p", stacks[i].frames[f]);
    }
    fputc('\n', out);
  }
  pthread_mutex_unlock(&lock);
  munmap(sums, STACKS * sizeof(Sum));
  fclose(out);
  close(pm);
}

static void *watcher(void *arg)
{
  (void)arg;
  busy++; /* this thread's own allocations are not vigil's */
  const char *trigger =
      getenv("UNTOUCHED_TRIGGER") ? getenv("UNTOUCHED_TRIGGER") : "/tmp/untouched.trigger";
  for (int n = 1;;) {
    struct stat st;
    if (stat(trigger, &st) == 0) {
      unlink(trigger);
      report(n++);
    }
    sleep(1);
  }
  return NULL;
}

__attribute__((constructor)) static void start(void)
{
  init();
  pthread_t t;
  busy++;
  pthread_create(&t, NULL, watcher, NULL);
  pthread_detach(t);
  busy--;
}
