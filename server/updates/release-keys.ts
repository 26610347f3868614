import { createPrivateKey, createPublicKey, sign, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { parsePublicKey, signedText } from "../../common/agent-release.ts";

/** The server's release keys, from `[updates]`: either, both or neither may be set. */
export interface ReleaseKeys {
  /** Signs a release's signed text (base64); undefined without `signing_key_file`. */
  sign: ((version: string, sha256: string, size: number) => string) | undefined;
  /** Checks pre-signed uploads: `public_key_file`, else the signing key's public half. */
  publicKey: KeyObject | undefined;
}

/** Reads the key files named in `[updates]`; throws naming the file and what is wrong with it. */
export function loadReleaseKeys(settings: { signing_key_file?: string | undefined; public_key_file?: string | undefined }): ReleaseKeys {
  let privateKey: KeyObject | undefined;
  if (settings.signing_key_file) {
    const file = settings.signing_key_file;
    try {
      privateKey = createPrivateKey(readFileSync(file));
    } catch (err) {
      throw new Error(`updates.signing_key_file ${file}: cannot read a PEM private key (${(err as Error).message}); make one with: openssl genpkey -algorithm ed25519 -out ${file}`);
    }
    if (privateKey.asymmetricKeyType !== "ed25519") throw new Error(`updates.signing_key_file ${file}: an ${privateKey.asymmetricKeyType} key; release signatures are ed25519 (openssl genpkey -algorithm ed25519)`);
  }
  let publicKey: KeyObject | undefined = privateKey ? createPublicKey(privateKey) : undefined;
  if (settings.public_key_file) {
    const file = settings.public_key_file;
    try {
      publicKey = parsePublicKey(readFileSync(file, "utf8"));
    } catch (err) {
      throw new Error(`updates.public_key_file ${file}: ${(err as Error).message}`);
    }
  }
  const key = privateKey;
  return {
    sign: key ? (version, sha256, size) => sign(null, signedText(version, sha256, size), key).toString("base64") : undefined,
    publicKey,
  };
}
