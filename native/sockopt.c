// Socket options by fd, so the BGP session shell can set TCP_MD5SIG (RFC 2385)
// and the GTSM TTL options (RFC 5082 §3: send with TTL 255, accept only
// TTL >= 255 - hops via IP_MINTTL) on the fd of a Node.js net.Socket.
#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sockopt.h"

static napi_value make_int(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

static int get_int(napi_env env, napi_value v, int64_t *out) {
  return napi_get_value_int64(env, v, out) == napi_ok;
}

#define CHECK(call)                                                \
  do {                                                             \
    if ((call) != napi_ok) {                                       \
      napi_throw_error(env, "ENAPI", "N-API call failed: " #call); \
      return NULL;                                                 \
    }                                                              \
  } while (0)

// setsockoptInt(fd, level, opt, value) -> 0 or -errno
napi_value sso_int(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  int64_t a[4] = {0};
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  for (size_t i = 0; i < 4; i++)
    if (i >= argc || !get_int(env, argv[i], &a[i])) {
      napi_throw_type_error(env, "EINVAL", "setsockoptInt(fd, level, opt, value)");
      return NULL;
    }
  int r = setsockopt((int)a[0], (int)a[1], (int)a[2], &(int){(int)a[3]}, sizeof(int));
  return make_int(env, r < 0 ? -errno : 0);
}

// setsockoptBuffer(fd, level, opt, buffer) -> 0 or -errno (e.g. struct tcp_md5sig)
napi_value sso_buf(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  int64_t a[3] = {0};
  void *data;
  size_t len;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  for (size_t i = 0; i < 3; i++)
    if (i >= argc || !get_int(env, argv[i], &a[i])) {
      napi_throw_type_error(env, "EINVAL", "setsockoptBuffer(fd, level, opt, buffer)");
      return NULL;
    }
  if (argc < 4 || napi_get_buffer_info(env, argv[3], &data, &len) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "setsockoptBuffer(fd, level, opt, buffer)");
    return NULL;
  }
  int r = setsockopt((int)a[0], (int)a[1], (int)a[2], data, (socklen_t)len);
  return make_int(env, r < 0 ? -errno : 0);
}

// getsockoptInt(fd, level, opt) -> value (>= 0 for the options we read) or -errno
napi_value gso_int(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int64_t a[3] = {0};
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  for (size_t i = 0; i < 3; i++)
    if (i >= argc || !get_int(env, argv[i], &a[i])) {
      napi_throw_type_error(env, "EINVAL", "getsockoptInt(fd, level, opt)");
      return NULL;
    }
  int value = 0;
  socklen_t len = sizeof value;
  int r = getsockopt((int)a[0], (int)a[1], (int)a[2], &value, &len);
  return make_int(env, r < 0 ? -errno : value);
}
