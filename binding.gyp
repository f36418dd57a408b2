# The one native addon (DESIGN.md, Native code): AF_NETLINK socket and
# socket options by fd; UDP sockets that report the received TTL for BFD. Built by node-gyp at `npm ci` into build/Release/.
{
  "targets": [
    {
      "target_name": "bgpts_native",
      "sources": ["native/netlink.c", "native/sockopt.c", "native/tcpconnect.c", "native/udp.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [["OS!='linux'", {"sources!": ["native/netlink.c", "native/sockopt.c", "native/tcpconnect.c", "native/udp.c"]}]]
    }
  ]
}
