/* VigilWriterPool: the few threads that all segment writers share, instead of
 * a thread per recording camera.
 *
 * A client (one per VigilSegmentWriter) keeps its own work in memory and
 * tells the pool when it has some: vigil_writer_pool_mark() gets it serviced
 * at the next tick (one wake-up every VIGIL_WRITER_POOL_TICK_US for all
 * clients together), vigil_writer_pool_kick() as soon as a thread is free.
 * The pool calls the client's function on one of its threads; a client is
 * never run by two threads at once, so its work stays in order. Several
 * threads so that one client blocked in a slow write or fsync does not hold
 * up the others. The threads exist while the pool has clients. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Threads of the pool. More than one so that a client stuck on a slow disk
 * (or in a 10-30 ms fsync on a rotating one) leaves threads for the rest;
 * idle threads cost nothing, and wake-ups do not grow with their number. */
#define VIGIL_WRITER_POOL_THREADS 4
/* How often marked clients are serviced. */
#define VIGIL_WRITER_POOL_TICK_US (250 * 1000)

typedef struct _VigilPoolClient VigilPoolClient;

/* Runs on a pool thread; never twice at once for one client. */
typedef void (*VigilPoolFunc)(gpointer data);

/* Joins the pool, starting its threads if it had no client. */
VigilPoolClient *vigil_writer_pool_join(VigilPoolFunc func, gpointer data);
/* Waits until @client is neither running nor due to run, then leaves; the
 * last client to leave stops the threads. Not from @client's function. */
void vigil_writer_pool_leave(VigilPoolClient *client);
/* @client has work: run it at the next tick. Call it when work appears
 * (it takes the pool's lock); marking twice before a run changes nothing. */
void vigil_writer_pool_mark(VigilPoolClient *client);
/* Runs @client as soon as a thread is free; once more after the current run
 * if it is running. */
void vigil_writer_pool_kick(VigilPoolClient *client);

G_END_DECLS
