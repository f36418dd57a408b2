// Outgoing BGP TCP connections whose options must be in place before the SYN
// leaves: TCP MD5 signatures (RFC 2385 §2: every segment, the SYN included,
// carries the digest) and GTSM (RFC 5082 §3: send with TTL 255, and accept
// replies only at TTL >= 256 - hops). Node's net.connect creates and connects
// the socket in one step, so this file does it instead: a non-blocking TCP
// socket, the options, bind, connect(), then a libuv poll for writability and
// SO_ERROR to learn the outcome. On success JS gets the connected fd and
// wraps it in a net.Socket; on failure the fd is closed here and JS gets the
// negative errno. Errors are values, never crashes.
//
// The struct tcp_md5sig bytes come from TypeScript (socket-options.ts), which
// encodes and tests them; this file only hands them to setsockopt.

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <node_api.h>
#include <uv.h>

#include "sockopt.h"

#ifndef IP_MINTTL
#define IP_MINTTL 21
#endif
#ifndef IPV6_MINHOPCOUNT
#define IPV6_MINHOPCOUNT 73
#endif

typedef struct {
  napi_env env;
  int fd;
  uv_poll_t *poll;
  napi_ref callback;  // function(errno, fd)
  napi_ref self;      // keeps the handle object alive while the connect is pending
  napi_async_context async;
  int done;
} tc_pending;

static napi_value tc_int(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

// Reads options.<name> as an int; 0 when absent, -1 when present but not a number.
static int opt_int(napi_env env, napi_value obj, const char *name, int64_t *out) {
  bool has = false;
  napi_value v;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok || !has) return 0;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) return -1;
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_undefined) return 0;
  return napi_get_value_int64(env, v, out) == napi_ok ? 1 : -1;
}

// Reads options.<name> as a string into buf; 0 when absent, -1 when not a string.
static int opt_str(napi_env env, napi_value obj, const char *name, char *buf, size_t size) {
  bool has = false;
  napi_value v;
  size_t len;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok || !has) return 0;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) return -1;
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_undefined) return 0;
  return napi_get_value_string_utf8(env, v, buf, size, &len) == napi_ok ? 1 : -1;
}

static void free_poll(uv_handle_t *h) { free(h); }

// Stops watching, drops the references; the fd is closed unless handed to JS.
static void tc_release(tc_pending *p, int close_fd) {
  p->done = 1;
  if (p->poll != NULL) {
    uv_poll_stop(p->poll);  // also removes the fd from epoll, so Node can watch it next
    p->poll->data = NULL;
    uv_close((uv_handle_t *)p->poll, free_poll);
    p->poll = NULL;
  }
  if (close_fd && p->fd >= 0) close(p->fd);
  p->fd = -1;
  napi_env env = p->env;
  if (p->callback) napi_delete_reference(env, p->callback);
  p->callback = NULL;
  if (p->async) napi_async_destroy(env, p->async);
  p->async = NULL;
  if (p->self) napi_delete_reference(env, p->self);
  p->self = NULL;
}

static void tc_finalize(napi_env env, void *data, void *hint) { free(data); }

static void on_writable(uv_poll_t *handle, int status, int events) {
  tc_pending *p = (tc_pending *)handle->data;
  if (p == NULL || p->done) return;
  napi_env env = p->env;
  int soerr = 0;
  socklen_t len = sizeof soerr;
  if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) soerr = errno;
  if (soerr == 0 && status < 0) soerr = EIO;
  int fd = p->fd;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb = NULL, recv, argv[2], result;
  napi_get_reference_value(env, p->callback, &cb);
  napi_async_context async = p->async;
  p->async = NULL;  // destroyed after the call
  tc_release(p, soerr != 0);
  argv[0] = tc_int(env, -soerr);
  argv[1] = tc_int(env, soerr == 0 ? fd : -1);
  napi_get_global(env, &recv);
  if (cb != NULL && napi_make_callback(env, async, recv, cb, 2, argv, &result) != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value exc;
      napi_get_and_clear_last_exception(env, &exc);
      napi_fatal_exception(env, exc);
    }
  }
  if (async) napi_async_destroy(env, async);
  napi_close_handle_scope(env, scope);
}

static napi_value tc_failed(napi_env env, int fd, int err, const char *stage) {
  if (fd >= 0) close(fd);
  napi_value out, s;
  napi_create_object(env, &out);
  napi_set_named_property(env, out, "errno", tc_int(env, -err));
  napi_create_string_utf8(env, stage, NAPI_AUTO_LENGTH, &s);
  napi_set_named_property(env, out, "stage", s);
  return out;
}

// tcpConnect({family, remoteAddress, remotePort, localAddress?, localPort?,
//             md5sig?: Buffer, ttl?, minTtl?}, callback(errno, fd))
//   -> {errno: 0} (a handle for tcpConnectCancel; callback follows once)
//    | {errno: -E, stage} (failed before connect() was under way; no callback)
napi_value tc_connect(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_valuetype t0 = napi_undefined, t1 = napi_undefined;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_typeof(env, argv[0], &t0) != napi_ok ||
      napi_typeof(env, argv[1], &t1) != napi_ok || t0 != napi_object || t1 != napi_function) {
    napi_throw_type_error(env, "EINVAL", "tcpConnect(options, callback)");
    return NULL;
  }
  napi_value o = argv[0];
  int64_t family = 0, rport = 0, lport = 0, ttl = 0, minttl = 0;
  char raddr[INET6_ADDRSTRLEN + 1] = {0}, laddr[INET6_ADDRSTRLEN + 1] = {0};
  int has_ttl, has_minttl, has_laddr;
  if (opt_int(env, o, "family", &family) != 1 || (family != 4 && family != 6) || opt_str(env, o, "remoteAddress", raddr, sizeof raddr) != 1 ||
      opt_int(env, o, "remotePort", &rport) != 1 || rport <= 0 || rport > 65535 || opt_int(env, o, "localPort", &lport) < 0 ||
      lport < 0 || lport > 65535 || (has_ttl = opt_int(env, o, "ttl", &ttl)) < 0 || (has_minttl = opt_int(env, o, "minTtl", &minttl)) < 0 ||
      (has_laddr = opt_str(env, o, "localAddress", laddr, sizeof laddr)) < 0) {
    napi_throw_type_error(env, "EINVAL", "tcpConnect: bad options");
    return NULL;
  }
  void *md5 = NULL;
  size_t md5len = 0;
  bool has_md5 = false;
  napi_has_named_property(env, o, "md5sig", &has_md5);
  if (has_md5) {
    napi_value v;
    napi_valuetype t;
    napi_get_named_property(env, o, "md5sig", &v);
    napi_typeof(env, v, &t);
    if (t != napi_undefined && napi_get_buffer_info(env, v, &md5, &md5len) != napi_ok) {
      napi_throw_type_error(env, "EINVAL", "tcpConnect: md5sig must be a Buffer");
      return NULL;
    }
  }

  struct sockaddr_storage remote, local;
  socklen_t slen = family == 4 ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
  memset(&remote, 0, sizeof remote);
  memset(&local, 0, sizeof local);
  if (family == 4) {
    struct sockaddr_in *r = (struct sockaddr_in *)&remote, *l = (struct sockaddr_in *)&local;
    r->sin_family = l->sin_family = AF_INET;
    r->sin_port = htons((uint16_t)rport);
    l->sin_port = htons((uint16_t)lport);
    if (inet_pton(AF_INET, raddr, &r->sin_addr) != 1 || (has_laddr == 1 && inet_pton(AF_INET, laddr, &l->sin_addr) != 1))
      return tc_failed(env, -1, EINVAL, "address");
  } else {
    struct sockaddr_in6 *r = (struct sockaddr_in6 *)&remote, *l = (struct sockaddr_in6 *)&local;
    r->sin6_family = l->sin6_family = AF_INET6;
    r->sin6_port = htons((uint16_t)rport);
    l->sin6_port = htons((uint16_t)lport);
    if (inet_pton(AF_INET6, raddr, &r->sin6_addr) != 1 || (has_laddr == 1 && inet_pton(AF_INET6, laddr, &l->sin6_addr) != 1))
      return tc_failed(env, -1, EINVAL, "address");
  }

  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) return tc_failed(env, -1, errno, "socket");
  // RFC 2385 §2: the key must be known before the SYN is sent.
  if (md5 != NULL && md5len > 0 && setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, md5, (socklen_t)md5len) < 0)
    return tc_failed(env, fd, errno, "md5");
  int v4 = family == 4;
  // RFC 5082 §3 (1): outgoing TTL / hop limit 255.
  if (has_ttl == 1 && setsockopt(fd, v4 ? IPPROTO_IP : IPPROTO_IPV6, v4 ? IP_TTL : IPV6_UNICAST_HOPS, &(int){(int)ttl}, sizeof(int)) < 0)
    return tc_failed(env, fd, errno, "ttl");
  // RFC 5082 §3 (2): drop what arrives below 256 - hops, the SYN-ACK included.
  if (has_minttl == 1 && setsockopt(fd, v4 ? IPPROTO_IP : IPPROTO_IPV6, v4 ? IP_MINTTL : IPV6_MINHOPCOUNT, &(int){(int)minttl}, sizeof(int)) < 0)
    return tc_failed(env, fd, errno, "minttl");
  if ((has_laddr == 1 || lport != 0) && bind(fd, (struct sockaddr *)&local, slen) < 0) return tc_failed(env, fd, errno, "bind");
  if (connect(fd, (struct sockaddr *)&remote, slen) < 0 && errno != EINPROGRESS) return tc_failed(env, fd, errno, "connect");

  uv_loop_t *loop = NULL;
  tc_pending *p = calloc(1, sizeof *p);
  uv_poll_t *poll = calloc(1, sizeof *poll);
  if (p == NULL || poll == NULL || napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init_socket(loop, poll, fd) != 0) {
    free(p);
    free(poll);
    return tc_failed(env, fd, ENOMEM, "poll");
  }
  p->env = env;
  p->fd = fd;
  p->poll = poll;
  poll->data = p;
  napi_value out, name;
  napi_create_object(env, &out);
  napi_set_named_property(env, out, "errno", tc_int(env, 0));
  napi_create_string_utf8(env, "bgp-ts:tcpConnect", NAPI_AUTO_LENGTH, &name);
  if (napi_wrap(env, out, p, tc_finalize, NULL, NULL) != napi_ok || napi_create_reference(env, argv[1], 1, &p->callback) != napi_ok ||
      napi_create_reference(env, out, 1, &p->self) != napi_ok || napi_async_init(env, NULL, name, &p->async) != napi_ok) {
    tc_release(p, 1);
    napi_throw_error(env, "ENAPI", "tcpConnect: N-API setup failed");
    return NULL;
  }
  uv_poll_start(poll, UV_WRITABLE, on_writable);
  return out;
}

// tcpConnectCancel(handle): abandons a pending connect and closes its fd; no callback follows.
napi_value tc_cancel(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  tc_pending *p = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_unwrap(env, argv[0], (void **)&p) != napi_ok ||
      p == NULL)
    return NULL;  // a failed attempt's result object: nothing to cancel
  if (!p->done) tc_release(p, 1);
  return NULL;
}
