import { workerData } from "piscina";
import { probe, trustContext } from "../../certs/probe.ts";
import { assertNever } from "../../../common/assert-never.ts";
import { type CertCheckerReply, type CertCheckerTask, type CertCheckerWorkerData } from "../protocol/messages.ts";
import { answerCollections } from "../runtime/collect-garbage.ts";

// The shell of the cert-checker actor: one trust store per thread, then a probe per task.
const settings = workerData as CertCheckerWorkerData;
answerCollections();
const secureContext = trustContext(settings.extraCaPem);

export { crashForTest } from "../runtime/thread-exit.ts";

export async function check(task: CertCheckerTask): Promise<CertCheckerReply> {
  switch (task.type) {
    case "probe":
      return { type: "probed", outcome: await probe(task, secureContext) };
    default:
      return assertNever(task.type);
  }
}
