// Socket options by fd for BGP TCP sockets: TCP_MD5SIG (RFC 2385), IP_TTL /
// IP_MINTTL and IPV6_UNICAST_HOPS / IPV6_MINHOPCOUNT for GTSM (RFC 5082).
// Results are 0 / the value, or a negative errno; bad arguments throw TypeError.
#ifndef BGPTS_SOCKOPT_H
#define BGPTS_SOCKOPT_H
#include <node_api.h>

napi_value sso_int(napi_env env, napi_callback_info info);
napi_value sso_buf(napi_env env, napi_callback_info info);
napi_value gso_int(napi_env env, napi_callback_info info);
// tcpconnect.c: a TCP connect with MD5 / TTL options set before the SYN.
napi_value tc_connect(napi_env env, napi_callback_info info);
napi_value tc_cancel(napi_env env, napi_callback_info info);
// udp.c: UDP sockets for BFD that report the received TTL (RFC 5881 §5).
void udp_register(napi_env env, napi_value exports);

#endif
