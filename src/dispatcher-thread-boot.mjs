// The dispatcher thread's entry when the portal runs from TypeScript source (tsx): threads do not
// inherit tsx's loader, so register it here, then load the thread's module.
import { register } from "tsx/esm/api";

register();
await import("./dispatcher-thread-main.ts");
