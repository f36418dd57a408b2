// UDP sockets for BFD (RFC 5881): Node's dgram can neither report the TTL /
// hop limit a datagram arrived with nor be read from a worker without its
// own event loop turns, so the BFD shell uses these. A socket is bound to an
// address and port (IPv6 sockets are IPV6_V6ONLY), sends with IP_TTL /
// IPV6_UNICAST_HOPS set (RFC 5881 §5: 255), and when asked turns on
// IP_RECVTTL / IPV6_RECVHOPLIMIT so each received datagram is handed to JS
// with its TTL, for the GTSM check of RFC 5881 §5 (RFC 5082). The poll
// watcher runs on the loop of the thread that opened the socket (a worker's).
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "sockopt.h"

// Datagrams handed to JS per readable event before yielding back to libuv.
#define MAX_DGRAMS_PER_EVENT 64
#define DGRAM_BUF 2048

typedef struct {
  int fd;
  int family;
  napi_env env;
  uv_poll_t *poll;
  napi_ref on_message;  // function(buffer, address, port, ttl) or NULL (send-only)
  napi_async_context async;
  int closed;
  int finalized;
} udp_socket;

#define CHECK(call)                                                \
  do {                                                             \
    if ((call) != napi_ok) {                                       \
      napi_throw_error(env, "ENAPI", "N-API call failed: " #call); \
      return NULL;                                                 \
    }                                                              \
  } while (0)

static napi_value make_int(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

static udp_socket *unwrap(napi_env env, napi_value obj) {
  udp_socket *s = NULL;
  if (napi_unwrap(env, obj, (void **)&s) != napi_ok || s == NULL) {
    napi_throw_type_error(env, "EINVAL", "not a UDP socket handle");
    return NULL;
  }
  return s;
}

// Parses "a.b.c.d" / "x::y" into a sockaddr of the socket's family.
static int to_sockaddr(int family, const char *text, int port, struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  if (family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    *len = sizeof *a;
    return inet_pton(AF_INET, text, &a->sin_addr) == 1;
  }
  struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
  a->sin6_family = AF_INET6;
  a->sin6_port = htons((uint16_t)port);
  *len = sizeof *a;
  // A zone ("fe80::1%eth0") is not supported: single-hop BFD peers by global or ULA address here.
  return inet_pton(AF_INET6, text, &a->sin6_addr) == 1;
}

static int get_string(napi_env env, napi_value v, char *buf, size_t size) {
  size_t n = 0;
  return napi_get_value_string_utf8(env, v, buf, size, &n) == napi_ok && n > 0 && n < size - 1;
}

static int get_named_int(napi_env env, napi_value obj, const char *name, int64_t *out) {
  bool has = false;
  napi_value v;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok || !has) return 0;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) return 0;
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_number) return 0;
  return napi_get_value_int64(env, v, out) == napi_ok;
}

// ------------------------------------------------------------------ receive

static void on_readable(uv_poll_t *handle, int status, int events) {
  udp_socket *s = (udp_socket *)handle->data;
  (void)events;
  if (s == NULL || s->closed || s->on_message == NULL) return;
  napi_env env = s->env;
  if (status < 0) {
    // A pending socket error (e.g. ICMP port unreachable reflected as ECONNREFUSED
    // on some paths): clear it and keep watching.
    int soerr = 0;
    socklen_t len = sizeof soerr;
    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
    uv_poll_start(s->poll, UV_READABLE, on_readable);
  }
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  unsigned char buf[DGRAM_BUF];
  for (int n = 0; n < MAX_DGRAMS_PER_EVENT && !s->closed; n++) {
    struct sockaddr_storage from;
    union {
      char space[CMSG_SPACE(sizeof(int)) * 4];
      struct cmsghdr align;
    } control;
    struct iovec iov = {buf, sizeof buf};
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.space;
    msg.msg_controllen = sizeof control.space;
    ssize_t r = recvmsg(s->fd, &msg, MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;  // EAGAIN (drained) or a transient error: the poll resumes us
    }
    int ttl = -1;  // -1: the kernel gave no TTL (never with RECVTTL on)
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
      if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
          (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT))
        memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
    }
    char addr[INET6_ADDRSTRLEN] = "";
    int port = 0;
    if (from.ss_family == AF_INET) {
      struct sockaddr_in *a = (struct sockaddr_in *)&from;
      inet_ntop(AF_INET, &a->sin_addr, addr, sizeof addr);
      port = ntohs(a->sin_port);
    } else if (from.ss_family == AF_INET6) {
      struct sockaddr_in6 *a = (struct sockaddr_in6 *)&from;
      inet_ntop(AF_INET6, &a->sin6_addr, addr, sizeof addr);
      port = ntohs(a->sin6_port);
    }
    napi_value cb, recv, argv[4], result;
    void *data;
    if (napi_get_reference_value(env, s->on_message, &cb) != napi_ok || cb == NULL) break;
    napi_get_global(env, &recv);
    if (napi_create_buffer_copy(env, (size_t)r, buf, &data, &argv[0]) != napi_ok) break;
    napi_create_string_utf8(env, addr, NAPI_AUTO_LENGTH, &argv[1]);
    argv[2] = make_int(env, port);
    argv[3] = make_int(env, ttl);
    if (napi_make_callback(env, s->async, recv, cb, 4, argv, &result) != napi_ok) {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) {
        napi_value exc;
        napi_get_and_clear_last_exception(env, &exc);
        napi_fatal_exception(env, exc);
      }
      break;
    }
  }
  napi_close_handle_scope(env, scope);
}

// ------------------------------------------------------------------ lifecycle

static void poll_closed(uv_handle_t *h) {
  udp_socket *s = (udp_socket *)h->data;
  free(h);
  if (s == NULL) return;
  s->poll = NULL;
  if (s->finalized) free(s);
}

static void shut(napi_env env, udp_socket *s) {
  if (s->closed) return;
  s->closed = 1;
  if (s->poll != NULL) {
    uv_poll_stop(s->poll);
    uv_close((uv_handle_t *)s->poll, poll_closed);
  }
  close(s->fd);
  s->fd = -1;
  if (s->on_message != NULL) napi_delete_reference(env, s->on_message);
  s->on_message = NULL;
  napi_async_destroy(env, s->async);
}

static void finalize_socket(napi_env env, void *data, void *hint) {
  (void)hint;
  udp_socket *s = (udp_socket *)data;
  shut(env, s);
  s->finalized = 1;
  if (s->poll == NULL) free(s);
}

static napi_value throw_errno(napi_env env, int err, const char *stage) {
  napi_value msg, code, e, st;
  char text[256];
  snprintf(text, sizeof text, "%s: %s", stage, strerror(-err));
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
  napi_create_string_utf8(env, "EUDP", NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, msg, &e);
  napi_set_named_property(env, e, "errno", make_int(env, err));
  napi_create_string_utf8(env, stage, NAPI_AUTO_LENGTH, &st);
  napi_set_named_property(env, e, "stage", st);
  napi_throw(env, e);
  return NULL;
}

// udpOpen({ family: 4|6, address, port, ttl?, recvTtl? }, onMessage?) -> { fd, port }
//   throws TypeError on malformed options, an Error with .errno and .stage on a system failure.
static napi_value udp_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t family = 0, port = -1, ttl = 0, recv_ttl = 0;
  char address[INET6_ADDRSTRLEN + 1];
  napi_value v;
  bool has = false;
  if (argc < 1 || !get_named_int(env, argv[0], "family", &family) || (family != 4 && family != 6) ||
      !get_named_int(env, argv[0], "port", &port) || port < 0 || port > 65535 ||
      napi_get_named_property(env, argv[0], "address", &v) != napi_ok || !get_string(env, v, address, sizeof address)) {
    napi_throw_type_error(env, "EINVAL", "udpOpen({ family: 4 | 6, address, port, ttl?, recvTtl? }, onMessage?)");
    return NULL;
  }
  get_named_int(env, argv[0], "ttl", &ttl);
  if (napi_has_named_property(env, argv[0], "recvTtl", &has) == napi_ok && has) {
    bool b = false;
    napi_get_named_property(env, argv[0], "recvTtl", &v);
    if (napi_get_value_bool(env, v, &b) == napi_ok) recv_ttl = b;
  }
  napi_valuetype cbtype = napi_undefined;
  if (argc >= 2) napi_typeof(env, argv[1], &cbtype);
  int af = family == 4 ? AF_INET : AF_INET6;
  struct sockaddr_storage ss;
  socklen_t slen;
  if (!to_sockaddr(af, address, (int)port, &ss, &slen)) {
    napi_throw_type_error(env, "EINVAL", "udpOpen: address is not an IP address of the family");
    return NULL;
  }
  int fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, -errno, "socket");
  int one = 1, err = 0;
  const char *stage = "";
  if (af == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) err = -errno, stage = "v6only";
  if (!err && cbtype == napi_function && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
    err = -errno, stage = "reuseaddr";
  if (!err && ttl > 0) {
    int t = (int)ttl;
    int r = af == AF_INET ? setsockopt(fd, IPPROTO_IP, IP_TTL, &t, sizeof t)
                          : setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &t, sizeof t);
    if (r < 0) err = -errno, stage = "ttl";
  }
  if (!err && recv_ttl) {
    int r = af == AF_INET ? setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &one, sizeof one)
                          : setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one);
    if (r < 0) err = -errno, stage = "recvttl";
  }
  if (!err && bind(fd, (struct sockaddr *)&ss, slen) < 0) err = -errno, stage = "bind";
  struct sockaddr_storage bound;
  socklen_t blen = sizeof bound;
  if (!err && getsockname(fd, (struct sockaddr *)&bound, &blen) < 0) err = -errno, stage = "getsockname";
  if (err) {
    close(fd);
    return throw_errno(env, err, stage);
  }
  int bound_port = bound.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&bound)->sin_port)
                                              : ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);

  udp_socket *s = calloc(1, sizeof *s);
  s->fd = fd;
  s->family = af;
  s->env = env;
  napi_value handle, name;
  CHECK(napi_create_object(env, &handle));
  CHECK(napi_create_string_utf8(env, "bgp-ts:udp", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, handle, name, &s->async));
  if (cbtype == napi_function) {
    CHECK(napi_create_reference(env, argv[1], 1, &s->on_message));
    s->poll = malloc(sizeof(uv_poll_t));
    struct uv_loop_s *loop;
    CHECK(napi_get_uv_event_loop(env, &loop));
    uv_poll_init(loop, s->poll, fd);
    s->poll->data = s;
    uv_poll_start(s->poll, UV_READABLE, on_readable);
  }
  CHECK(napi_wrap(env, handle, s, finalize_socket, NULL, NULL));
  napi_set_named_property(env, handle, "fd", make_int(env, fd));
  napi_set_named_property(env, handle, "port", make_int(env, bound_port));
  return handle;
}

// udpSend(handle, buffer, address, port) -> bytes sent or -errno (never blocks)
static napi_value udp_send(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) {
    napi_throw_type_error(env, "EINVAL", "udpSend(handle, buffer, address, port)");
    return NULL;
  }
  udp_socket *s = unwrap(env, argv[0]);
  if (s == NULL) return NULL;
  if (s->closed) return make_int(env, -EBADF);
  void *data;
  size_t len;
  char address[INET6_ADDRSTRLEN + 1];
  int64_t port = 0;
  if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok || !get_string(env, argv[2], address, sizeof address) ||
      napi_get_value_int64(env, argv[3], &port) != napi_ok || port <= 0 || port > 65535) {
    napi_throw_type_error(env, "EINVAL", "udpSend(handle, buffer, address, port)");
    return NULL;
  }
  struct sockaddr_storage to;
  socklen_t tlen;
  if (!to_sockaddr(s->family, address, (int)port, &to, &tlen)) return make_int(env, -EAFNOSUPPORT);
  ssize_t r;
  do r = sendto(s->fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&to, tlen);
  while (r < 0 && errno == EINTR);
  return make_int(env, r < 0 ? -errno : r);
}

static napi_value udp_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  udp_socket *s = unwrap(env, argv[0]);
  if (s == NULL) return NULL;
  shut(env, s);
  return NULL;
}

void udp_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"udpOpen", NULL, udp_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpSend", NULL, udp_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpClose", NULL, udp_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
