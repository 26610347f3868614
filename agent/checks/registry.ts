import type { CheckPlugin } from "./check.ts";
import { dnsCheck } from "./dns.ts";
import { httpCheck, httpsCheck } from "./http.ts";
import { icmp } from "./icmp.ts";
import { tcp } from "./tcp.ts";
import { udp } from "./udp.ts";

/*
 * Every check type, by the `type` that selects it in `[[checks]]`. A new type is one file
 * exporting a CheckPlugin and one line here (see docs/checks.md).
 */
export const CHECK_PLUGINS: Readonly<Record<string, CheckPlugin<unknown>>> = Object.freeze({
  icmp,
  tcp,
  udp,
  http: httpCheck,
  https: httpsCheck,
  dns: dnsCheck,
});
