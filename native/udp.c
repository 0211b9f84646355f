/*
 * winsmith-udp.node: a connected UDP socket on Node's event loop, for traffic where node:dgram's
 * per-datagram cost is most of the work (the data phase of a TFTP transfer: a few bytes in, one or
 * a window of large packets out, tens of thousands of times a second).
 *
 * node:dgram allocates a 64 KiB buffer for every datagram it receives, copies the bytes out of it,
 * builds an address object (inet_ntop) and reads again until EAGAIN; and it makes one JS call, one
 * request object and one syscall for every datagram sent. This socket receives each datagram into
 * one buffer the caller owns, passes only its length to JS, and sends a run of equal-sized packets
 * laid out one after the other in a buffer with one sendmmsg(2). And for a peer that waits for each
 * answer before it speaks again (lock-step), the caller can arm a sequence of answers: each goes
 * out as soon as the datagram it expects arrives, without entering JS.
 *
 * While a sequence is armed, the socket is read by a thread of its own (started at the first arm,
 * signals blocked), not by the event loop: a recv(2), a memcmp, a sendmmsg(2) per step, two
 * syscalls where the loop would make three (its epoll_wait too), and nothing of Node's touched
 * between two blocks; for a peer that answers within microseconds, the thread polls for the next
 * datagram a moment before it blocks, and so does not wait for its CPU to wake. Whatever the thread
 * does not answer (a datagram no step expects, the end of the sequence with none queued to follow
 * it, a step the kernel did not take whole, an error) it hands over: it stops reading and wakes the
 * loop (uv_async), which tells JS, then gives the socket back to the thread if a sequence is still
 * armed, or polls it itself if not. So JS hears of everything in the order it happened, and no
 * step fires while JS handles a datagram. The state the two share is under one lock, which the
 * thread lets go while it sends.
 *
 * The socket is connected (connect(2)): the kernel drops datagrams from anyone but the peer, so
 * there is no address to report. It speaks no protocol: what the bytes mean is the caller's. An
 * armed sequence compares bytes and sends packets, both given by the caller.
 *
 *   open(local, remote, remotePort, buffer, onDatagram, onAnswered, onWritable, onError) -> socket
 *     A socket bound to the address `local` (port chosen by the kernel) and connected to
 *     remote:remotePort (numeric IPv4 or IPv6, with a zone for link-local: "fe80::1%eth0"). Each
 *     datagram received is written at the start of `buffer` (a longer one is cut to its size) and,
 *     unless an armed step answers it, onDatagram(length) is called: the bytes are the caller's until
 *     it returns. onAnswered(steps, lastTaken) tells of armed steps answered (see arm). onWritable()
 *     is called once the kernel takes packets again after a send that it did not take whole.
 *     onError(code) is called with an errno name (ECONNREFUSED when the peer's port is closed, …);
 *     after it the socket receives nothing more. Throws an Error whose code is the errno name when
 *     the socket cannot be made.
 *   send(socket, buffer, offset, stride, count, lastLength) -> number of packets the kernel took
 *     Packets i = 0..count-1 of `stride` bytes at offset + i × stride, the last one `lastLength`
 *     bytes. Fewer than count when the send buffer is full (onWritable follows); throws an Error
 *     with the errno name as code for any other failure.
 *   arm(socket, expect, expectLength, perStep, buffer, offset, stride, count, lastLength)
 *     Arms a sequence of steps, replacing the one armed before: step i waits for the datagram equal
 *     to bytes [i × expectLength, (i + 1) × expectLength) of `expect`, and answers it with packets
 *     [i × perStep, (i + 1) × perStep) of the run (laid out as for send). A datagram that is not the
 *     one the next step waits for goes to onDatagram, the sequence staying as it is. Steps answered
 *     are told to onAnswered(steps, lastTaken) (lastTaken: packets the kernel took of the last one;
 *     the others were taken whole) at the sequence's end (its last step, or a step not taken whole),
 *     before the next onDatagram, or collected by takeAnswered. Both buffers are held, and read as
 *     steps fire. Throws EBUSY while steps answered are not yet collected.
 *   follow(socket, expect, expectLength, perStep, buffer, offset, stride, count, lastLength) -> bool
 *     Queues a sequence (as for arm) to be armed when the armed one answers its last step, without
 *     a hand-over: the thread reads on, and the loop tells onAnswered of the steps answered so far
 *     meanwhile. So a peer in lock-step never waits for JS at the end of a sequence, if JS queues
 *     the next one in time. False, nothing queued, when no sequence is armed (it ended already) or
 *     one is queued. A step the kernel did not take whole, a failure, disarm or arm end both.
 *   disarm(socket)                     no step fires from now on (one firing is finished first),
 *                                      none of a queued sequence either
 *   takeAnswered(socket) -> [steps, lastTaken]
 *                                      the steps answered that onAnswered was not told of (reset)
 *   polls(socket) -> [polled, caught]  waits the thread polled in before it blocked, and the
 *                                      datagrams it caught so (see receive())
 *   setSendBufferSize(socket, bytes)   SO_SNDBUF (the kernel caps it at net.core.wmem_max)
 *   close(socket)                      stops it; no callback is called after; idempotent
 *
 * Built at set-up (scripts/setup.sh) against Node-API (the node-api-headers npm package) and
 * libuv's header (Debian libuv1-dev): Node exports both ABIs to addons. The uv_poll_t and
 * uv_async_t are sized at run time by the running libuv (uv_handle_size), not by the header.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

/* Packets one sendmmsg(2) takes at most (UIO_MAXIOV is 1024; a TFTP window is at most 256 KiB). */
#define BATCH 256
/* Bytes an expected datagram of an armed sequence has at most. */
#define EXPECT_MAX 16
/* The stack of a socket's reader thread: it calls nothing deep (recv, memcmp, sendmmsg). */
#define READER_STACK (64 * 1024)
/* How long the thread polls for the next datagram before it blocks (see receive()). */
#define POLL_NS 30000
/* A poll that catches nothing raises the thread's poll level by this much, one that catches a
 * datagram lowers it by one: the level stays low while four polls in five catch. */
#define POLL_MISS_WEIGHT 4
/* The highest poll level: after a poll in vain there, the thread blocks without polling in the
 * next 2^10 - 1 waits. */
#define POLL_LEVEL_MAX (10 * POLL_MISS_WEIGHT)

/* Reader threads polling right now, in the whole process, and how many may at once: one less than
 * the CPUs online (set at load), so that one is always left for everything else. */
static atomic_int pollers;
static int pollers_max;

/* A run of packets laid out one after the other: `count` of `stride` bytes from `data`, the last one
 * `last` bytes. */
typedef struct packets {
  unsigned char *data;
  uint32_t stride;
  uint32_t count;
  uint32_t last;
} packets;

/* A sequence of steps: step i answers the datagram equal to bytes [i × expect_length, (i + 1) ×
 * expect_length) of `expect` with the packets [i × per_step, (i + 1) × per_step) of `replies`. Its
 * buffers are held (`held`) from arm() or follow() until the loop lets go of them, once the sequence
 * is neither armed nor queued. */
typedef struct sequence {
  bool held;
  const unsigned char *expect;
  size_t expect_length;
  uint32_t steps;
  uint32_t per_step;
  packets replies;
  napi_ref expect_buffer;
  napi_ref replies_buffer;
} sequence;

/* Who receives the socket's datagrams. */
typedef enum reader {
  /* The loop's poll: each datagram goes to onDatagram. */
  READER_LOOP,
  /* The socket's thread, while a sequence is armed: it answers the datagrams the steps expect. */
  READER_THREAD,
  /* Nobody: the thread has stopped and left the loop something to hear (handed_over()). */
  READER_HANDOVER,
} reader;

typedef struct socket_state {
  uv_poll_t *poll;
  uv_async_t *wake;
  /* Handles not yet closed, once close() has begun. */
  int handles;
  int fd;
  int events;
  napi_env env;
  napi_ref buffer;
  unsigned char *data;
  size_t capacity;
  napi_ref on_datagram;
  napi_ref on_answered;
  napi_ref on_writable;
  napi_ref on_error;
  napi_ref resource;
  napi_async_context async;
  /* Everything below is shared with the reader thread, under `lock`. */
  pthread_mutex_t lock;
  pthread_cond_t turn;
  /* The thread sends a step's packets without the lock, `firing` set: the loop waits on `fired`
   * before it changes the armed sequence (the buffers being sent from). */
  bool firing;
  pthread_cond_t fired;
  pthread_t thread;
  bool threaded;
  bool closing;
  reader reader;
  /* Two sequences: the armed one, `current` (its steps fire in order, `steps_fired` of them so far,
   * without calling JS, while `armed`), and the one queued to follow it, the other (`queued`). */
  sequence sequences[2];
  uint32_t current;
  bool armed;
  bool queued;
  uint32_t steps_fired;
  /* Steps answered since JS last heard of them (all taken whole), and the packets the kernel took
   * of the last step answered. */
  uint32_t pending;
  uint32_t last_taken;
  /* What the thread hands over when it stops: a datagram no step answered (`inbox`, its length, or
   * -1), an errno, whether the kernel did not take a step whole. */
  unsigned char *inbox;
  ssize_t inbox_length;
  int failure;
  bool blocked;
  /* Waits the thread polled in, and the datagrams it caught so. */
  uint32_t polled;
  uint32_t caught;
  /* The thread's own, no lock: waits left that it blocks in without polling, and its poll level. */
  uint32_t poll_skip;
  uint32_t poll_level;
} socket_state;

/* What JS holds: it outlives the socket (close frees the state, the finalizer frees the box). */
typedef struct box {
  socket_state *state;
} box;

static const char *errno_name(int e) {
  const char *name = strerrorname_np(e);
  return name != NULL ? name : "EIO";
}

static napi_value throw_errno(napi_env env, const char *what, int e) {
  char message[128];
  snprintf(message, sizeof message, "%s: %s", what, strerror(e));
  napi_throw_error(env, errno_name(e), message);
  return NULL;
}

/* Calls a JS function from the event loop (not from JS), inside the caller's handle scope: in an async
 * context, so process.nextTick and promise jobs run after it, and an exception it throws goes to
 * process 'uncaughtException'. */
static void call_js(socket_state *s, napi_ref function, size_t argc, napi_value *argv) {
  napi_env env = s->env;
  napi_value fn, resource, result;
  napi_get_reference_value(env, function, &fn);
  napi_get_reference_value(env, s->resource, &resource);
  if (napi_make_callback(env, s->async, resource, fn, argc, argv, &result) == napi_pending_exception) {
    napi_value exception;
    napi_get_and_clear_last_exception(env, &exception);
    napi_fatal_exception(env, exception);
  }
}

/* Calls a JS function with `argc` numbers (two at most). */
static void call_with_numbers(socket_state *s, napi_ref function, size_t argc, const uint32_t *numbers) {
  napi_handle_scope scope;
  if (napi_open_handle_scope(s->env, &scope) != napi_ok) return;
  napi_value argv[2];
  for (size_t i = 0; i < argc; i++) napi_create_uint32(s->env, numbers[i], &argv[i]);
  call_js(s, function, argc, argv);
  napi_close_handle_scope(s->env, scope);
}

static void report_error(socket_state *s, int e) {
  napi_handle_scope scope;
  if (napi_open_handle_scope(s->env, &scope) != napi_ok) return;
  napi_value code;
  napi_create_string_utf8(s->env, errno_name(e), NAPI_AUTO_LENGTH, &code);
  call_js(s, s->on_error, 1, &code);
  napi_close_handle_scope(s->env, scope);
}

static void on_poll(uv_poll_t *poll, int status, int events);

/* Polls for what the loop waits for: datagrams while it is the reader, writability after a send
 * the kernel did not take whole. */
static void watch(socket_state *s) {
  if (s->events == 0) uv_poll_stop(s->poll);
  else uv_poll_start(s->poll, s->events, on_poll);
}

/* Sends the packets with as few sendmmsg(2) as it takes (one packet with send(2), which copies no
 * message header in: a lock-step block): the number the kernel took (fewer when its buffer is
 * full), or -errno on any other failure. */
static int send_run(int fd, const packets *p) {
  while (p->count == 1) {
    if (send(fd, p->data, p->last, MSG_DONTWAIT) >= 0) return 1;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS ? 0 : -errno;
  }
  struct mmsghdr messages[BATCH];
  struct iovec vectors[BATCH];
  uint32_t sent = 0;
  while (sent < p->count) {
    uint32_t n = p->count - sent < BATCH ? p->count - sent : BATCH;
    for (uint32_t i = 0; i < n; i++) {
      uint32_t index = sent + i;
      vectors[i].iov_base = p->data + (size_t)p->stride * index;
      vectors[i].iov_len = index == p->count - 1 ? p->last : p->stride;
      memset(&messages[i], 0, sizeof messages[i]);
      messages[i].msg_hdr.msg_iov = &vectors[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
    int r = sendmmsg(fd, messages, n, MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) break;
      return -errno;
    }
    sent += (uint32_t)r;
    if ((uint32_t)r < n) break;
  }
  return (int)sent;
}

/* Lets go of the buffers of the sequences neither armed nor queued (on the loop: references are
 * JS's; the thread only clears `armed` and `queued`). */
static void release(socket_state *s) {
  for (uint32_t i = 0; i < 2; i++) {
    sequence *q = &s->sequences[i];
    bool in_use = i == s->current ? s->armed : s->queued;
    if (!q->held || in_use) continue;
    q->held = false;
    napi_delete_reference(s->env, q->expect_buffer);
    napi_delete_reference(s->env, q->replies_buffer);
  }
}

/* No step fires from now on, none of a queued sequence either, and the buffers go: on the loop,
 * under the lock. A step being sent is finished first. */
static void end_sequence(socket_state *s) {
  while (s->firing) pthread_cond_wait(&s->fired, &s->lock);
  s->armed = false;
  s->queued = false;
  release(s);
}

/* The steps answered that JS has not heard of, and the packets the kernel took of the last one, into
 * `out`; they count as heard. Under the lock. */
static void collect(socket_state *s, uint32_t out[2]) {
  out[0] = s->pending;
  out[1] = s->last_taken;
  s->pending = 0;
}

/* The thread stops reading and wakes the loop to hear what it leaves (under the lock). */
static void hand_over(socket_state *s) {
  s->reader = READER_HANDOVER;
  uv_async_send(s->wake);
}

/* Answers the datagram in the inbox (n bytes) when it is the one the armed sequence waits for: true
 * when it did. After its last step, the queued sequence is armed, and the loop is woken to tell JS
 * while the thread reads on; with none queued, the thread hands over. When the kernel did not take
 * a step whole, or sending failed, both sequences end and the thread hands over. Under the lock,
 * which it lets go while it sends (`firing`): the loop's calls then wait only for what changes the
 * armed sequence. */
static bool answer(socket_state *s, ssize_t n) {
  const sequence *q = &s->sequences[s->current];
  if (!s->armed || (size_t)n != q->expect_length ||
      memcmp(s->inbox, q->expect + (size_t)s->steps_fired * q->expect_length, q->expect_length) != 0)
    return false;
  uint32_t first = s->steps_fired * q->per_step;
  bool final = s->steps_fired == q->steps - 1;
  packets step = {q->replies.data + (size_t)q->replies.stride * first, q->replies.stride,
                  final ? q->replies.count - first : q->per_step,
                  final ? q->replies.last : q->replies.stride};
  s->firing = true;
  pthread_mutex_unlock(&s->lock);
  int taken = send_run(s->fd, &step);
  pthread_mutex_lock(&s->lock);
  s->firing = false;
  pthread_cond_broadcast(&s->fired);
  if (taken < 0) s->failure = -taken;
  else {
    s->steps_fired++;
    s->pending++;
    s->last_taken = (uint32_t)taken;
    s->blocked = (uint32_t)taken < step.count;
  }
  if (taken < 0 || s->blocked) {
    s->armed = s->queued = false;
    hand_over(s);
  } else if (final && s->queued) {
    s->current ^= 1;
    s->queued = false;
    s->steps_fired = 0;
    uv_async_send(s->wake);
  } else if (final) {
    s->armed = false;
    hand_over(s);
  }
  return true;
}

/* What receive() did besides receiving. */
typedef enum polling {
  NOT_POLLED,
  POLLED_IN_VAIN,
  CAUGHT_POLLING,
} polling;

/* A reader thread may poll if fewer than pollers_max do. */
static bool start_polling(void) {
  int n = atomic_load_explicit(&pollers, memory_order_relaxed);
  while (n < pollers_max)
    if (atomic_compare_exchange_weak_explicit(&pollers, &n, n + 1, memory_order_relaxed, memory_order_relaxed))
      return true;
  return false;
}

/* The thread's recv(2) into the inbox (the lock not held). A peer on the same host, or across a fast
 * network, answers a step within microseconds: less than a CPU takes to wake from halt when recv
 * blocks, which in a VM is an exit to the host and back, the larger part of a lock-step block's
 * time. So the thread first polls (recv with MSG_DONTWAIT) for up to POLL_NS, while polling pays.
 * A poll that catches nothing raises the poll level by POLL_MISS_WEIGHT, one that catches lowers it
 * by one, and after a poll in vain the thread blocks without polling in the next 2^(level /
 * POLL_MISS_WEIGHT) - 1 waits: none while nearly every poll catches, 1, 3, 7, … 1023 as polls go on
 * missing. A peer slower than POLL_NS (or a host that keeps its CPU from it: spinning then takes
 * time from the peer) so costs a poll every 1024 waits, and a peer whose answers come in time
 * fewer than four times in five, a few polls in a thousand waits. No more threads poll at once
 * than there are CPUs to spare (pollers_max). */
static ssize_t receive(socket_state *s, int *error, polling *polled) {
  *polled = NOT_POLLED;
  if (s->poll_skip > 0) s->poll_skip--;
  else if (start_polling()) {
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    ssize_t n;
    do {
      n = recv(s->fd, s->inbox, s->capacity, MSG_DONTWAIT);
      *error = errno;
      if (n >= 0 || (*error != EAGAIN && *error != EWOULDBLOCK)) break;
      clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) < POLL_NS);
    atomic_fetch_sub_explicit(&pollers, 1, memory_order_relaxed);
    *polled = n >= 0 ? CAUGHT_POLLING : POLLED_IN_VAIN;
    if (n >= 0 && s->poll_level > 0) s->poll_level--;
    if (n >= 0 || (*error != EAGAIN && *error != EWOULDBLOCK)) return n;
    s->poll_level += POLL_MISS_WEIGHT;
    if (s->poll_level > POLL_LEVEL_MAX) s->poll_level = POLL_LEVEL_MAX;
    s->poll_skip = (1u << (s->poll_level / POLL_MISS_WEIGHT)) - 1;
  }
  ssize_t n = recv(s->fd, s->inbox, s->capacity, 0);
  *error = errno;
  return n;
}

/* The socket's reader while a sequence is armed: a recv(2) (receive()) and, for the datagram a step
 * expects, its send. It hands anything else over to the loop and waits for its turn again. */
static void *read_armed(void *argument) {
  socket_state *s = argument;
  pthread_mutex_lock(&s->lock);
  for (;;) {
    while (s->reader != READER_THREAD && !s->closing) pthread_cond_wait(&s->turn, &s->lock);
    if (s->closing) break;
    pthread_mutex_unlock(&s->lock);
    int e;
    polling polled;
    ssize_t n = receive(s, &e, &polled);
    pthread_mutex_lock(&s->lock);
    s->polled += polled != NOT_POLLED;
    s->caught += polled == CAUGHT_POLLING;
    if (s->closing) break;
    if (n < 0) {
      if (e == EINTR) continue;
      s->failure = e;
      hand_over(s);
    } else if (!answer(s, n)) {
      s->inbox_length = n;
      hand_over(s);
    }
  }
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

/* Gives the socket to its thread (started the first time), the loop no longer polling for
 * datagrams. 0, or the errno of a thread that could not start. On the loop, under the lock. */
static int give_to_thread(socket_state *s) {
  if (!s->threaded) {
    /* The thread's recv blocks; every other call on the socket says MSG_DONTWAIT. */
    int flags = fcntl(s->fd, F_GETFL);
    if (flags < 0 || fcntl(s->fd, F_SETFL, flags & ~O_NONBLOCK) != 0) return errno;
    pthread_attr_t attributes;
    sigset_t all, previous;
    pthread_attr_init(&attributes);
    pthread_attr_setstacksize(&attributes, READER_STACK);
    /* Signals are the loop's business: the thread starts with all of them blocked. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    int e = pthread_create(&s->thread, &attributes, read_armed, s);
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    pthread_attr_destroy(&attributes);
    if (e != 0) {
      fcntl(s->fd, F_SETFL, flags);
      return e;
    }
    s->threaded = true;
  }
  s->reader = READER_THREAD;
  s->events &= ~UV_READABLE;
  watch(s);
  pthread_cond_signal(&s->turn);
  return 0;
}

/* The loop's turn after the thread handed over: JS hears of the steps answered, the failure, the
 * datagram no step answered, in that order; then the thread reads again if a sequence is armed,
 * and the loop does if not. Or, the thread having gone on to a queued sequence, JS hears of the
 * steps answered so far while it reads on. */
static void handed_over(uv_async_t *wake) {
  socket_state *s = wake->data;
  pthread_mutex_lock(&s->lock);
  /* Not a hand-over: the thread reads on, gone on to the queued sequence. */
  bool handover = s->reader == READER_HANDOVER;
  uint32_t answered[2];
  collect(s, answered);
  int failure = 0;
  ssize_t length = -1;
  if (handover) {
    s->reader = READER_LOOP;
    failure = s->failure;
    s->failure = 0;
    length = s->inbox_length;
    s->inbox_length = -1;
    if (length >= 0) memcpy(s->data, s->inbox, (size_t)length);
    if (s->blocked) {
      s->blocked = false;
      s->events |= UV_WRITABLE;
    }
  }
  release(s);
  pthread_mutex_unlock(&s->lock);

  if (answered[0] != 0) call_with_numbers(s, s->on_answered, 2, answered);
  if (s->poll == NULL || !handover) return; /* closed by the callback, or the thread reads on */
  if (failure != 0) {
    report_error(s, failure);
    if (s->poll == NULL) return;
  }
  if (length >= 0) {
    uint32_t n = (uint32_t)length;
    call_with_numbers(s, s->on_datagram, 1, &n);
    if (s->poll == NULL) return;
  }
  pthread_mutex_lock(&s->lock);
  if (s->reader == READER_LOOP) {
    if (s->armed) give_to_thread(s);
    else {
      s->events |= UV_READABLE;
      watch(s);
    }
  }
  pthread_mutex_unlock(&s->lock);
}

static void on_poll(uv_poll_t *poll, int status, int events) {
  socket_state *s = poll->data;
  if (status < 0) {
    /* libuv says EBADF for any POLLERR (and stops the poll): the socket's own error says which. */
    int e = 0;
    socklen_t length = sizeof e;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &length) != 0 || e == 0) e = -status;
    report_error(s, e);
    return;
  }
  if (events & UV_WRITABLE) {
    s->events &= ~UV_WRITABLE;
    watch(s);
    call_with_numbers(s, s->on_writable, 0, NULL);
    if (s->poll == NULL) return; /* closed by the callback */
  }
  if ((events & UV_READABLE) && (s->events & UV_READABLE)) {
    /* One datagram per wake-up: the poll is level-triggered, so more brings the loop straight back,
     * and the common case (one datagram waiting) costs one recv, not a second one to hear EAGAIN. */
    ssize_t n = recv(s->fd, s->data, s->capacity, MSG_DONTWAIT);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) report_error(s, errno);
      return;
    }
    uint32_t length = (uint32_t)n;
    call_with_numbers(s, s->on_datagram, 1, &length);
  }
}

/* A numeric IPv4 or IPv6 address, an IPv6 one with its zone too ("fe80::1%eth0", as node:dgram
 * reports a link-local sender): its family, or -1. */
static int parse_address(const char *text, unsigned port, struct sockaddr_storage *out, socklen_t *len) {
  struct addrinfo hints = {.ai_flags = AI_NUMERICHOST, .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM};
  struct addrinfo *found = NULL;
  if (getaddrinfo(text, NULL, &hints, &found) != 0 || found == NULL) return -1;
  int family = found->ai_family;
  memset(out, 0, sizeof *out);
  memcpy(out, found->ai_addr, found->ai_addrlen);
  *len = found->ai_addrlen;
  freeaddrinfo(found);
  if (family == AF_INET) ((struct sockaddr_in *)out)->sin_port = htons(port);
  else if (family == AF_INET6) ((struct sockaddr_in6 *)out)->sin6_port = htons(port);
  else return -1;
  return family;
}

/* The call's arguments into argv; false (a TypeError thrown, naming `usage`) unless there are `count`. */
static bool arguments(napi_env env, napi_callback_info info, size_t count, napi_value *argv, const char *usage) {
  size_t argc = count;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == count) return true;
  napi_throw_type_error(env, "EINVAL", usage);
  return false;
}

static box *box_of(napi_env env, napi_value value) {
  box *b = NULL;
  if (napi_get_value_external(env, value, (void **)&b) != napi_ok || b == NULL)
    napi_throw_type_error(env, "EINVAL", "expected a socket made by open()");
  return b;
}

/* The arguments of a call on an open socket (the first one): the socket, or NULL with an error
 * thrown when there are not `count` arguments, or the first is not an open socket. */
static socket_state *socket_call(napi_env env, napi_callback_info info, size_t count, napi_value *argv,
                                 const char *usage) {
  if (!arguments(env, info, count, argv, usage)) return NULL;
  box *b = box_of(env, argv[0]);
  if (b == NULL) return NULL;
  if (b->state == NULL) napi_throw_error(env, "EBADF", "the socket is closed");
  return b->state;
}

static void free_box(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  box *b = data;
  /* A socket JS dropped without closing stays open, as a dgram socket would: it is only unboxed. */
  free(b);
}

static napi_value open_socket(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  if (!arguments(env, info, 8, argv,
                 "open(local, remote, remotePort, buffer, onDatagram, onAnswered, onWritable, onError)"))
    return NULL;
  char local[64], remote[64];
  size_t ignored;
  uint32_t remote_port;
  void *data;
  size_t capacity;
  if (napi_get_value_string_utf8(env, argv[0], local, sizeof local, &ignored) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], remote, sizeof remote, &ignored) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &remote_port) != napi_ok || remote_port > 65535 ||
      napi_get_buffer_info(env, argv[3], &data, &capacity) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "open: expected two addresses, a port and a Buffer");
    return NULL;
  }
  struct sockaddr_storage local_address, remote_address;
  socklen_t local_length, remote_length;
  int family = parse_address(local, 0, &local_address, &local_length);
  if (family < 0 || parse_address(remote, remote_port, &remote_address, &remote_length) != family) {
    napi_throw_type_error(env, "EINVAL", "open: expected two IP addresses of the same family");
    return NULL;
  }

  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  const char *failed = bind(fd, (struct sockaddr *)&local_address, local_length) != 0 ? "bind"
                       : connect(fd, (struct sockaddr *)&remote_address, remote_length) != 0 ? "connect"
                                                                                              : NULL;
  if (failed != NULL) {
    int e = errno;
    close(fd);
    return throw_errno(env, failed, e);
  }

  socket_state *s = calloc(1, sizeof *s);
  box *b = calloc(1, sizeof *b);
  uv_poll_t *poll = malloc(uv_handle_size(UV_POLL));
  uv_async_t *wake = malloc(uv_handle_size(UV_ASYNC));
  unsigned char *inbox = malloc(capacity > 0 ? capacity : 1);
  uv_loop_t *loop;
  if (s == NULL || b == NULL || poll == NULL || wake == NULL || inbox == NULL ||
      napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init_socket(loop, poll, fd) != 0 ||
      uv_async_init(loop, wake, handed_over) != 0) {
    free(s);
    free(b);
    free(poll);
    free(wake);
    free(inbox);
    close(fd);
    return throw_errno(env, "open", ENOMEM);
  }
  s->poll = poll;
  poll->data = s;
  s->wake = wake;
  wake->data = s;
  s->fd = fd;
  s->env = env;
  s->data = data;
  s->capacity = capacity;
  s->inbox = inbox;
  s->inbox_length = -1;
  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->turn, NULL);
  pthread_cond_init(&s->fired, NULL);
  s->reader = READER_LOOP;
  napi_create_reference(env, argv[3], 1, &s->buffer);
  napi_create_reference(env, argv[4], 1, &s->on_datagram);
  napi_create_reference(env, argv[5], 1, &s->on_answered);
  napi_create_reference(env, argv[6], 1, &s->on_writable);
  napi_create_reference(env, argv[7], 1, &s->on_error);
  napi_value resource, name;
  napi_create_object(env, &resource);
  napi_create_reference(env, resource, 1, &s->resource);
  napi_create_string_utf8(env, "winsmith-udp", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, resource, name, &s->async);
  s->events = UV_READABLE;
  watch(s);

  b->state = s;
  napi_value external;
  napi_create_external(env, b, free_box, NULL, &external);
  return external;
}

/* Frees the socket once both of its handles are closed. */
static void on_closed(uv_handle_t *handle) {
  socket_state *s = handle->data;
  free(handle);
  if (--s->handles > 0) return;
  close(s->fd);
  napi_delete_reference(s->env, s->buffer);
  napi_delete_reference(s->env, s->on_datagram);
  napi_delete_reference(s->env, s->on_answered);
  napi_delete_reference(s->env, s->on_writable);
  napi_delete_reference(s->env, s->on_error);
  napi_delete_reference(s->env, s->resource);
  end_sequence(s);
  napi_async_destroy(s->env, s->async);
  pthread_mutex_destroy(&s->lock);
  pthread_cond_destroy(&s->turn);
  pthread_cond_destroy(&s->fired);
  free(s->inbox);
  free(s);
}

static napi_value close_socket(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!arguments(env, info, 1, argv, "close(socket)")) return NULL;
  box *b = box_of(env, argv[0]);
  if (b == NULL || b->state == NULL) return NULL;
  socket_state *s = b->state;
  b->state = NULL;
  pthread_mutex_lock(&s->lock);
  s->closing = true;
  pthread_cond_signal(&s->turn);
  pthread_mutex_unlock(&s->lock);
  if (s->threaded) {
    /* Wakes the thread's recv (it returns 0): it sees `closing` and ends. */
    shutdown(s->fd, SHUT_RD);
    pthread_join(s->thread, NULL);
  }
  uv_poll_stop(s->poll);
  uv_poll_t *poll = s->poll;
  s->poll = NULL;
  s->handles = 2;
  uv_close((uv_handle_t *)s->wake, on_closed);
  uv_close((uv_handle_t *)poll, on_closed);
  return NULL;
}

/* Reads argv[0..4] (buffer, offset, stride, count, lastLength) into `out`; false, with a RangeError
 * thrown, when the packets are not all inside the buffer. */
static bool packets_argument(napi_env env, napi_value *argv, packets *out, const char *what) {
  void *data;
  size_t length;
  uint32_t offset;
  if (napi_get_buffer_info(env, argv[0], &data, &length) != napi_ok ||
      napi_get_value_uint32(env, argv[1], &offset) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &out->stride) != napi_ok ||
      napi_get_value_uint32(env, argv[3], &out->count) != napi_ok ||
      napi_get_value_uint32(env, argv[4], &out->last) != napi_ok || out->count == 0 || out->last > out->stride ||
      (uint64_t)offset + (uint64_t)out->stride * (out->count - 1) + out->last > length) {
    char message[96];
    snprintf(message, sizeof message, "%s: the packets are not inside the buffer", what);
    napi_throw_range_error(env, "EINVAL", message);
    return false;
  }
  out->data = (unsigned char *)data + offset;
  return true;
}

static napi_value send_packets(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  socket_state *s = socket_call(env, info, 6, argv, "send(socket, buffer, offset, stride, count, lastLength)");
  packets p;
  if (s == NULL || !packets_argument(env, argv + 1, &p, "send")) return NULL;
  int sent = send_run(s->fd, &p);
  if (sent < 0) return throw_errno(env, "sendmmsg", -sent);
  if ((uint32_t)sent < p.count && !(s->events & UV_WRITABLE)) {
    s->events |= UV_WRITABLE;
    watch(s);
  }
  napi_value result;
  napi_create_uint32(env, (uint32_t)sent, &result);
  return result;
}

/* Reads argv[1..8] of arm() or follow() (expect, expectLength, perStep, then the packets) into `q`
 * (its buffers not yet held): false, with a RangeError thrown, when they do not make a sequence. */
static bool sequence_argument(napi_env env, napi_value *argv, sequence *q, const char *what) {
  void *expect;
  size_t expect_bytes;
  uint32_t expect_length, per_step;
  packets p;
  char message[112];
  if (napi_get_buffer_info(env, argv[1], &expect, &expect_bytes) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &expect_length) != napi_ok || expect_length == 0 ||
      expect_length > EXPECT_MAX || expect_bytes == 0 || expect_bytes % expect_length != 0 ||
      napi_get_value_uint32(env, argv[3], &per_step) != napi_ok || per_step == 0) {
    snprintf(message, sizeof message, "%s: expected datagrams of 1 to 16 bytes each, and packets per step", what);
    napi_throw_range_error(env, "EINVAL", message);
    return false;
  }
  if (!packets_argument(env, argv + 4, &p, what)) return false;
  /* (steps - 1) × perStep < count: a step's first packet (answer()) is a 32-bit index. */
  uint32_t steps = (uint32_t)(expect_bytes / expect_length);
  if ((uint64_t)(steps - 1) * per_step >= p.count || (uint64_t)steps * per_step < p.count) {
    snprintf(message, sizeof message, "%s: expected one datagram for each step of packets", what);
    napi_throw_range_error(env, "EINVAL", message);
    return false;
  }
  *q = (sequence){false, expect, expect_length, steps, per_step, p, NULL, NULL};
  return true;
}

/* Puts the sequence read from argv (sequence_argument) in `slot`, its buffers held. */
static void hold(napi_env env, napi_value *argv, const sequence *q, sequence *slot) {
  *slot = *q;
  slot->held = true;
  napi_create_reference(env, argv[1], 1, &slot->expect_buffer);
  napi_create_reference(env, argv[4], 1, &slot->replies_buffer);
}

static napi_value arm_sequence(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  socket_state *s = socket_call(env, info, 9, argv,
                                "arm(socket, expect, expectLength, perStep, buffer, offset, stride, count, lastLength)");
  sequence q;
  if (s == NULL || !sequence_argument(env, argv, &q, "arm")) return NULL;
  pthread_mutex_lock(&s->lock);
  if (s->pending != 0) {
    pthread_mutex_unlock(&s->lock);
    napi_throw_error(env, "EBUSY", "arm: the steps answered (takeAnswered) are not yet collected");
    return NULL;
  }
  end_sequence(s);
  hold(env, argv, &q, &s->sequences[s->current]);
  s->steps_fired = 0;
  s->armed = true;
  int e = s->reader == READER_LOOP ? give_to_thread(s) : 0;
  if (e != 0) end_sequence(s);
  pthread_mutex_unlock(&s->lock);
  return e != 0 ? throw_errno(env, "arm", e) : NULL;
}

static napi_value follow_sequence(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  socket_state *s = socket_call(
      env, info, 9, argv, "follow(socket, expect, expectLength, perStep, buffer, offset, stride, count, lastLength)");
  sequence q;
  if (s == NULL || !sequence_argument(env, argv, &q, "follow")) return NULL;
  pthread_mutex_lock(&s->lock);
  /* The sequence the thread left (if it went on to a queued one) lets its slot go first. */
  release(s);
  bool queued = s->armed && !s->queued;
  if (queued) {
    hold(env, argv, &q, &s->sequences[s->current ^ 1]);
    s->queued = true;
  }
  pthread_mutex_unlock(&s->lock);
  napi_value result;
  napi_get_boolean(env, queued, &result);
  return result;
}

/* Two numbers as a JS array. */
static napi_value pair(napi_env env, const uint32_t numbers[2]) {
  napi_value result, number;
  napi_create_array_with_length(env, 2, &result);
  for (uint32_t i = 0; i < 2; i++) {
    napi_create_uint32(env, numbers[i], &number);
    napi_set_element(env, result, i, number);
  }
  return result;
}

static napi_value take_answered(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  socket_state *s = socket_call(env, info, 1, argv, "takeAnswered(socket)");
  if (s == NULL) return NULL;
  uint32_t answered[2];
  pthread_mutex_lock(&s->lock);
  collect(s, answered);
  pthread_mutex_unlock(&s->lock);
  return pair(env, answered);
}

static napi_value poll_counts(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  socket_state *s = socket_call(env, info, 1, argv, "polls(socket)");
  if (s == NULL) return NULL;
  pthread_mutex_lock(&s->lock);
  uint32_t counts[2] = {s->polled, s->caught};
  pthread_mutex_unlock(&s->lock);
  return pair(env, counts);
}

static napi_value disarm_sequence(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  socket_state *s = socket_call(env, info, 1, argv, "disarm(socket)");
  if (s == NULL) return NULL;
  pthread_mutex_lock(&s->lock);
  end_sequence(s);
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

static napi_value set_send_buffer_size(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  socket_state *s = socket_call(env, info, 2, argv, "setSendBufferSize(socket, bytes)");
  if (s == NULL) return NULL;
  int32_t bytes;
  if (napi_get_value_int32(env, argv[1], &bytes) != napi_ok || bytes <= 0) {
    napi_throw_range_error(env, "EINVAL", "setSendBufferSize: expected a positive number of bytes");
    return NULL;
  }
  if (setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes) != 0)
    return throw_errno(env, "setsockopt", errno);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  pollers_max = cpus > 1 ? (int)(cpus - 1) : 0;
  napi_property_descriptor functions[] = {
      {"open", NULL, open_socket, NULL, NULL, NULL, napi_enumerable, NULL},
      {"send", NULL, send_packets, NULL, NULL, NULL, napi_enumerable, NULL},
      {"arm", NULL, arm_sequence, NULL, NULL, NULL, napi_enumerable, NULL},
      {"follow", NULL, follow_sequence, NULL, NULL, NULL, napi_enumerable, NULL},
      {"takeAnswered", NULL, take_answered, NULL, NULL, NULL, napi_enumerable, NULL},
      {"polls", NULL, poll_counts, NULL, NULL, NULL, napi_enumerable, NULL},
      {"disarm", NULL, disarm_sequence, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setSendBufferSize", NULL, set_send_buffer_size, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, close_socket, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions);
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
