import test from "ava";
import { plainSanNames, withoutSanPrefix } from "../server/certs/san-names.ts";

test("SANs are plain names, as the reference shows them: DNS and IP entries, a quoted name with a comma", (t) => {
  t.deepEqual(plainSanNames('DNS:example.com, DNS:www.example.com, IP Address:10.0.0.1, IP Address:2001:DB8:0:0:0:0:0:1, DNS:"odd,name.test"'),
    ["example.com", "www.example.com", "10.0.0.1", "2001:DB8:0:0:0:0:0:1", "odd,name.test"]);
  t.deepEqual(plainSanNames(undefined), []);
  t.deepEqual(plainSanNames(""), []);
});

test("records stored with prefixes before this change are shown plain; plain ones stay as they are", (t) => {
  t.deepEqual(withoutSanPrefix(["DNS:a.test", "IP Address:::1", "b.test", "2001:db8::1"]), ["a.test", "::1", "b.test", "2001:db8::1"]);
});
