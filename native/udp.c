/*
 * winsmith-udp.node: a connected UDP socket on Node's event loop, for traffic where node:dgram's
 * per-datagram cost is most of the work (the data phase of a TFTP transfer: a few bytes in, one or
 * a window of large packets out, tens of thousands of times a second).
 *
 * node:dgram allocates a 64 KiB buffer for every datagram it receives, copies the bytes out of it,
 * builds an address object (inet_ntop) and reads again until EAGAIN; and it makes one JS call, one
 * request object and one syscall for every datagram sent. This socket receives each datagram into
 * one buffer the caller owns, passes only its length to JS, and sends a run of equal-sized packets
 * laid out one after the other in a buffer with one sendmmsg(2).
 *
 * The socket is connected (connect(2)): the kernel drops datagrams from anyone but the peer, so
 * there is no address to report. It speaks no protocol: what the bytes mean is the caller's.
 *
 *   open(local, remote, remotePort, buffer, onDatagram, onWritable, onError) -> socket
 *     A socket bound to the address `local` (port chosen by the kernel) and connected to
 *     remote:remotePort (numeric IPv4 or IPv6, with a zone for link-local: "fe80::1%eth0"). Each datagram received is written at the start of
 *     `buffer` (a longer one is cut to its size) and onDatagram(length) is called: the bytes are the
 *     caller's until it returns. onWritable() is called once the kernel takes packets again after a
 *     send that it did not take whole. onError(code) is called with an errno name (ECONNREFUSED when
 *     the peer's port is closed, …); after it the socket receives nothing more. Throws an Error whose code is the errno name when the socket
 *     cannot be made.
 *   send(socket, buffer, offset, stride, count, lastLength) -> number of packets the kernel took
 *     Packets i = 0..count-1 of `stride` bytes at offset + i × stride, the last one `lastLength`
 *     bytes. Fewer than count when the send buffer is full (onWritable follows); throws an Error
 *     with the errno name as code for any other failure.
 *   setSendBufferSize(socket, bytes)   SO_SNDBUF (the kernel caps it at net.core.wmem_max)
 *   close(socket)                      stops it; no callback is called after; idempotent
 *
 * Built at set-up (scripts/setup.sh) against Node-API (the node-api-headers npm package) and
 * libuv's header (Debian libuv1-dev): Node exports both ABIs to addons. The uv_poll_t is sized at
 * run time by the running libuv (uv_handle_size), not by the header.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

/* Packets one sendmmsg(2) takes at most (UIO_MAXIOV is 1024; a TFTP window is at most 256 KiB). */
#define BATCH 256

typedef struct socket_state {
  uv_poll_t *poll;
  int fd;
  int events;
  napi_env env;
  napi_ref buffer;
  unsigned char *data;
  size_t capacity;
  napi_ref on_datagram;
  napi_ref on_writable;
  napi_ref on_error;
  napi_ref resource;
  napi_async_context async;
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

/* Calls a JS function from the event loop (not from JS): in an async context, so process.nextTick and
 * promise jobs run after it, and an exception it throws goes to process 'uncaughtException'. */
static void call_js(socket_state *s, napi_ref function, size_t argc, napi_value *argv) {
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, resource, result;
  napi_get_reference_value(env, function, &fn);
  napi_get_reference_value(env, s->resource, &resource);
  if (napi_make_callback(env, s->async, resource, fn, argc, argv, &result) == napi_pending_exception) {
    napi_value exception;
    napi_get_and_clear_last_exception(env, &exception);
    napi_fatal_exception(env, exception);
  }
  napi_close_handle_scope(env, scope);
}

static void report_error(socket_state *s, int e) {
  napi_handle_scope scope;
  if (napi_open_handle_scope(s->env, &scope) != napi_ok) return;
  napi_value code;
  napi_create_string_utf8(s->env, errno_name(e), NAPI_AUTO_LENGTH, &code);
  call_js(s, s->on_error, 1, &code);
  napi_close_handle_scope(s->env, scope);
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
    uv_poll_start(poll, s->events, on_poll);
    call_js(s, s->on_writable, 0, NULL);
    if (s->poll == NULL) return; /* closed by the callback */
  }
  if (events & UV_READABLE) {
    /* One datagram per wake-up: the poll is level-triggered, so more brings the loop straight back,
     * and the common case (one ACK waiting) costs one recv, not a second one to hear EAGAIN. */
    ssize_t n = recv(s->fd, s->data, s->capacity, MSG_DONTWAIT);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) report_error(s, errno);
      return;
    }
    napi_handle_scope scope;
    if (napi_open_handle_scope(s->env, &scope) != napi_ok) return;
    napi_value length;
    napi_create_uint32(s->env, (uint32_t)n, &length);
    call_js(s, s->on_datagram, 1, &length);
    napi_close_handle_scope(s->env, scope);
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
  napi_value argv[7];
  if (!arguments(env, info, 7, argv, "open(local, remote, remotePort, buffer, onDatagram, onWritable, onError)")) return NULL;
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
  uv_loop_t *loop;
  if (s == NULL || b == NULL || poll == NULL || napi_get_uv_event_loop(env, &loop) != napi_ok ||
      uv_poll_init_socket(loop, poll, fd) != 0) {
    free(s);
    free(b);
    free(poll);
    close(fd);
    return throw_errno(env, "open", ENOMEM);
  }
  s->poll = poll;
  poll->data = s;
  s->fd = fd;
  s->env = env;
  s->data = data;
  s->capacity = capacity;
  napi_create_reference(env, argv[3], 1, &s->buffer);
  napi_create_reference(env, argv[4], 1, &s->on_datagram);
  napi_create_reference(env, argv[5], 1, &s->on_writable);
  napi_create_reference(env, argv[6], 1, &s->on_error);
  napi_value resource, name;
  napi_create_object(env, &resource);
  napi_create_reference(env, resource, 1, &s->resource);
  napi_create_string_utf8(env, "winsmith-udp", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, resource, name, &s->async);
  s->events = UV_READABLE;
  uv_poll_start(poll, s->events, on_poll);

  b->state = s;
  napi_value external;
  napi_create_external(env, b, free_box, NULL, &external);
  return external;
}

static void on_closed(uv_handle_t *handle) {
  socket_state *s = handle->data;
  close(s->fd);
  napi_delete_reference(s->env, s->buffer);
  napi_delete_reference(s->env, s->on_datagram);
  napi_delete_reference(s->env, s->on_writable);
  napi_delete_reference(s->env, s->on_error);
  napi_delete_reference(s->env, s->resource);
  napi_async_destroy(s->env, s->async);
  free(handle);
  free(s);
}

static napi_value close_socket(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!arguments(env, info, 1, argv, "close(socket)")) return NULL;
  box *b = box_of(env, argv[0]);
  if (b == NULL || b->state == NULL) return NULL;
  socket_state *s = b->state;
  b->state = NULL;
  uv_poll_stop(s->poll);
  uv_poll_t *poll = s->poll;
  s->poll = NULL;
  uv_close((uv_handle_t *)poll, on_closed);
  return NULL;
}

static napi_value send_packets(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  socket_state *s = socket_call(env, info, 6, argv, "send(socket, buffer, offset, stride, count, lastLength)");
  if (s == NULL) return NULL;
  void *data;
  size_t length;
  uint32_t offset, stride, count, last;
  if (napi_get_buffer_info(env, argv[1], &data, &length) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &offset) != napi_ok ||
      napi_get_value_uint32(env, argv[3], &stride) != napi_ok ||
      napi_get_value_uint32(env, argv[4], &count) != napi_ok ||
      napi_get_value_uint32(env, argv[5], &last) != napi_ok || count == 0 || last > stride ||
      (uint64_t)offset + (uint64_t)stride * (count - 1) + last > length) {
    napi_throw_range_error(env, "EINVAL", "send: the packets are not inside the buffer");
    return NULL;
  }
  struct mmsghdr messages[BATCH];
  struct iovec vectors[BATCH];
  uint32_t sent = 0;
  while (sent < count) {
    uint32_t n = count - sent < BATCH ? count - sent : BATCH;
    for (uint32_t i = 0; i < n; i++) {
      uint32_t index = sent + i;
      vectors[i].iov_base = (unsigned char *)data + offset + (size_t)stride * index;
      vectors[i].iov_len = index == count - 1 ? last : stride;
      memset(&messages[i], 0, sizeof messages[i]);
      messages[i].msg_hdr.msg_iov = &vectors[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
    int r = sendmmsg(s->fd, messages, n, MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) break;
      return throw_errno(env, "sendmmsg", errno);
    }
    sent += (uint32_t)r;
    if ((uint32_t)r < n) break;
  }
  if (sent < count && !(s->events & UV_WRITABLE)) {
    s->events |= UV_WRITABLE;
    uv_poll_start(s->poll, s->events, on_poll);
  }
  napi_value result;
  napi_create_uint32(env, sent, &result);
  return result;
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
  napi_property_descriptor functions[] = {
      {"open", NULL, open_socket, NULL, NULL, NULL, napi_enumerable, NULL},
      {"send", NULL, send_packets, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setSendBufferSize", NULL, set_send_buffer_size, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, close_socket, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions);
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
