// bgp-ts native addon: the few socket calls Node.js cannot make (DESIGN.md,
// Native code). An AF_NETLINK / NETLINK_ROUTE socket (RFC 3549 describes the
// protocol; the Linux rtnetlink(7) ABI is what we speak) that is opened,
// optionally inside another network namespace, bound, written with whole
// batches of messages and read without blocking the event loop: the fd is
// non-blocking and watched by a libuv poll handle, which hands every readable
// burst to JavaScript as one Buffer. Errors, ENOBUFS included, are values
// (negative errno), never crashes. Plus setsockopt by fd for BGP TCP sockets
// (TCP_MD5SIG, RFC 2385; IP_MINTTL / IP_TTL for GTSM, RFC 5082), in sockopt.c.
//
// All message encoding and parsing lives in TypeScript (src/fib/netlink).

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <node_api.h>
#include <uv.h>

#include "sockopt.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif

// One datagram never exceeds 32 KiB on the kernel side (netlink_recvmsg caps
// the dump allocation), so a read continues while at least this much is free.
#define MIN_FREE (64 * 1024)
#define READ_BUF (1024 * 1024)
// Request sockets: datagrams handed to JS per readable event before yielding
// back to libuv (a dump is read burst by burst; the kernel refills it on read).
#define MAX_DGRAMS_PER_EVENT 256
// Monitor sockets (joined to multicast groups) are read until EAGAIN, one
// READ_BUF at a time handed to JS, so a burst of notifications (the echoes of
// our own route writes: one per route, thousands per loop turn) never
// outgrows the receive queue between two turns. Bounded per readable event by
// bytes and time so the loop is not starved; the poll is level-triggered, so
// what is left is read on the very next turn.
#define DRAIN_MAX_BYTES (16 * 1024 * 1024)
#define DRAIN_MAX_NS (10ULL * 1000 * 1000)

typedef struct {
  int fd;
  uint32_t port_id;
  napi_env env;
  uv_poll_t *poll;
  napi_ref on_data;  // function(buffer|null, errno)
  napi_async_context async;
  unsigned char *buf;
  int drain;  // read until EAGAIN (monitor sockets), not MAX_DGRAMS_PER_EVENT
  int closed;
  int finalized;
} nl_socket;

#define CHECK(call)                                            \
  do {                                                         \
    if ((call) != napi_ok) {                                   \
      napi_throw_error(env, "ENAPI", "N-API call failed: " #call); \
      return NULL;                                             \
    }                                                          \
  } while (0)

static napi_value make_int(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

static int get_int(napi_env env, napi_value v, int64_t *out) {
  return napi_get_value_int64(env, v, out) == napi_ok;
}

static nl_socket *unwrap(napi_env env, napi_value obj) {
  nl_socket *s = NULL;
  if (napi_unwrap(env, obj, (void **)&s) != napi_ok || s == NULL) {
    napi_throw_type_error(env, "EINVAL", "not a netlink socket handle");
    return NULL;
  }
  return s;
}

// ------------------------------------------------------------------ receive

static void deliver(nl_socket *s, napi_value buffer, int err, int drained) {
  napi_env env = s->env;
  napi_value cb, recv, argv[3];
  if (napi_get_reference_value(env, s->on_data, &cb) != napi_ok || cb == NULL) return;
  napi_get_global(env, &recv);  // napi_make_callback wants an object receiver
  if (buffer == NULL) napi_get_null(env, &argv[0]);
  else argv[0] = buffer;
  argv[1] = make_int(env, err);
  napi_get_boolean(env, drained != 0, &argv[2]);
  napi_value result;
  // napi_make_callback drains the microtask queue afterwards, so promises the
  // callback resolves settle now rather than on some later tick.
  if (napi_make_callback(env, s->async, recv, cb, 3, argv, &result) != napi_ok) {
    // A throwing callback becomes an uncaughtException, as for any Node event.
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value exc;
      napi_get_and_clear_last_exception(env, &exc);
      napi_fatal_exception(env, exc);
    }
  }
}

// Reads what is queued (bounded per event, level-triggered poll resumes the
// rest), then hands JS the data and any error together. Data read after an overrun
// is still valid: the kernel drops new messages, never queued ones. So acks
// that did arrive are delivered before the ENOBUFS that reports the others.
// A draining socket repeats this, one buffer per callback, until the queue is
// empty or the per-event bound is reached.
static void on_readable(uv_poll_t *handle, int status, int events) {
  nl_socket *s = (nl_socket *)handle->data;
  if (s == NULL || s->closed) return;
  napi_env env = s->env;
  (void)events;
  int err = 0;
  if (status < 0) {
    // libuv stops the watcher and reports UV_EBADF when epoll says EPOLLERR,
    // which is how the kernel signals a pending socket error such as ENOBUFS.
    // Fetch (and clear) the real error and resume watching: the socket is fine.
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) soerr = errno;
    err = soerr != 0 ? -soerr : status;
    uv_poll_start(s->poll, UV_READABLE, on_readable);
  }
  uint64_t t0 = s->drain ? uv_hrtime() : 0;
  size_t total = 0;
  for (;;) {
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    size_t used = 0;
    int drained = 0, stop = 0;
    for (int n = 0; (s->drain || n < MAX_DGRAMS_PER_EVENT) && READ_BUF - used >= MIN_FREE; n++) {
      struct sockaddr_nl from;
      struct iovec iov = {s->buf + used, READ_BUF - used};
      struct msghdr msg = {&from, sizeof from, &iov, 1, NULL, 0, 0};
      ssize_t r = recvmsg(s->fd, &msg, MSG_DONTWAIT);
      if (r < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          drained = 1;  // queue empty: the kernel clears its congestion state now
          break;
        }
        if (err == 0) err = -errno;
        if (errno == ENOBUFS) continue;  // reported once; keep draining
        stop = 1;
        break;
      }
      if (msg.msg_flags & MSG_TRUNC) {
        if (err == 0) err = -EMSGSIZE;
        continue;
      }
      if (from.nl_pid != 0) continue;  // only the kernel talks to us
      used += (size_t)r;
    }
    total += used;
    // One call carries both the data and the error, so JS settles the acks that
    // arrived before it learns of the overrun and sends nothing in between.
    napi_value out = NULL;
    void *data;
    if (used > 0 && napi_create_buffer_copy(env, used, s->buf, &data, &out) != napi_ok) out = NULL;
    if (out != NULL || err != 0) deliver(s, out, err, drained);
    napi_close_handle_scope(env, scope);
    err = 0;
    // The callback may have closed the socket.
    if (!s->drain || drained || stop || s->closed) break;
    if (total >= DRAIN_MAX_BYTES || uv_hrtime() - t0 >= DRAIN_MAX_NS) break;
  }
}

// ------------------------------------------------------------------ open

static int set_int_opt(int fd, int level, int opt, int value) {
  return setsockopt(fd, level, opt, &value, sizeof value);
}

// Opens the socket in the namespace at `netns` (a path like /run/netns/x)
// by switching only the calling thread there and straight back.
static int open_in_netns(const char *netns) {
  int self = -1, target = -1, fd = -1, saved = 0;
  if (netns != NULL) {
    self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0) return -errno;
    target = open(netns, O_RDONLY | O_CLOEXEC);
    if (target < 0) {
      saved = -errno;
      close(self);
      return saved;
    }
    if (setns(target, CLONE_NEWNET) < 0) {
      saved = -errno;
      close(self);
      close(target);
      return saved;
    }
  }
  fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) saved = -errno;
  if (netns != NULL) {
    // Not returning to our own namespace would silently move every later
    // socket of this thread: that is not recoverable.
    if (setns(self, CLONE_NEWNET) < 0) abort();
    close(self);
    close(target);
  }
  return fd < 0 ? saved : fd;
}

static void poll_closed(uv_handle_t *h) {
  nl_socket *s = (nl_socket *)h->data;
  free(h);
  if (s == NULL) return;
  s->poll = NULL;
  if (s->finalized) {
    free(s->buf);
    free(s);
  }
}

// Stops reading and closes the fd; the poll handle closes asynchronously.
static void shut(napi_env env, nl_socket *s) {
  if (s->closed) return;
  s->closed = 1;
  if (s->poll != NULL) {
    uv_poll_stop(s->poll);
    uv_close((uv_handle_t *)s->poll, poll_closed);
  }
  close(s->fd);
  s->fd = -1;
  napi_delete_reference(env, s->on_data);
  s->on_data = NULL;
  napi_async_destroy(env, s->async);
}

// The handle object was collected (close() may or may not have run).
static void finalize_socket(napi_env env, void *data, void *hint) {
  (void)hint;
  nl_socket *s = (nl_socket *)data;
  shut(env, s);
  s->finalized = 1;
  if (s->poll == NULL) {
    free(s->buf);
    free(s);
  }
}

// open({ groups?: number[], rcvbuf?: number, sndbuf?: number, netns?: string }, onData)
//   -> handle; throws an Error with .errno on failure.
static napi_value nl_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], self;
  CHECK(napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  if (argc < 2) {
    napi_throw_type_error(env, "EINVAL", "open(options, onData)");
    return NULL;
  }
  napi_value opts = argv[0], v;
  bool has;
  char netns[4096];
  const char *ns = NULL;
  CHECK(napi_has_named_property(env, opts, "netns", &has));
  if (has) {
    CHECK(napi_get_named_property(env, opts, "netns", &v));
    size_t len;
    if (napi_get_value_string_utf8(env, v, netns, sizeof netns, &len) == napi_ok && len > 0) ns = netns;
  }
  int64_t rcvbuf = 0, sndbuf = 0;
  CHECK(napi_has_named_property(env, opts, "rcvbuf", &has));
  if (has && napi_get_named_property(env, opts, "rcvbuf", &v) == napi_ok) get_int(env, v, &rcvbuf);
  CHECK(napi_has_named_property(env, opts, "sndbuf", &has));
  if (has && napi_get_named_property(env, opts, "sndbuf", &v) == napi_ok) get_int(env, v, &sndbuf);

  int fd = open_in_netns(ns);
  int err = 0;
  if (fd < 0) err = fd;
  // SO_RCVBUFFORCE needs CAP_NET_ADMIN; fall back to the capped SO_RCVBUF.
  if (!err && rcvbuf > 0 && set_int_opt(fd, SOL_SOCKET, SO_RCVBUFFORCE, (int)rcvbuf) < 0)
    set_int_opt(fd, SOL_SOCKET, SO_RCVBUF, (int)rcvbuf);
  if (!err && sndbuf > 0 && set_int_opt(fd, SOL_SOCKET, SO_SNDBUFFORCE, (int)sndbuf) < 0)
    set_int_opt(fd, SOL_SOCKET, SO_SNDBUF, (int)sndbuf);
  // Extended ACK: error messages carry the kernel's reason text (best effort).
  if (!err) set_int_opt(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);
  struct sockaddr_nl addr;
  memset(&addr, 0, sizeof addr);
  addr.nl_family = AF_NETLINK;
  if (!err && bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) err = -errno;
  int drain = 0;  // a monitor: joined at least one multicast group
  CHECK(napi_has_named_property(env, opts, "groups", &has));
  if (!err && has) {
    CHECK(napi_get_named_property(env, opts, "groups", &v));
    uint32_t n = 0;
    napi_get_array_length(env, v, &n);
    for (uint32_t i = 0; i < n && !err; i++) {
      napi_value g;
      int64_t group = 0;
      napi_get_element(env, v, i, &g);
      if (!get_int(env, g, &group)) continue;
      if (set_int_opt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, (int)group) < 0) err = -errno;
      else drain = 1;
    }
  }
  socklen_t alen = sizeof addr;
  if (!err && getsockname(fd, (struct sockaddr *)&addr, &alen) < 0) err = -errno;
  if (err) {
    if (fd >= 0) close(fd);
    napi_value msg, code, e;
    napi_create_string_utf8(env, strerror(-err), NAPI_AUTO_LENGTH, &msg);
    napi_create_string_utf8(env, "ENETLINK", NAPI_AUTO_LENGTH, &code);
    napi_create_error(env, code, msg, &e);
    napi_set_named_property(env, e, "errno", make_int(env, err));
    napi_throw(env, e);
    return NULL;
  }

  nl_socket *s = calloc(1, sizeof *s);
  s->fd = fd;
  s->port_id = addr.nl_pid;
  s->env = env;
  s->drain = drain;
  s->buf = malloc(READ_BUF);
  s->poll = malloc(sizeof(uv_poll_t));
  napi_value handle, name;
  CHECK(napi_create_object(env, &handle));
  CHECK(napi_create_reference(env, argv[1], 1, &s->on_data));
  CHECK(napi_create_string_utf8(env, "bgp-ts:netlink", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, handle, name, &s->async));
  struct uv_loop_s *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  uv_poll_init(loop, s->poll, fd);
  s->poll->data = s;
  uv_poll_start(s->poll, UV_READABLE, on_readable);
  CHECK(napi_wrap(env, handle, s, finalize_socket, NULL, NULL));
  napi_set_named_property(env, handle, "fd", make_int(env, fd));
  napi_set_named_property(env, handle, "portId", make_int(env, s->port_id));
  return handle;
}

// ------------------------------------------------------------------ send / close / ref

// send(handle, buffer) -> bytes sent (>= 0) or -errno. Whole batch in one
// datagram: the kernel processes each message in turn and acks each one.
static napi_value nl_send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  nl_socket *s = unwrap(env, argv[0]);
  if (s == NULL) return NULL;
  if (s->closed) return make_int(env, -EBADF);
  void *data;
  size_t len;
  if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "send(handle, buffer)");
    return NULL;
  }
  struct sockaddr_nl to;
  memset(&to, 0, sizeof to);
  to.nl_family = AF_NETLINK;
  ssize_t r;
  do r = sendto(s->fd, data, len, 0, (struct sockaddr *)&to, sizeof to);
  while (r < 0 && errno == EINTR);
  return make_int(env, r < 0 ? -errno : r);
}

static napi_value nl_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  nl_socket *s = unwrap(env, argv[0]);
  if (s == NULL) return NULL;
  shut(env, s);
  return NULL;
}

// ref(handle, bool): whether the socket keeps the event loop alive.
static napi_value nl_ref(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  bool on = true;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  nl_socket *s = unwrap(env, argv[0]);
  if (s == NULL) return NULL;
  napi_get_value_bool(env, argv[1], &on);
  if (!s->closed && s->poll != NULL) {
    if (on) uv_ref((uv_handle_t *)s->poll);
    else uv_unref((uv_handle_t *)s->poll);
  }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, nl_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"send", NULL, nl_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, nl_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ref", NULL, nl_ref, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setsockoptInt", NULL, sso_int, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setsockoptBuffer", NULL, sso_buf, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getsockoptInt", NULL, gso_int, NULL, NULL, NULL, napi_enumerable, NULL},
      {"tcpConnect", NULL, tc_connect, NULL, NULL, NULL, napi_enumerable, NULL},
      {"tcpConnectCancel", NULL, tc_cancel, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  udp_register(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
