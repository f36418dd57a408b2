// Golden BGP messages shared by the wire tests, written out octet by octet.
import { hex } from '../../helpers/hex.js';

export const MARKER = 'ffffffff ffffffff ffffffff ffffffff';

export const KEEPALIVE_HEX = hex`
  ffffffff ffffffff ffffffff ffffffff   # marker
  0013                                  # length 19
  04                                    # type KEEPALIVE
`;

/** OPEN as BIRD/GoBGP send it: every capability in one optional parameter. */
export const REAL_OPEN = hex`
  ffffffff ffffffff ffffffff ffffffff   # marker
  0060                                  # length 96
  01                                    # type OPEN
  04                                    # version 4
  5ba0                                  # My AS 23456 = AS_TRANS (RFC 6793)
  005a                                  # hold time 90
  c0000201                              # BGP Identifier 192.0.2.1
  43                                    # optional parameters length 67
  02 41                                 # parameter type 2 (capabilities), length 65
    01 04 0001 00 01                    #   multiprotocol ipv4 unicast
    01 04 0002 00 01                    #   multiprotocol ipv6 unicast
    02 00                               #   route refresh
    46 00                               #   enhanced route refresh (70)
    06 00                               #   extended message
    41 04 fa56ea01                      #   4-octet AS 4200000001
    40 0a                               #   graceful restart, length 10
      4078                              #     N bit, restart time 120
      0001 01 80                        #     ipv4 unicast, forwarding state kept
      0002 01 00                        #     ipv6 unicast
    45 08                               #   ADD-PATH, length 8
      0001 01 03                        #     ipv4 unicast send+receive
      0002 01 01                        #     ipv6 unicast receive
    49 11                               #   FQDN (73), length 17
      06 6e6f64652d61                   #     hostname "node-a"
      09 6b38732e6c6f63616c             #     domain "k8s.local"
`;

/** The same capabilities as FRR bgpd sends them: one optional parameter per capability. */
export const FRR_STYLE_OPEN = hex`
  ${MARKER}                             # marker
  0070                                  # length 112
  01 04 5ba0 005a c0000201              # OPEN v4, AS_TRANS, hold 90, id 192.0.2.1
  53                                    # optional parameters length 83
  02 06 01 04 0001 00 01                # param: multiprotocol ipv4 unicast
  02 06 01 04 0002 00 01                # param: multiprotocol ipv6 unicast
  02 02 02 00                           # param: route refresh
  02 02 46 00                           # param: enhanced route refresh
  02 02 06 00                           # param: extended message
  02 06 41 04 fa56ea01                  # param: 4-octet AS 4200000001
  02 0c 40 0a 4078 0001 01 80 0002 01 00   # param: graceful restart
  02 0a 45 08 0001 01 03 0002 01 01     # param: ADD-PATH
  02 13 49 11 06 6e6f64652d61 09 6b38732e6c6f63616c   # param: FQDN node-a / k8s.local
`;

export const NOTIFICATION_SHUTDOWN = hex`
  ${MARKER}
  0021                                  # length 33
  03                                    # type NOTIFICATION
  06 02                                 # Cease / Administrative Shutdown
  0b 6d61696e74656e616e6365             # length 11, "maintenance"
`;

export const ROUTE_REFRESH_V6 = hex`
  ${MARKER}
  0017                                  # length 23
  05                                    # type ROUTE-REFRESH
  0002 00 01                            # AFI ipv6, subtype 0 (request), SAFI unicast
`;

export const UPDATE_V4 = hex`
  ${MARKER}
  0027                                  # length 39
  02                                    # type UPDATE
  0000                                  # withdrawn routes length 0
  000b                                  # path attributes length 11
  40 01 01 00                           # ORIGIN IGP
  40 03 04 c0000202                     # NEXT_HOP 192.0.2.2
  1a 0af40100                           # NLRI 10.244.1.0/26
`;
