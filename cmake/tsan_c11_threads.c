// ThreadSanitizer build only (VIGIL_TSAN): C11 threads on top of the intercepted pthread calls.
//
// Debian's librdkafka creates its threads with thrd_create and locks with mtx_lock/cnd_wait.
// glibc implements those by calling its internal pthread functions directly, which TSan's
// interceptors never see: a thread made that way has no TSan state, and the first malloc on
// it crashes inside the sanitizer (rdk:broker-1, SEGV in SizeClassAllocator64LocalCache;
// google/sanitizers#1195 and #1603: TSan does not support C11 threads). These definitions in
// the executable take precedence over glibc's for librdkafka's calls and forward to the
// public pthread functions, so its threads are registered and its mutexes, condition
// variables and joins are synchronisation TSan understands (no false races through its
// queues). glibc's mtx_t, cnd_t and once_flag are its pthread types under another name.
//
// librdkafka also creates mutexes on one thread (a partition's, on a broker thread) and hands
// the object holding them to another with its own atomics, which TSan cannot see: the first
// lock elsewhere was reported as racing with pthread_mutex_init. Initialisation therefore
// releases, and every use acquires, the object's address: "initialised before used", which
// librdkafka guarantees by means TSan does not see.
#include <errno.h>
#include <pthread.h>
#include <sanitizer/tsan_interface.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

_Static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t), "glibc's mtx_t is a pthread_mutex_t");
_Static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t), "glibc's cnd_t is a pthread_cond_t");
_Static_assert(sizeof(once_flag) == sizeof(pthread_once_t), "glibc's once_flag is a pthread_once_t");
_Static_assert(sizeof(thrd_t) == sizeof(pthread_t), "glibc's thrd_t is a pthread_t");

static int to_thrd(int err) {
  switch (err) {
    case 0: return thrd_success;
    case ENOMEM: return thrd_nomem;
    case EBUSY: return thrd_busy;
    case ETIMEDOUT: return thrd_timedout;
    default: return thrd_error;
  }
}

struct vigil_thrd_start {
  thrd_start_t func;
  void* arg;
};

static void* vigil_thrd_trampoline(void* p) {
  struct vigil_thrd_start start = *(struct vigil_thrd_start*)p;
  free(p);
  // As glibc's: thrd_exit(res) is pthread_exit((void*)(intptr_t)res).
  return (void*)(intptr_t)start.func(start.arg);
}

int thrd_create(thrd_t* thr, thrd_start_t func, void* arg) {
  struct vigil_thrd_start* start = malloc(sizeof *start);
  if (start == NULL) return thrd_nomem;
  start->func = func;
  start->arg = arg;
  const int err = pthread_create((pthread_t*)thr, NULL, vigil_thrd_trampoline, start);
  if (err != 0) free(start);
  return to_thrd(err);
}

int thrd_join(thrd_t thr, int* res) {
  void* out = NULL;
  const int err = pthread_join((pthread_t)thr, &out);
  if (err == 0 && res != NULL) *res = (int)(intptr_t)out;
  return to_thrd(err);
}

int thrd_detach(thrd_t thr) {
  return to_thrd(pthread_detach((pthread_t)thr));
}

int mtx_init(mtx_t* mtx, int type) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  if (type & mtx_recursive) pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  const int err = pthread_mutex_init((pthread_mutex_t*)mtx, &attr);
  pthread_mutexattr_destroy(&attr);
  __tsan_release(mtx);
  return to_thrd(err);
}

int mtx_lock(mtx_t* mtx) {
  __tsan_acquire(mtx);
  return to_thrd(pthread_mutex_lock((pthread_mutex_t*)mtx));
}

int mtx_trylock(mtx_t* mtx) {
  __tsan_acquire(mtx);
  return to_thrd(pthread_mutex_trylock((pthread_mutex_t*)mtx));
}

int mtx_timedlock(mtx_t* restrict mtx, const struct timespec* restrict deadline) {
  __tsan_acquire(mtx);
  return to_thrd(pthread_mutex_timedlock((pthread_mutex_t*)mtx, deadline));
}

int mtx_unlock(mtx_t* mtx) {
  return to_thrd(pthread_mutex_unlock((pthread_mutex_t*)mtx));
}

void mtx_destroy(mtx_t* mtx) {
  pthread_mutex_destroy((pthread_mutex_t*)mtx);
}

int cnd_init(cnd_t* cond) {
  const int err = pthread_cond_init((pthread_cond_t*)cond, NULL);
  __tsan_release(cond);
  return to_thrd(err);
}

int cnd_signal(cnd_t* cond) {
  __tsan_acquire(cond);
  return to_thrd(pthread_cond_signal((pthread_cond_t*)cond));
}

int cnd_broadcast(cnd_t* cond) {
  __tsan_acquire(cond);
  return to_thrd(pthread_cond_broadcast((pthread_cond_t*)cond));
}

int cnd_wait(cnd_t* cond, mtx_t* mtx) {
  __tsan_acquire(cond);
  return to_thrd(pthread_cond_wait((pthread_cond_t*)cond, (pthread_mutex_t*)mtx));
}

int cnd_timedwait(cnd_t* restrict cond, mtx_t* restrict mtx, const struct timespec* restrict deadline) {
  __tsan_acquire(cond);
  return to_thrd(pthread_cond_timedwait((pthread_cond_t*)cond, (pthread_mutex_t*)mtx, deadline));
}

void cnd_destroy(cnd_t* cond) {
  pthread_cond_destroy((pthread_cond_t*)cond);
}

void call_once(once_flag* flag, void (*func)(void)) {
  pthread_once((pthread_once_t*)flag, func);
}
