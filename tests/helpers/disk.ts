// The local store for tests that read and write workspace files by their full path: a LocalStore names
// files by path, so one rooted at "/" reaches any of them.
import { LocalStore } from "../../src/io/workspace/local-store.ts";

export const disk = new LocalStore("/");
