/**
 * The one entry point to `@peculiar/x509` in this code base. The library resolves its algorithms through
 * tsyringe, which needs the Reflect metadata API before the library is loaded, and it needs a WebCrypto
 * provider. Import `x509` from here (never from "@peculiar/x509" directly) so both are always set up.
 */
import "reflect-metadata";
import * as crypto from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(crypto.webcrypto);

export { x509 };
