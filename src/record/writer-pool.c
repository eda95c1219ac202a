/* The shared pool of segment writer threads: clients queued in order, a tick
 * held by one idle thread, and no wake-up unless there is work. */
#define G_LOG_DOMAIN "vigil-record"

#include "record/writer-pool.h"

typedef enum {
  CLIENT_IDLE,
  CLIENT_QUEUED,  /* in the pool's queue */
  CLIENT_RUNNING, /* a thread runs its function */
} ClientState;

typedef struct Pool Pool;

struct _VigilPoolClient {
  Pool *pool;
  VigilPoolFunc func;
  gpointer data;
  /* pool lock */
  ClientState state;
  gboolean marked; /* run at the next tick */
  gboolean kicked; /* run again as soon as the current run ends */
};

struct Pool {
  GMutex lock;
  GCond work;         /* idle workers wait here for a client to run */
  GCond timer;        /* the idle worker holding the tick waits here */
  GCond done;         /* vigil_writer_pool_leave waits here for a run to end */
  GPtrArray *clients; /* VigilPoolClient*, not owned */
  GQueue queue;       /* clients CLIENT_QUEUED, oldest first */
  GThread *threads[VIGIL_WRITER_POOL_THREADS];
  guint idle;         /* workers waiting on work (not the tick holder) */
  guint leaving;      /* callers waiting on done */
  gboolean ticking;   /* a tick is due at next_tick */
  gboolean tick_held; /* an idle worker waits on timer for next_tick */
  gint64 next_tick;   /* monotonic */
  gboolean quit;
};

/* Guards the pool's creation and end (join and leave, main thread). */
static GMutex pool_mutex;
static Pool *the_pool;

/* pool lock held */
static void enqueue(Pool *p, VigilPoolClient *c)
{
  c->state = CLIENT_QUEUED;
  g_queue_push_tail(&p->queue, c);
}

/* Wakes one idle worker for a queued client, the tick holder only if no
 * other is idle (so the tick keeps its holder). pool lock held */
static void wake_one(Pool *p)
{
  if (p->idle > 0)
    g_cond_signal(&p->work);
  else if (p->tick_held)
    g_cond_signal(&p->timer);
}

/* Queues every marked client that is idle (pool lock held). Marked clients
 * that are running stay marked for the next tick. The tick stops when it
 * finds nothing to do, and vigil_writer_pool_mark restarts it. */
static void tick(Pool *p, gint64 now)
{
  gboolean more = FALSE;
  for (guint i = 0; i < p->clients->len; i++) {
    VigilPoolClient *c = g_ptr_array_index(p->clients, i);
    if (!c->marked)
      continue;
    more = TRUE;
    if (c->state == CLIENT_IDLE) {
      c->marked = FALSE;
      enqueue(p, c);
    }
  }
  p->ticking = more;
  p->next_tick = now + VIGIL_WRITER_POOL_TICK_US;
}

static gpointer worker(gpointer data)
{
  Pool *p = data;
  g_mutex_lock(&p->lock);
  for (;;) {
    if (p->ticking && g_get_monotonic_time() >= p->next_tick)
      tick(p, g_get_monotonic_time());
    VigilPoolClient *c = g_queue_pop_head(&p->queue);
    if (c) {
      /* More waiting: wake one more worker, which does the same. So a tick
       * with many clients spreads over the threads, one with one client
       * wakes one thread. */
      if (!g_queue_is_empty(&p->queue))
        wake_one(p);
      c->state = CLIENT_RUNNING;
      g_mutex_unlock(&p->lock);
      c->func(c->data);
      g_mutex_lock(&p->lock);
      if (c->kicked) {
        c->kicked = FALSE;
        enqueue(p, c);
      } else {
        c->state = CLIENT_IDLE;
      }
      if (p->leaving > 0)
        g_cond_broadcast(&p->done);
      continue;
    }
    if (p->quit)
      break;
    if (p->ticking && !p->tick_held) {
      /* One idle worker holds the tick; the others sleep until there is
       * a client to run. */
      p->tick_held = TRUE;
      g_cond_wait_until(&p->timer, &p->lock, p->next_tick);
      p->tick_held = FALSE;
    } else {
      p->idle++;
      g_cond_wait(&p->work, &p->lock);
      p->idle--;
    }
  }
  g_mutex_unlock(&p->lock);
  return NULL;
}

static Pool *pool_new(void)
{
  Pool *p = g_new0(Pool, 1);
  g_mutex_init(&p->lock);
  g_cond_init(&p->work);
  g_cond_init(&p->timer);
  g_cond_init(&p->done);
  p->clients = g_ptr_array_new();
  g_queue_init(&p->queue);
  /* Named as the per-camera writer threads were, for the benchmarks' and
   * top's thread breakdowns. */
  for (guint i = 0; i < VIGIL_WRITER_POOL_THREADS; i++)
    p->threads[i] = g_thread_new("vigil-recwrite", worker, p);
  return p;
}

static void pool_free(Pool *p)
{
  g_mutex_lock(&p->lock);
  p->quit = TRUE;
  g_cond_broadcast(&p->work);
  g_cond_broadcast(&p->timer);
  g_mutex_unlock(&p->lock);
  for (guint i = 0; i < VIGIL_WRITER_POOL_THREADS; i++)
    g_thread_join(p->threads[i]);
  g_ptr_array_unref(p->clients);
  g_mutex_clear(&p->lock);
  g_cond_clear(&p->work);
  g_cond_clear(&p->timer);
  g_cond_clear(&p->done);
  g_free(p);
}

VigilPoolClient *vigil_writer_pool_join(VigilPoolFunc func, gpointer data)
{
  g_return_val_if_fail(func != NULL, NULL);
  g_mutex_lock(&pool_mutex);
  if (!the_pool)
    the_pool = pool_new();
  VigilPoolClient *c = g_new0(VigilPoolClient, 1);
  c->pool = the_pool;
  c->func = func;
  c->data = data;
  g_mutex_lock(&the_pool->lock);
  g_ptr_array_add(the_pool->clients, c);
  g_mutex_unlock(&the_pool->lock);
  g_mutex_unlock(&pool_mutex);
  return c;
}

void vigil_writer_pool_leave(VigilPoolClient *c)
{
  if (!c)
    return;
  Pool *p = c->pool;
  g_mutex_lock(&pool_mutex);
  g_mutex_lock(&p->lock);
  p->leaving++;
  while (c->state != CLIENT_IDLE)
    g_cond_wait(&p->done, &p->lock);
  p->leaving--;
  g_ptr_array_remove_fast(p->clients, c);
  gboolean last = p->clients->len == 0;
  g_mutex_unlock(&p->lock);
  g_free(c);
  if (last) {
    pool_free(p);
    the_pool = NULL;
  }
  g_mutex_unlock(&pool_mutex);
}

void vigil_writer_pool_mark(VigilPoolClient *c)
{
  Pool *p = c->pool;
  g_mutex_lock(&p->lock);
  /* A queued client has not started: its run takes this work too. */
  if (!c->marked && c->state != CLIENT_QUEUED) {
    c->marked = TRUE;
    if (!p->ticking) {
      /* The tick had stopped: start it. An idle worker wakes to hold it
       * (none idle: the next one to finish holds it). */
      p->ticking = TRUE;
      p->next_tick = g_get_monotonic_time() + VIGIL_WRITER_POOL_TICK_US;
      if (p->idle > 0)
        g_cond_signal(&p->work);
    }
  }
  g_mutex_unlock(&p->lock);
}

void vigil_writer_pool_kick(VigilPoolClient *c)
{
  Pool *p = c->pool;
  g_mutex_lock(&p->lock);
  if (c->state == CLIENT_IDLE) {
    c->marked = FALSE;
    enqueue(p, c);
    wake_one(p);
  } else if (c->state == CLIENT_RUNNING) {
    c->kicked = TRUE;
  }
  g_mutex_unlock(&p->lock);
}
